using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.NN.Layers.Fixtures;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>
/// Rnn (tanh, ReLU), Lstm and Gru, fused and step by step, and their cells, against torch.nn in float64
/// (Fixtures/recurrent_reference.py, Debian python3-torch): outputs, final states and the gradients of
/// every parameter, the input, h0 and c0, for 1 layer, 1 layer bidirectional with lengths, 2 layers
/// bidirectional, and 2 layers bidirectional with lengths (PyTorch: pack_padded_sequence with
/// enforce_sorted=False, then pad_packed_sequence with total_length = seq).
/// </summary>
public class RecurrentReferenceTests
{
    private const int I = 3, H = 3, B = 3, S = 4;
    private static readonly long[] Lengths = [2, 4, 1];

    public static TheoryData<string, string, bool> Layers()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (string kind in new[] { "rnn_tanh", "rnn_relu", "lstm", "gru" })
            foreach (string config in new[] { "one_layer", "bidirectional_lengths", "two_layers_bidirectional", "two_layers_bidirectional_lengths" })
                foreach (bool fused in new[] { true, false })
                    data.Add(kind, config, fused);
        return data;
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Layer_MatchesPyTorch_ValuesAndEveryGradient(string kind, string config, bool fused)
    {
        var (layers, bidirectional, batchFirst, lengths) = config switch
        {
            "one_layer" => (1, false, false, (long[]?)null),
            "bidirectional_lengths" => (1, true, true, Lengths),
            "two_layers_bidirectional" => (2, true, true, null),
            _ => (2, true, false, Lengths),
        };
        RecurrentLayer net = kind switch
        {
            "rnn_tanh" => new Rnn(I, H, layers, "tanh", batchFirst: batchFirst, bidirectional: bidirectional, dtype: DType.Float64),
            "rnn_relu" => new Rnn(I, H, layers, "relu", batchFirst: batchFirst, bidirectional: bidirectional, dtype: DType.Float64),
            "lstm" => new Lstm(I, H, layers, batchFirst: batchFirst, bidirectional: bidirectional, dtype: DType.Float64),
            _ => new Gru(I, H, layers, batchFirst: batchFirst, bidirectional: bidirectional, dtype: DType.Float64),
        };
        SineFill.Parameters(net);
        net.Fused = fused;
        int states = layers * (bidirectional ? 2 : 1);
        Tensor x = SineFill.Tensor(1.0, batchFirst ? [B, S, I] : [S, B, I]).RequireGrad();
        Tensor h0 = SineFill.Tensor(2.0, states, B, H).RequireGrad(), c0 = SineFill.Tensor(3.0, states, B, H).RequireGrad();
        Tensor output, h;
        Tensor? c = null;
        if (net is Lstm lstm)
        {
            var r = lstm.Forward(x, (h0, c0), lengths);
            (output, h, c) = (r.Output, r.State.H, r.State.C);
        }
        else if (net is Gru gru) (output, h) = gru.Forward(x, h0, lengths);
        else (output, h) = ((Rnn)net).Forward(x, h0, lengths);
        Tensor loss = (output * SineFill.Tensor(21.0, output.Shape.ToArray())).Sum() + (h * SineFill.Tensor(22.0, h.Shape.ToArray())).Sum();
        if (c is not null) loss = loss + (c * SineFill.Tensor(23.0, c.Shape.ToArray())).Sum();
        loss.Backward();

        string key = $"{kind}/{config}";
        Expect(key, "output", output);
        Expect(key, "h", h);
        Expect(key, "grad/input", x.Grad!);
        Expect(key, "grad/h0", h0.Grad!);
        if (c is not null)
        {
            Expect(key, "c", c);
            Expect(key, "grad/c0", c0.Grad!);
        }
        foreach (var (name, p) in net.NamedParameters())
            Expect(key, "grad/" + name, p!.Grad!);
    }

    [Theory]
    [InlineData("rnn_cell_tanh")]
    [InlineData("rnn_cell_relu")]
    [InlineData("lstm_cell")]
    [InlineData("gru_cell")]
    public void Cell_MatchesPyTorch_ValuesAndEveryGradient(string kind)
    {
        const int ci = 3, ch = 2, cb = 2;
        Tensor x = SineFill.Tensor(1.0, cb, ci).RequireGrad(), h0 = SineFill.Tensor(2.0, cb, ch).RequireGrad(), c0 = SineFill.Tensor(3.0, cb, ch).RequireGrad();
        RecurrentCell cell;
        Tensor h;
        Tensor? c = null;
        switch (kind)
        {
            case "lstm_cell":
                var lstm = SineFill.Parameters(new LstmCell(ci, ch, dtype: DType.Float64));
                (h, c) = lstm.Forward(x, (h0, c0));
                cell = lstm;
                break;
            case "gru_cell":
                var gru = SineFill.Parameters(new GruCell(ci, ch, dtype: DType.Float64));
                h = gru.Forward(x, h0);
                cell = gru;
                break;
            default:
                var rnn = SineFill.Parameters(new RnnCell(ci, ch, nonlinearity: kind == "rnn_cell_relu" ? "relu" : "tanh", dtype: DType.Float64));
                h = rnn.Forward(x, h0);
                cell = rnn;
                break;
        }
        Tensor loss = (h * SineFill.Tensor(22.0, h.Shape.ToArray())).Sum();
        if (c is not null) loss = loss + (c * SineFill.Tensor(23.0, c.Shape.ToArray())).Sum();
        loss.Backward();
        Expect(kind, "h", h);
        Expect(kind, "grad/input", x.Grad!);
        Expect(kind, "grad/h0", h0.Grad!);
        if (c is not null)
        {
            Expect(kind, "c", c);
            Expect(kind, "grad/c0", c0.Grad!);
        }
        foreach (var (name, p) in cell.NamedParameters())
            Expect(kind, "grad/" + name, p!.Grad!);
    }

    private static void Expect(string key, string what, Tensor actual)
    {
        double[] expected = RecurrentReferenceValues.Values[$"{key}/{what}"];
        double[] got = actual.ToDoubleArray();
        Assert.True(expected.Length == got.Length, $"{key}/{what}: {got.Length} values, PyTorch has {expected.Length}");
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-12 * (1 + Math.Abs(expected[i])), $"{key}/{what}[{i}]: expected {expected[i]}, got {got[i]}");
    }
}
