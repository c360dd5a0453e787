using Backprop.Autograd;
using Backprop.Kernels.Recurrent;
using Backprop.Ops.Recurrent;
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
[Trait("Category", "Kernels")] // run again with SIMD off: the scalar tiles and lanes end to end
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

    /// <summary>
    /// The per-step meeting of the threads, many times over: a long sequence on 2 threads, run again and again
    /// (the partner's timing differs from run to run, so some waits end in the spin and some asleep), must give
    /// the one-thread bits every time, forward and backward.
    /// </summary>
    [Theory]
    [InlineData(Cell.Lstm)]
    [InlineData(Cell.Gru)]
    public void Fused_TwoThreads_RepeatedRuns_AreBitIdenticalToOneThread(Cell cell)
    {
        const int input = 16, hidden = 70, batch = 9, steps = 40;
        var net = Make(cell, input, hidden, 1, false, false, DType.Float32, 13);
        Tensor x = Tensor.Uniform([steps, batch, input], -1, 1, DType.Float32, new Generator(14));
        Tensor h0 = Tensor.Uniform([1, batch, hidden], -1, 1, DType.Float32, new Generator(15));
        Tensor c0 = Tensor.Uniform([1, batch, hidden], -1, 1, DType.Float32, new Generator(16));
        List<double[]> one = ThreadsCollection.With(1, () => Run(net, x, h0, c0, null, fused: true));
        for (int run = 0; run < 25; run++)
        {
            List<double[]> two = ThreadsCollection.With(2, () => Run(net, x, h0, c0, null, fused: true));
            Assert.Equal(one.Count, two.Count);
            for (int i = 0; i < one.Count; i++) Assert.Equal(one[i], two[i]);
        }
    }
}

/// <summary>The fused node alone: gradient checks (float64 central differences) of every input, first and second order, and its errors.</summary>
public class RecurrenceNodeTests
{
    private static Tensor[] Inputs(RecurrentCellKind kind, int input, int hidden, int batch, int steps, bool batchFirst, int seed)
    {
        int g = RecurrenceDriver.Gates(kind);
        var list = new List<Tensor>
        {
            T.Uniform(seed, -1, 1, batchFirst ? [batch, steps, input] : [steps, batch, input]),
            T.Uniform(seed + 1, -1, 1, batch, hidden),
            T.Uniform(seed + 2, -1, 1, batch, hidden),
            T.Uniform(seed + 3, -0.7, 0.7, g * hidden, input),
            T.Uniform(seed + 4, -0.7, 0.7, g * hidden, hidden),
            T.Uniform(seed + 5, -0.5, 0.5, g * hidden),
            T.Uniform(seed + 6, -0.5, 0.5, g * hidden),
        };
        return [.. list];
    }

    public static TheoryData<RecurrenceTests.Cell, bool, bool, bool> Cases()
    {
        var data = new TheoryData<RecurrenceTests.Cell, bool, bool, bool>();
        foreach (RecurrenceTests.Cell kind in Enum.GetValues<RecurrenceTests.Cell>())
        {
            data.Add(kind, false, false, false);
            data.Add(kind, true, true, false);
            data.Add(kind, false, true, true);
            data.Add(kind, true, false, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradCheck_EveryInput(RecurrenceTests.Cell cell, bool batchFirst, bool reverse, bool withLengths)
    {
        var kind = (RecurrentCellKind)(int)cell;
        const int input = 3, hidden = 4, batch = 3, steps = 4;
        int[]? lengths = withLengths ? [2, 4, 1] : null;
        Tensor[] inputs = Inputs(kind, input, hidden, batch, steps, batchFirst, 40);
        if (kind == RecurrentCellKind.RnnRelu) inputs[5] = (inputs[5].Detach() + 0.3).RequireGrad(); // keep pre-activations off the kink
        bool lstm = kind == RecurrentCellKind.Lstm;
        GradCheck.Verify(t => RecurrenceNode.Forward(kind, t[0], t[1], lstm ? t[2] : null, t[3], t[4], t[5], t[6], lengths, batchFirst, reverse), inputs);
    }

    [Theory]
    [InlineData(RecurrenceTests.Cell.Lstm, false)]
    [InlineData(RecurrenceTests.Cell.Gru, true)]
    [InlineData(RecurrenceTests.Cell.RnnTanh, true)]
    public void SecondOrder_ThroughTheRecordedBackward(RecurrenceTests.Cell cell, bool withLengths)
    {
        var kind = (RecurrentCellKind)(int)cell;
        const int input = 2, hidden = 3, batch = 2, steps = 3;
        int[]? lengths = withLengths ? [3, 1] : null;
        Tensor[] inputs = Inputs(kind, input, hidden, batch, steps, false, 60);
        bool lstm = kind == RecurrentCellKind.Lstm;
        GradCheck.VerifySecondOrder(t => RecurrenceNode.Forward(kind, t[0], t[1], lstm ? t[2] : null, t[3], t[4], t[5], t[6], lengths, false, true), inputs);
    }

    [Fact]
    public void RecordedBackward_RunsNothingUpstreamTwice_AndStaysDifferentiableThroughIt()
    {
        Tensor[] inputs = Inputs(RecurrentCellKind.Gru, 2, 3, 2, 3, false, 70);
        int hookRuns = 0;
        Tensor Run(Tensor[] t, bool countHook)
        {
            Tensor x = t[0].Tanh() * 1.5;                               // an op upstream of the fused node
            if (countHook) x.RegisterHook(g => { hookRuns++; return null; });
            return RecurrenceNode.Forward(RecurrentCellKind.Gru, x, t[1], null, t[3], t[4], t[5], t[6], null, false, false);
        }
        Tensor y = Run(inputs, countHook: true);
        Tensor[] grads = Gradients.Grad([(y * y).Sum()], [inputs[0], inputs[3]], createGraph: true)!;
        Assert.Equal(1, hookRuns);
        Assert.NotNull(grads[0]!.GradFn);
        GradCheck.VerifySecondOrder(t => Run(t, countHook: false), inputs);
    }

    [Fact]
    public void PaddedInputs_GetZeroGradient_AndNaNThereChangesNothing()
    {
        Tensor[] inputs = Inputs(RecurrentCellKind.Lstm, 3, 4, 3, 4, true, 80);
        int[] lengths = [2, 4, 1];
        Tensor Run(Tensor x) => RecurrenceNode.Forward(RecurrentCellKind.Lstm, x, inputs[1], inputs[2], inputs[3], inputs[4], inputs[5], inputs[6], lengths, true, false);
        Tensor y = Run(inputs[0]);
        y.Backward(Tensor.OnesLike(y));
        double[] dx = inputs[0].Grad!.ToDoubleArray();
        Tensor poisoned = inputs[0].Detach().Clone();
        for (int b = 0; b < 3; b++)
            for (int t = lengths[b]; t < 4; t++)
                poisoned.Select(0, b).Select(0, t).FillInPlace(double.NaN);
        poisoned.RequireGrad();
        Tensor y2 = Run(poisoned);
        Assert.Equal(y.ToDoubleArray(), y2.ToDoubleArray());
        y2.Backward(Tensor.OnesLike(y2));
        Assert.Equal(dx, poisoned.Grad!.ToDoubleArray());
        for (int b = 0; b < 3; b++)
            for (int t = lengths[b]; t < 4; t++)
                Assert.All(inputs[0].Grad!.Select(0, b).Select(0, t).ToDoubleArray(), v => Assert.Equal(0.0, v));
        foreach (Tensor w in inputs.Skip(1)) Assert.True(w.Grad!.ToDoubleArray().All(double.IsFinite));
    }
}
