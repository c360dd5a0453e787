using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>
/// RNN, LSTM and GRU cells against torch.nn.RNNCell/LSTMCell/GRUCell (Debian python3-torch, float64):
/// every parameter and input filled with 0.5·sin(0.37·(k + 1) + seed) in PyTorch's order, so both sides
/// compute the same numbers from the same formula.
/// </summary>
public class RecurrentCellTests
{
    private const int I = 3, H = 2, B = 2;

    private static Tensor X() => SineFill.Tensor(1.0, B, I);

    private static Tensor H0() => SineFill.Tensor(2.0, B, H);

    private static Tensor C0() => SineFill.Tensor(3.0, B, H);

    [Fact]
    public void RnnCell_MatchesPyTorch_TanhAndRelu()
    {
        var tanh = SineFill.Parameters(new RnnCell(I, H, dtype: DType.Float64));
        T.Close([-0.5524260938017703, 0.010768955902319957, 0.14055154691605967, 0.3580713871689047], tanh.Forward(X(), H0()), 1e-14);
        var relu = SineFill.Parameters(new RnnCell(I, H, nonlinearity: "relu", dtype: DType.Float64));
        T.Close([0.0, 0.01076937222470381, 0.14148819379557032, 0.374671886033931], relu.Forward(X(), H0()), 1e-14);
    }

    [Fact]
    public void LstmCell_MatchesPyTorch_GatesIFGO()
    {
        var cell = SineFill.Parameters(new LstmCell(I, H, dtype: DType.Float64));
        var (h, c) = cell.Forward(X(), (H0(), C0()));
        T.Close([0.09968401679389219, -0.003795748465876139, 0.06860139253809969, -0.006277347549048556], h, 1e-14);
        T.Close([0.22840604954335858, -0.008627613231955655, 0.1178532983756655, -0.011613145198424102], c, 1e-14);
        Assert.Equal([4 * H, I], cell.WeightIh.Shape.ToArray());
    }

    [Fact]
    public void GruCell_MatchesPyTorch_GatesRZN()
    {
        var cell = SineFill.Parameters(new GruCell(I, H, dtype: DType.Float64));
        T.Close([0.4555610563995154, 0.21178027959086268, 0.22723989372786968, 0.01962107870699542], cell.Forward(X(), H0()), 1e-14);
    }

    [Fact]
    public void ParameterNamesAndShapes_FollowPyTorch()
    {
        string[] names = [.. new GruCell(I, H).NamedParameters().Select(kv => kv.Key)];
        Assert.Equal(["weight_ih", "weight_hh", "bias_ih", "bias_hh"], names);
        Assert.Equal(["weight_ih", "weight_hh"], new LstmCell(I, H, bias: false).NamedParameters().Select(kv => kv.Key));
        Assert.Equal([3 * H, H], new GruCell(I, H).WeightHh.Shape.ToArray());
    }

    [Fact]
    public void Gradients_ThroughSeveralSteps_MatchFiniteDifferences()
    {
        // Backprop through time over 3 steps, with respect to the input sequence, the initial state and every weight.
        var lstm = new LstmCell(I, H, generator: new Generator(1), dtype: DType.Float64);
        GradCheck.Verify(t =>
        {
            (Tensor H, Tensor C) s = (t[1], t[2]);
            Tensor total = Tensor.Scalar(0, DType.Float64);
            for (int step = 0; step < 3; step++)
            {
                s = lstm.Forward(t[0].Select(0, step), s);
                total = total + (s.H * s.H).Sum();
            }
            return total;
        }, [T.Param(1, 3, B, I), T.Param(2, B, H), T.Param(3, B, H)]);
        WeightGradientsMatchFiniteDifferences(lstm, () => lstm.Forward(X(), (H0(), C0())).C.Sum());

        var gru = new GruCell(I, H, generator: new Generator(2), dtype: DType.Float64);
        GradCheck.Verify(t => gru.Forward(t[0], gru.Forward(t[0], t[1])), [T.Param(4, B, I), T.Param(5, B, H)]); // two steps
        WeightGradientsMatchFiniteDifferences(gru, () => (gru.Forward(X(), H0()) * X().Narrow(1, 0, H)).Sum());

        var rnn = new RnnCell(I, H, generator: new Generator(3), dtype: DType.Float64);
        GradCheck.Verify(t => rnn.Forward(t[0], t[1]), [T.Param(6, B, I), T.Param(7, B, H)]);
        WeightGradientsMatchFiniteDifferences(rnn, () => rnn.Forward(X(), H0()).Sum());
    }

    /// <summary>.Backward() into each parameter's .Grad against central differences of <paramref name="loss"/>, element by element.</summary>
    private static void WeightGradientsMatchFiniteDifferences(Module cell, Func<Tensor> loss)
    {
        cell.ZeroGrad();
        loss().Backward();
        const double eps = 1e-6;
        foreach (var (name, p) in cell.NamedParameters())
        {
            double[] analytic = p!.Grad!.ToDoubleArray();
            Span<double> w = p.Data.AsSpan<double>();
            for (int k = 0; k < w.Length; k++)
            {
                double saved = w[k];
                double up, down;
                using (GradMode.Disable())
                {
                    w[k] = saved + eps;
                    up = loss().Item();
                    w[k] = saved - eps;
                    down = loss().Item();
                }
                w[k] = saved;
                double numeric = (up - down) / (2 * eps);
                Assert.True(Math.Abs(numeric - analytic[k]) <= 1e-6 + 1e-4 * Math.Abs(numeric), $"{name}[{k}]: analytic {analytic[k]}, numeric {numeric}");
            }
        }
    }

    [Fact]
    public void UnbatchedInput_GivesUnbatchedState_AndZeroStateByDefault()
    {
        var cell = new GruCell(I, H, generator: new Generator(4));
        Tensor x = Tensor.Uniform([I], -1, 1, generator: new Generator(5));
        Tensor h = cell.Forward(x, null);
        Assert.Equal([H], h.Shape.ToArray());
        Assert.Equal(cell.Forward(x.Unsqueeze(0), Tensor.Zeros([1, H])).ToArray<float>(), h.ToArray<float>());
        var (lh, lc) = new LstmCell(I, H).Forward(x, null);
        Assert.Equal([H], lh.Shape.ToArray());
        Assert.Equal([H], lc.Shape.ToArray());
    }

    [Fact]
    public void WrongShapes_AreRefusedNamingTheCellAndTheShapes()
    {
        var cell = new LstmCell(I, H);
        var e = Assert.Throws<ArgumentException>(() => cell.Forward(Tensor.Zeros([B, I + 1]), null));
        Assert.Contains("LstmCell", e.Message);
        Assert.Contains($"[{B}, {I + 1}]", e.Message);
        e = Assert.Throws<ArgumentException>(() => cell.Forward(Tensor.Zeros([B, I]), (Tensor.Zeros([B + 1, H]), Tensor.Zeros([B, H]))));
        Assert.Contains("h", e.Message);
        Assert.Contains($"[{B + 1}, {H}]", e.Message);
        Assert.Throws<ArgumentException>(() => new RnnCell(I, H, nonlinearity: "sigmoid"));
    }
}
