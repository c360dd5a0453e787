using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Recurrent;

/// <summary>
/// The fused recurrent op (one node per layer and direction) against the same layers run step by step
/// with differentiable ops: outputs, final states and every gradient, in float64 to 1e-12, for every
/// cell, both layouts, both directions, several layers, with and without lengths, and on 1–3 threads.
/// </summary>
[Collection(ThreadsCollection.Name)]
public class RecurrenceTests
{
    public enum Cell { RnnTanh, RnnRelu, Lstm, Gru }

    private static RecurrentLayer Make(Cell cell, int input, int hidden, int layers, bool bidirectional, bool batchFirst, DType dtype, ulong seed)
    {
        var g = new Generator(seed);
        return cell switch
        {
            Cell.RnnTanh => new Rnn(input, hidden, layers, "tanh", batchFirst: batchFirst, bidirectional: bidirectional, generator: g, dtype: dtype),
            Cell.RnnRelu => new Rnn(input, hidden, layers, "relu", batchFirst: batchFirst, bidirectional: bidirectional, generator: g, dtype: dtype),
            Cell.Lstm => new Lstm(input, hidden, layers, batchFirst: batchFirst, bidirectional: bidirectional, generator: g, dtype: dtype),
            _ => new Gru(input, hidden, layers, batchFirst: batchFirst, bidirectional: bidirectional, generator: g, dtype: dtype),
        };
    }

    /// <summary>Runs the layer and returns output, h, c and the gradients of a fixed weighted sum of them w.r.t. every parameter, the input, h0 and c0.</summary>
    internal static List<double[]> Run(RecurrentLayer net, Tensor x, Tensor h0, Tensor c0, long[]? lengths, bool fused)
    {
        net.Fused = fused;
        net.ZeroGrad();
        Tensor xs = x.Detach().Clone().RequireGrad(), hs = h0.Detach().Clone().RequireGrad(), cs = c0.Detach().Clone().RequireGrad();
        Tensor output, h;
        Tensor? c = null;
        switch (net)
        {
            case Lstm lstm:
                var r = lstm.Forward(xs, (hs, cs), lengths);
                (output, h, c) = (r.Output, r.State.H, r.State.C);
                break;
            case Gru gru:
                (output, h) = gru.Forward(xs, hs, lengths);
                break;
            default:
                (output, h) = ((Rnn)net).Forward(xs, hs, lengths);
                break;
        }
        Tensor loss = (output * Weights(output, 21)).Sum() + (h * Weights(h, 22)).Sum();
        if (c is not null) loss = loss + (c * Weights(c, 23)).Sum();
        loss.Backward();
        var result = new List<double[]> { output.ToDoubleArray(), h.ToDoubleArray(), xs.Grad!.ToDoubleArray(), hs.Grad!.ToDoubleArray() };
        if (c is not null) result.AddRange([c.ToDoubleArray(), cs.Grad!.ToDoubleArray()]);
        foreach (Parameter p in net.Parameters()) result.Add(p.Grad!.ToDoubleArray());
        return result;
    }

    private static Tensor Weights(Tensor like, double seed) => SineFill.Tensor(seed, like.Shape.ToArray()).To(like.DType);

    public static TheoryData<Cell, int, bool, bool, bool> Configurations()
    {
        var data = new TheoryData<Cell, int, bool, bool, bool>();
        foreach (Cell cell in Enum.GetValues<Cell>())
        {
            data.Add(cell, 1, false, false, false);
            data.Add(cell, 1, true, true, false);
            data.Add(cell, 2, true, false, true);
            data.Add(cell, 2, false, true, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Fused_MatchesStepByStep_Float64(Cell cell, int layers, bool bidirectional, bool batchFirst, bool withLengths)
    {
        const int input = 11, hidden = 37, batch = 7, steps = 6;
        int directions = bidirectional ? 2 : 1;
        var net = Make(cell, input, hidden, layers, bidirectional, batchFirst, DType.Float64, 5);
        Tensor x = Tensor.Uniform(batchFirst ? [batch, steps, input] : [steps, batch, input], -1, 1, DType.Float64, new Generator(6));
        Tensor h0 = Tensor.Uniform([layers * directions, batch, hidden], -1, 1, DType.Float64, new Generator(7));
        Tensor c0 = Tensor.Uniform([layers * directions, batch, hidden], -1, 1, DType.Float64, new Generator(8));
        long[]? lengths = withLengths ? [6, 1, 3, 6, 2, 5, 4] : null;
        var composite = Run(net, x, h0, c0, lengths, fused: false);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            List<double[]> fused = null!;
            ThreadsCollection.With(threads, () => fused = Run(net, x, h0, c0, lengths, fused: true));
            Assert.Equal(composite.Count, fused.Count);
            for (int i = 0; i < fused.Count; i++)
                T.Close(composite[i], fused[i], 1e-12);
        }
    }

    [Theory]
    [InlineData(Cell.Lstm)]
    [InlineData(Cell.Gru)]
    [InlineData(Cell.RnnTanh)]
    public void Fused_IsBitIdenticalOnAnyThreadCount_Float32(Cell cell)
    {
        const int input = 24, hidden = 70, batch = 13, steps = 5;
        var net = Make(cell, input, hidden, 1, true, true, DType.Float32, 9);
        Tensor x = Tensor.Uniform([batch, steps, input], -1, 1, DType.Float32, new Generator(10));
        Tensor h0 = Tensor.Uniform([2, batch, hidden], -1, 1, DType.Float32, new Generator(11));
        Tensor c0 = Tensor.Uniform([2, batch, hidden], -1, 1, DType.Float32, new Generator(12));
        List<double[]> one = null!, two = null!, three = null!;
        ThreadsCollection.With(1, () => one = Run(net, x, h0, c0, [5, 3, 1, 5, 4, 2, 5, 5, 1, 2, 3, 4, 5], fused: true));
        ThreadsCollection.With(2, () => two = Run(net, x, h0, c0, [5, 3, 1, 5, 4, 2, 5, 5, 1, 2, 3, 4, 5], fused: true));
        ThreadsCollection.With(3, () => three = Run(net, x, h0, c0, [5, 3, 1, 5, 4, 2, 5, 5, 1, 2, 3, 4, 5], fused: true));
        var composite = Run(net, x, h0, c0, [5, 3, 1, 5, 4, 2, 5, 5, 1, 2, 3, 4, 5], fused: false);
        for (int i = 0; i < one.Count; i++)
        {
            Assert.Equal(one[i], two[i]);
            Assert.Equal(one[i], three[i]);
            T.Close(composite[i], one[i], 2e-4);
        }
    }
}
