using Backprop.NN;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Optim;

public class OptimizerTests
{
    private static Parameter P(params double[] values) => new(Tensor.FromArray(values));

    private static void SetGrad(Parameter p, params double[] g) => p.Grad = Tensor.FromArray(g);

    private static double V(Parameter p, int i = 0) => p.Data.ToDoubleArray()[i];

    [Fact]
    public void Sgd_Plain_IsGradientDescent()
    {
        Parameter p = P(1.0, -2.0);
        var opt = new Sgd([p], new SgdOptions(LearningRate: 0.1));
        SetGrad(p, 0.5, -1.0);
        opt.Step();
        T.Close([0.95, -1.9], p.Data, 1e-15);
    }

    [Fact]
    public void Sgd_Momentum_FirstStepUsesGradientThenAccumulates()
    {
        Parameter p = P(1.0);
        var opt = new Sgd([p], new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        SetGrad(p, 0.5); opt.Step();          // b = 0.5, θ = 1 − 0.05
        Assert.Equal(0.95, V(p), 15);
        SetGrad(p, 0.5); opt.Step();          // b = 0.9·0.5 + 0.5 = 0.95, θ = 0.95 − 0.095
        Assert.Equal(0.855, V(p), 15);
    }

    [Fact]
    public void Sgd_Dampening_ScalesNewGradientAfterFirstStep()
    {
        Parameter p = P(1.0);
        var opt = new Sgd([p], new SgdOptions(LearningRate: 0.1, Momentum: 0.9, Dampening: 0.5));
        SetGrad(p, 1.0); opt.Step();          // b = 1 (no dampening on the first step), θ = 0.9
        SetGrad(p, 1.0); opt.Step();          // b = 0.9 + 0.5 = 1.4, θ = 0.9 − 0.14
        Assert.Equal(0.76, V(p), 15);
    }

    [Fact]
    public void Sgd_Nesterov_LooksAhead()
    {
        Parameter p = P(1.0);
        var opt = new Sgd([p], new SgdOptions(LearningRate: 0.1, Momentum: 0.9, Nesterov: true));
        SetGrad(p, 0.5); opt.Step();          // b = 0.5, d = 0.5 + 0.9·0.5 = 0.95
        Assert.Equal(0.905, V(p), 15);
    }

    [Fact]
    public void Sgd_WeightDecay_AddsL2Gradient()
    {
        Parameter p = P(2.0);
        var opt = new Sgd([p], new SgdOptions(LearningRate: 0.1, WeightDecay: 0.01));
        SetGrad(p, 1.0); opt.Step();          // d = 1 + 0.01·2 = 1.02
        Assert.Equal(2.0 - 0.102, V(p), 15);
    }

    [Fact]
    public void Sgd_NesterovWithoutMomentum_IsRejected()
        => Assert.Throws<ArgumentException>(() => new Sgd([P(1.0)], new SgdOptions(Nesterov: true)));

    private static double AdamReference(double[] grads, double theta, double lr, double b1, double b2, double eps, double wd, bool decoupled)
    {
        double m = 0, v = 0;
        for (int t = 1; t <= grads.Length; t++)
        {
            double g = grads[t - 1];
            if (decoupled) theta *= 1 - lr * wd;
            else g += wd * theta;
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double mHat = m / (1 - Math.Pow(b1, t));
            double vHat = v / (1 - Math.Pow(b2, t));
            // PyTorch's form: θ −= lr/bc1 · m / (√v/√bc2 + ε), equal to the textbook form up to where ε enters.
            theta -= lr / (1 - Math.Pow(b1, t)) * m / (Math.Sqrt(v) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps);
            _ = mHat; _ = vHat;
        }
        return theta;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void Adam_ThreeSteps_MatchDocumentedEquations(double wd)
    {
        double[] grads = [0.5, -0.25, 2.0];
        Parameter p = P(1.0);
        var opt = new Adam([p], new AdamOptions(LearningRate: 0.01, WeightDecay: wd));
        foreach (double g in grads) { SetGrad(p, g); opt.Step(); }
        Assert.Equal(AdamReference(grads, 1.0, 0.01, 0.9, 0.999, 1e-8, wd, decoupled: false), V(p), 14);
    }

    [Fact]
    public void Adam_FirstStep_MovesByLearningRateTimesSign()
    {
        Parameter p = P(1.0, 1.0);
        var opt = new Adam([p], new AdamOptions(LearningRate: 0.01));
        SetGrad(p, 0.5, -3.0); opt.Step();
        T.Close([0.99, 1.01], p.Data, 1e-9);
    }

    [Fact]
    public void AdamW_DecouplesWeightDecay()
    {
        double[] grads = [0.5, -0.25, 2.0];
        Parameter p = P(1.0);
        var opt = new AdamW([p], new AdamOptions(LearningRate: 0.01, WeightDecay: 0.1));
        foreach (double g in grads) { SetGrad(p, g); opt.Step(); }
        Assert.Equal(AdamReference(grads, 1.0, 0.01, 0.9, 0.999, 1e-8, 0.1, decoupled: true), V(p), 14);
        Assert.NotEqual(AdamReference(grads, 1.0, 0.01, 0.9, 0.999, 1e-8, 0.1, decoupled: false), V(p), 10);
    }

    [Fact]
    public void Adam_Amsgrad_UsesMaximumSecondMoment()
    {
        Parameter p = P(0.0);
        var opt = new Adam([p], new AdamOptions(LearningRate: 0.1, Amsgrad: true));
        SetGrad(p, 10.0); opt.Step();
        SetGrad(p, 0.0); opt.Step();
        // v₁ = 0.001·100 = 0.1; v₂ = 0.0999 < vmax = 0.1; m₂ = 0.9·1 = 0.9
        double m1 = 1.0, theta = -0.1 / 0.1 * m1 / (Math.Sqrt(0.1) / Math.Sqrt(0.001) + 1e-8);
        double m2 = 0.9, bc1 = 1 - 0.81, bc2 = 1 - 0.999 * 0.999;
        theta -= 0.1 / bc1 * m2 / (Math.Sqrt(0.1) / Math.Sqrt(bc2) + 1e-8);
        Assert.Equal(theta, V(p), 12);
    }

    [Fact]
    public void RmsProp_TwoSteps_MatchEquations()
    {
        Parameter p = P(1.0);
        var opt = new RmsProp([p], new RmsPropOptions(LearningRate: 0.01));
        SetGrad(p, 0.5); opt.Step();
        SetGrad(p, -1.0); opt.Step();
        double v = 0.01 * 0.25, theta = 1 - 0.01 * 0.5 / (Math.Sqrt(v) + 1e-8);
        v = 0.99 * v + 0.01 * 1.0;
        theta -= 0.01 * -1.0 / (Math.Sqrt(v) + 1e-8);
        Assert.Equal(theta, V(p), 14);
    }

    [Fact]
    public void RmsProp_CenteredWithMomentum_MatchEquations()
    {
        Parameter p = P(1.0);
        var opt = new RmsProp([p], new RmsPropOptions(LearningRate: 0.01, Momentum: 0.9, Centered: true));
        double theta = 1, v = 0, gAvg = 0, b = 0;
        foreach (double g in new[] { 0.5, -1.0, 0.25 })
        {
            SetGrad(p, g); opt.Step();
            v = 0.99 * v + 0.01 * g * g;
            gAvg = 0.99 * gAvg + 0.01 * g;
            b = 0.9 * b + g / (Math.Sqrt(v - gAvg * gAvg) + 1e-8);
            theta -= 0.01 * b;
        }
        Assert.Equal(theta, V(p), 12);
    }

    [Fact]
    public void Adagrad_DecaysLearningRateAndAccumulatesSquares()
    {
        Parameter p = P(1.0);
        var opt = new Adagrad([p], new AdagradOptions(LearningRate: 0.1, LearningRateDecay: 0.5, InitialAccumulatorValue: 0.1));
        double theta = 1, s = 0.1;
        int t = 0;
        foreach (double g in new[] { 0.5, -1.0 })
        {
            t++;
            SetGrad(p, g); opt.Step();
            s += g * g;
            theta -= 0.1 / (1 + (t - 1) * 0.5) * g / (Math.Sqrt(s) + 1e-10);
        }
        Assert.Equal(theta, V(p), 14);
    }

    [Fact]
    public void Float32_Sgd_MatchesFloat64WithinRounding()
    {
        var p32 = new Parameter(Tensor.FromArray(new float[] { 1f, 2f }));
        var opt = new Sgd([p32], new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        p32.Grad = Tensor.FromArray(new float[] { 0.5f, 0.5f });
        opt.Step();
        T.Close([0.95, 1.95], p32.Data, 1e-6);
    }

    [Fact]
    public void ParamGroups_HaveTheirOwnLearningRates()
    {
        Parameter a = P(1.0), b = P(1.0);
        var opt = new Sgd([new ParamGroup([a]), new ParamGroup([b], learningRate: 1.0)], new SgdOptions(LearningRate: 0.1));
        SetGrad(a, 1.0); SetGrad(b, 1.0);
        opt.Step();
        Assert.Equal(0.9, V(a), 15);
        Assert.Equal(0.0, V(b), 15);
    }

    [Fact]
    public void Step_SkipsParametersWithoutGradient_AndZeroGradClears()
    {
        Parameter a = P(1.0), b = P(1.0);
        var opt = new Sgd([a, b], new SgdOptions(LearningRate: 0.1));
        SetGrad(a, 1.0);
        opt.Step();
        Assert.Equal(1.0, V(b));
        opt.ZeroGrad();
        Assert.Null(a.Grad);
    }

    [Fact]
    public void StateDict_RoundTrip_ContinuesIdentically()
    {
        double[] grads = [0.5, -0.25, 2.0, 1.0];
        Parameter p1 = P(1.0, 2.0);
        var o1 = new Adam([p1], new AdamOptions(LearningRate: 0.01));
        for (int i = 0; i < 2; i++) { SetGrad(p1, grads[i], grads[i]); o1.Step(); }

        Parameter p2 = P(p1.Data.ToDoubleArray());
        var o2 = new Adam([p2], new AdamOptions(LearningRate: 0.01));
        o2.LoadStateDict(o1.StateDict());
        for (int i = 2; i < 4; i++)
        {
            SetGrad(p1, grads[i], grads[i]); o1.Step();
            SetGrad(p2, grads[i], grads[i]); o2.Step();
        }
        Assert.Equal(p1.Data.ToDoubleArray(), p2.Data.ToDoubleArray());
    }

    [Fact]
    public void LoadStateDict_WrongShape_NamesEntry()
    {
        Parameter p = P(1.0, 2.0);
        var opt = new Sgd([p], new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        var bad = new List<KeyValuePair<string, Tensor>> { new("state.0.momentum_buffer", Tensor.Zeros([3], DType.Float64)) };
        var e = Assert.Throws<ArgumentException>(() => opt.LoadStateDict(bad));
        Assert.Contains("state.0.momentum_buffer", e.Message);
        Assert.Contains("[3]", e.Message);
    }

    [Fact]
    public void ClipGradNorm_ScalesToMaxNorm()
    {
        Parameter a = P(0.0, 0.0), b = P(0.0);
        SetGrad(a, 3.0, 0.0); SetGrad(b, 4.0);
        double norm = GradClip.ClipGradNorm([a, b], 1.0);
        Assert.Equal(5.0, norm, 12);
        double scale = 1.0 / (5.0 + 1e-6);
        T.Close([3 * scale, 0], a.Grad!, 1e-12);
        T.Close([4 * scale], b.Grad!, 1e-12);
    }

    [Fact]
    public void ClipGradNorm_BelowMax_LeavesGradients()
    {
        Parameter a = P(0.0);
        SetGrad(a, 0.5);
        GradClip.ClipGradNorm([a], 1.0);
        T.Close([0.5], a.Grad!, 0);
    }

    [Fact]
    public void ClipGradValue_Clamps()
    {
        Parameter a = P(0.0, 0.0, 0.0);
        SetGrad(a, -3.0, 0.2, 7.0);
        GradClip.ClipGradValue([a], 1.0);
        T.Close([-1.0, 0.2, 1.0], a.Grad!, 0);
    }
}
