using Backprop.Autograd;
using Backprop.Diagnostics;
using Backprop.NN;
using Backprop.Ops.Loss;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Loss;

/// <summary>
/// L1, smooth L1, Huber, KL divergence and BCE: gradient checks for input and target under every
/// reduction, second derivatives, hand-worked values, and errors. PyTorch values: NN/Layers/LayersReferenceTests.
/// </summary>
public class PointwiseLossTests
{
    private static readonly Reduction[] All = [Reduction.None, Reduction.Mean, Reduction.Sum];

    [Fact]
    public void RegressionLosses_GradCheck_InputAndTarget_EveryReduction()
    {
        foreach (Reduction r in All)
        {
            // differences spread well beyond the thresholds, none within 1e-3 of a kink
            Tensor x = T.Uniform(1, -3, 3, 3, 4), t = T.Uniform(2, -3, 3, 3, 4);
            GradCheck.Verify(v => Functional.L1Loss(v[0], v[1], r), [x, t]);
            GradCheck.Verify(v => Functional.SmoothL1Loss(v[0], v[1], r), [x, t]);
            GradCheck.Verify(v => Functional.SmoothL1Loss(v[0], v[1], r, beta: 0.5), [x, t]);
            GradCheck.Verify(v => Functional.HuberLoss(v[0], v[1], r), [x, t]);
            GradCheck.Verify(v => Functional.HuberLoss(v[0], v[1], r, delta: 2.5), [x, t]);
        }
    }

    [Fact]
    public void SmoothLosses_SecondOrder()
    {
        Tensor x = T.Uniform(3, -2, 2, 2, 5), t = T.Uniform(4, -2, 2, 2, 5);
        GradCheck.VerifySecondOrder(v => Functional.SmoothL1Loss(v[0], v[1], Reduction.Sum, 1.5), [x, t]);
        GradCheck.VerifySecondOrder(v => Functional.HuberLoss(v[0], v[1], Reduction.None, 0.8), [x, t]);
        GradCheck.VerifySecondOrder(v => Functional.L1Loss(v[0], v[1]) * Functional.L1Loss(v[0], v[1]), [x, t]);
    }

    [Fact]
    public void KLDiv_GradCheck_AndSecondOrder()
    {
        Tensor logp = T.Param(1, 3, 4).LogSoftmax(1).Detach().RequireGrad(), p = T.Uniform(2, 0.05, 1, 3, 4);
        foreach (Reduction r in (Reduction[])[Reduction.None, Reduction.Sum, Reduction.BatchMean, Reduction.Mean])
        {
            GradCheck.Verify(v => Functional.KLDiv(v[0], v[1], r), [logp, p]);
            GradCheck.Verify(v => Functional.KLDiv(v[0], v[1], r, logTarget: true), [logp, T.Param(3, 3, 4)]);
        }
        GradCheck.VerifySecondOrder(v => Functional.KLDiv(v[0], v[1], Reduction.BatchMean), [logp, p]);
        GradCheck.VerifySecondOrder(v => Functional.KLDiv(v[0], v[1], Reduction.Sum, logTarget: true), [logp, T.Param(4, 3, 4)]);
    }

    [Fact]
    public void KLDiv_BatchMean_IsTheDivergencePerSample()
    {
        // p = [0.5, 0.5], q = [0.25, 0.75] per sample: KL(p‖q) = 0.5·ln 2 + 0.5·ln(2/3).
        Tensor logq = T.F64([Math.Log(0.25), Math.Log(0.75), Math.Log(0.25), Math.Log(0.75)], 2, 2), p = T.F64([0.5, 0.5, 0.5, 0.5], 2, 2);
        double kl = 0.5 * Math.Log(2) + 0.5 * Math.Log(2.0 / 3);
        Assert.Equal(kl, Functional.KLDiv(logq, p, Reduction.BatchMean).Item(), 12);
        Assert.Equal(2 * kl, Functional.KLDiv(logq, p, Reduction.Sum).Item(), 12);
        Assert.Equal(kl / 2, Functional.KLDiv(logq, p, Reduction.Mean).Item(), 12);
        Assert.Equal(kl, Functional.KLDiv(logq, p.Log(), Reduction.BatchMean, logTarget: true).Item(), 12);
    }

    [Fact]
    public void KLDiv_Mean_WarnsOnce_AsPyTorch_ThroughWarnings()
    {
        var sink = new StringWriter();
        var sources = new List<string>();
        Warnings.Capture(w => { sink.WriteLine(w.Message); sources.Add(w.Source); });
        try
        {
            Tensor x = T.F64([-1, -2], 2), t = T.F64([0.3, 0.7], 2);
            Functional.KLDiv(x, t, Reduction.BatchMean);
            Functional.KLDiv(x, t, Reduction.Sum);
            Assert.Equal("", sink.ToString());
            Functional.KLDiv(x, t);
            Functional.KLDiv(x, t, Reduction.Mean);
            string text = sink.ToString();
            Assert.Contains("BatchMean", text);
            Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(["KLDiv"], sources);
        }
        finally
        {
            Warnings.Capture(null);
        }
    }

    [Fact]
    public void BinaryCrossEntropy_GradCheck_WithBroadcastWeight_AndSecondOrder()
    {
        Tensor x = T.Uniform(1, 0.05, 0.95, 3, 4), t = T.Uniform(2, 0, 1, 3, 4);
        Tensor[] weights = [Tensor.Uniform([4], 0.5, 2, DType.Float64, new Generator(3)), Tensor.Uniform([3, 1], 0.5, 2, DType.Float64, new Generator(4))];
        foreach (Reduction r in All)
        {
            GradCheck.Verify(v => Functional.BinaryCrossEntropy(v[0], v[1], reduction: r), [x, t]);
            foreach (Tensor w in weights)
                GradCheck.Verify(v => Functional.BinaryCrossEntropy(v[0], v[1], w, r), [x, t]);
        }
        GradCheck.VerifySecondOrder(v => Functional.BinaryCrossEntropy(v[0], v[1], weights[0]), [x, t]);
    }

    [Fact]
    public void BinaryCrossEntropy_EqualsTheLogitsFormOnSigmoids()
    {
        Tensor z = T.Param(1, 4, 3), t = T.Uniform(2, 0, 1, 4, 3);
        Assert.Equal(Functional.BinaryCrossEntropyWithLogits(z, t).Item(), Functional.BinaryCrossEntropy(z.Sigmoid(), t).Item(), 12);
    }

    [Fact]
    public void HandWorkedValues()
    {
        Tensor x = T.F64([0.0, 2.0, -0.5], 3), t = T.F64([0.5, 0.0, -0.5], 3);
        T.Close([0.5, 2.0, 0.0], Functional.L1Loss(x, t, Reduction.None), 1e-15);
        T.Close([0.125, 1.5, 0.0], Functional.SmoothL1Loss(x, t, Reduction.None), 1e-15);              // ½·0.25; 2 − ½
        T.Close([0.125 / 1.5, 2 - 0.75, 0.0], Functional.SmoothL1Loss(x, t, Reduction.None, beta: 1.5), 1e-15);       // ½·0.25/β; 2 − ½β
        T.Close([0.125, 1.5, 0.0], Functional.HuberLoss(x, t, Reduction.None), 1e-15);
        T.Close([0.3 * (0.5 - 0.15), 0.3 * (2 - 0.15), 0.0], Functional.HuberLoss(x, t, Reduction.None, delta: 0.3), 1e-15);
        Assert.Equal(2.5 / 3, Functional.L1Loss(x, t).Item(), 15);
        Assert.Equal(2.5, Functional.L1Loss(x, t, Reduction.Sum).Item(), 15);
        Assert.True(double.IsNaN(Functional.L1Loss(Tensor.Zeros([0], DType.Float64), Tensor.Zeros([0], DType.Float64)).Item())); // empty mean, as PyTorch
    }

    [Fact]
    public void GradFnNames_ReadAsPyTorchs()
    {
        Tensor x = T.Uniform(1, 0.1, 0.9, 3), t = T.Uniform(2, 0.1, 0.9, 3);
        Assert.Equal("L1LossBackward", Functional.L1Loss(x, t).GradFn!.Name);
        Assert.Equal("SmoothL1LossBackward", Functional.SmoothL1Loss(x, t).GradFn!.Name);
        Assert.Equal("HuberLossBackward", Functional.HuberLoss(x, t).GradFn!.Name);
        Assert.Equal("KLDivLossBackward", Functional.KLDiv(x, t, Reduction.Sum).GradFn!.Name);
        Assert.Equal("BinaryCrossEntropyBackward", Functional.BinaryCrossEntropy(x, t).GradFn!.Name);
    }

    [Fact]
    public void Errors_NameTheLossShapesAndValues()
    {
        Tensor x = Tensor.Zeros([3, 1]), t = Tensor.Zeros([3]);
        var shape = Assert.Throws<ArgumentException>(() => Functional.L1Loss(x, t));
        Assert.Contains("L1Loss", shape.Message);
        Assert.Contains("[3, 1]", shape.Message);
        Assert.Contains("[3]", shape.Message);
        Assert.Contains("HuberLoss", Assert.Throws<ArgumentException>(() => Functional.HuberLoss(x, t)).Message);
        Assert.Contains("KLDiv", Assert.Throws<ArgumentException>(() => Functional.KLDiv(x, t)).Message);
        var dtype = Assert.Throws<ArgumentException>(() => Functional.SmoothL1Loss(Tensor.Zeros([3]), Tensor.Zeros([3], DType.Float64)));
        Assert.Contains("SmoothL1Loss", dtype.Message);
        Assert.Contains("float64", dtype.Message);
        var beta = Assert.Throws<ArgumentException>(() => Functional.SmoothL1Loss(t, t, beta: -1));
        Assert.Contains("beta", beta.Message);
        var delta = Assert.Throws<ArgumentException>(() => Functional.HuberLoss(t, t, delta: 0));
        Assert.Contains("delta", delta.Message);
        var range = Assert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(T.F64([0.5, 1.5, 0.2], 3), T.F64([0, 1, 0], 3)));
        Assert.Contains("BinaryCrossEntropy", range.Message);
        Assert.Contains("between 0 and 1", range.Message);
        Assert.Contains("element 1", range.Message);
        Assert.Contains("1.5", range.Message);
        Assert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(T.F64([0.5, double.NaN], 2), T.F64([0, 1], 2)));
        var weight = Assert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(Tensor.Zeros([2, 3]), Tensor.Zeros([2, 3]), Tensor.Ones([2])));
        Assert.Contains("weight shape [2]", weight.Message);
        foreach (Func<Tensor> f in new Func<Tensor>[]
                 {
                     () => Functional.L1Loss(t, t, Reduction.BatchMean), () => Functional.MseLoss(t, t, Reduction.BatchMean),
                     () => Functional.BinaryCrossEntropy(t, t, reduction: Reduction.BatchMean),
                     () => Functional.CrossEntropy(Tensor.Zeros([2, 3]), Tensor.Zeros([2], DType.Int64), Reduction.BatchMean),
                 })
            Assert.Contains("BatchMean is only defined for KLDiv", Assert.Throws<ArgumentException>(f).Message);
    }
}
