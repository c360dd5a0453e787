using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Estimators;

/// <summary>
/// Straight-through estimators. References from Debian python3-torch 1.13 with the recipes
/// <c>x + (torch.round(x) - x).detach()</c>, <c>x + (torch.sign(x) - x).detach()</c> and
/// <c>c + (torch.sign(x) - c).detach()</c>, c = x.clamp(-1, 1), backward with dy = 0.5·(i + 1).
/// </summary>
public class SteTests
{
    private static readonly double[] X = [-2.5, -1.5, -1.0, -0.7, -0.5, -0.0, 0.0, 0.3, 0.5, 1.0, 1.5, 2.5, 2.6, 3.7];
    private static readonly double[] Rounded = [-2, -2, -1, -1, 0, 0, 0, 0, 0, 1, 2, 2, 3, 4];
    private static readonly double[] Signs = [-1, -1, -1, -1, -1, 0, 0, 1, 1, 1, 1, 1, 1, 1];
    // torch: x.grad of the clamp recipe; the bounds ±1 pass the gradient (clamp's gradient includes them).
    private static readonly double[] ClippedGrad = [0, 0, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 0, 0, 0, 0];

    private static Tensor Input(DType dtype) => (dtype == DType.Float32
        ? T.F32(Array.ConvertAll(X, v => (float)v), X.Length)
        : T.F64(X, X.Length)).RequireGrad();

    private static Tensor Upstream(DType dtype)
    {
        var dy = new double[X.Length];
        for (int i = 0; i < dy.Length; i++) dy[i] = 0.5 * (i + 1);
        return T.F64(dy, dy.Length).To(dtype);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void SteRound_RoundsHalfToEven_AndPassesTheGradientUnchanged(DType dtype)
    {
        Tensor x = Input(dtype);
        Tensor y = x.SteRound();
        Assert.Equal(dtype, y.DType);
        Assert.Equal(Rounded, y.ToDoubleArray());
        Assert.Equal("SteRoundBackward", y.GradFn!.Name);
        Tensor dy = Upstream(dtype);
        y.Backward(dy);
        Assert.Equal(dy.ToDoubleArray(), x.Grad!.ToDoubleArray()); // exactly dy
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void SteSign_GivesSignWithSignOfZeroZero_AndTheIdentityGradient(DType dtype)
    {
        Tensor x = Input(dtype);
        Tensor y = Functional.SteSign(x);
        Assert.Equal(Signs, y.ToDoubleArray());
        Assert.Equal("SteSignBackward", y.GradFn!.Name);
        Tensor dy = Upstream(dtype);
        y.Backward(dy);
        Assert.Equal(dy.ToDoubleArray(), x.Grad!.ToDoubleArray());
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void SteSign_Clipped_PassesTheGradientOnlyWhereAbsXIsAtMostOne(DType dtype)
    {
        Tensor x = Input(dtype);
        Tensor y = x.SteSign(clip: true);
        Assert.Equal(Signs, y.ToDoubleArray());
        Assert.Equal("SteSignClippedBackward", y.GradFn!.Name);
        y.Backward(Upstream(dtype));
        Assert.Equal(ClippedGrad, x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void SteOps_ReadStridedInputs()
    {
        Tensor x = T.F64([0.4, -1.6, 2.5, 0.6, -0.2, 3.5], 2, 3).RequireGrad();
        Tensor xt = x.Transpose(0, 1); // [3, 2], not contiguous
        Assert.Equal([0, 1, -2, -0.0, 2, 4], xt.SteRound().ToDoubleArray());
        Assert.Equal([1, 1, -1, -1, 1, 1], xt.SteSign().ToDoubleArray());
        (xt.SteSign(clip: true) * T.F64([1, 2, 3, 4, 5, 6], 3, 2)).Sum().Backward();
        // x[0] = [0.4, -1.6, 2.5] sits in column 0 of xt: dy 1, 3, 5; x[1] = [0.6, -0.2, 3.5]: dy 2, 4, 6
        Assert.Equal([1, 0, 0, 2, 4, 0], x.Grad!.ToDoubleArray());
    }

    /// <summary>
    /// The straight-through gradient of L(ste(h(w))) is, by definition, the exact gradient at w₀ of
    /// F(w) = L(s(h(w)) + c₀) with c₀ = q(h(w₀)) − s(h(w₀)) frozen (q the quantizer, s its surrogate:
    /// identity or clamp to [−1, 1]); that is the detach recipe. Checked against central differences of F
    /// through a linear layer and a loss, in float64.
    /// </summary>
    [Theory]
    [InlineData("round")]
    [InlineData("sign")]
    [InlineData("sign-clip")]
    public void SteGradient_EqualsFiniteDifferencesOfTheSurrogate(string kind)
    {
        Tensor x = T.Uniform(1, -2, 2, 5, 4).Detach();
        Tensor w = T.Uniform(2, -1.5, 1.5, 3, 4);
        Tensor target = T.Uniform(3, -1, 1, 5, 3).Detach();
        Func<Tensor, Tensor> quantize = kind switch { "round" => h => h.SteRound(), "sign" => h => h.SteSign(), _ => h => h.SteSign(clip: true) };
        Func<Tensor, Tensor> surrogate = kind == "sign-clip" ? h => h.Clamp(-1, 1) : h => h;
        Tensor Loss(Tensor q) => ((q * 1.5 - target).Square()).Sum();

        Tensor h0 = Functional.Linear(x, w);
        Loss(quantize(h0)).Backward();
        double[] analytic = w.Grad!.ToDoubleArray();

        Tensor c0;
        using (GradMode.Disable())
            c0 = (kind == "round" ? h0.Round() : h0.Sign()) - surrogate(h0);
        double F() { using (GradMode.Disable()) return Loss(surrogate(Functional.Linear(x, w)) + c0).Item(); }
        Span<double> v = w.AsSpan<double>();
        bool anyNonZero = false;
        for (int i = 0; i < v.Length; i++)
        {
            double saved = v[i];
            const double eps = 1e-6;
            v[i] = saved + eps; double up = F();
            v[i] = saved - eps; double down = F();
            v[i] = saved;
            double numeric = (up - down) / (2 * eps);
            Assert.True(Math.Abs(numeric - analytic[i]) <= 1e-6 * (1 + Math.Abs(numeric)), $"{kind} w[{i}]: autograd {analytic[i]}, central differences {numeric}");
            anyNonZero |= analytic[i] != 0;
        }
        Assert.True(anyNonZero);
    }

    [Fact]
    public void SteSign_Clipped_WithCreateGraph_GivesTheSameGradient_AsAGraph()
    {
        // With createGraph the backward is recorded (KeepWhere on a constant mask) instead of run by the fused kernel.
        Tensor x = Input(DType.Float64);
        Tensor dy = Upstream(DType.Float64).RequireGrad();
        Tensor? dx = Gradients.Grad([x.SteSign(clip: true)], [x], [dy], createGraph: true)[0];
        Assert.Equal(ClippedGrad, dx!.ToDoubleArray());
        Assert.NotNull(dx.GradFn); // differentiable with respect to dy
        Tensor? ddy = Gradients.Grad([dx.Sum()], [dy])[0];
        Assert.Equal([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0], ddy!.ToDoubleArray());
    }

    [Fact]
    public void SteOps_RefuseIntegerTensors_NamingTheOp()
    {
        Tensor ints = Tensor.FromArray(new long[] { 1, -2 });
        var e1 = Assert.Throws<ArgumentException>(() => ints.SteRound());
        Assert.Contains("SteRound", e1.Message);
        Assert.Contains("int64", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => ints.SteSign(clip: true));
        Assert.Contains("SteSign", e2.Message);
    }

    [Fact]
    public void SteOps_WithoutGradMode_RecordNothing()
    {
        Tensor x = T.Param(5, 4);
        using (GradMode.Disable())
        {
            Assert.Null(x.SteRound().GradFn);
            Assert.Null(x.SteSign(clip: true).GradFn);
        }
    }
}
