using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Conv;
using Backprop.Ops.Loss;
using Backprop.Tensors;
using Backprop.Tests.NN.Layers.Fixtures;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>
/// The issue #12 layers and losses against PyTorch in float64 (Fixtures/layers_reference.py, Debian
/// python3-torch 1.13): outputs and the gradient of every input and parameter, the upstream gradient
/// being SineFill seed 99 for a tensor output and 1 for a scalar one. Float32 runs are held to 1e-5.
/// </summary>
public class LayersReferenceTests
{
    private static Tensor Fill(double seed, params int[] shape) => SineFill.Tensor(seed, shape);

    private static void Expect(string key, Tensor actual, double tol = 1e-10)
    {
        double[] expected = LayersReferenceValues.Values[key];
        double[] got = actual.ToDoubleArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = got[i];
            if (double.IsNaN(e)) Assert.True(double.IsNaN(a), $"{key}[{i}]: expected NaN, got {a}");
            else if (double.IsInfinity(e)) Assert.Equal(e, a);
            else Assert.True(Math.Abs(e - a) <= tol * (1 + Math.Abs(e)), $"{key}[{i}]: expected {e}, got {a}");
        }
    }

    /// <summary>Runs f on leaf copies of the inputs, backpropagates the fixture's upstream gradient, and checks y and every input gradient.</summary>
    private static void Check(string key, Func<Tensor[], Tensor> f, string[] names, Tensor[] inputs, DType dtype = DType.Float64)
    {
        double tol = dtype == DType.Float64 ? 1e-10 : 1e-5;
        Tensor[] xs = Array.ConvertAll(inputs, x => x.To(dtype).Detach().RequireGrad());
        Tensor y = f(xs);
        Assert.Equal(dtype, y.DType);
        Expect(key + "/y", y, tol);
        if (y.Rank == 0) y.Backward();
        else (y * Fill(99, y.Shape.ToArray()).To(dtype)).Sum().Backward();
        for (int i = 0; i < xs.Length; i++) Expect(key + "/grad/" + names[i], xs[i].Grad!, tol);
    }

    private static void CheckModule(string key, Module m, Tensor x)
    {
        SineFill.Parameters(m);
        Tensor xl = x.Detach().RequireGrad();
        Tensor y = m.Forward(xl);
        Expect(key + "/y", y);
        (y * Fill(99, y.Shape.ToArray())).Sum().Backward();
        Expect(key + "/grad/input", xl.Grad!);
        foreach (var (name, p) in m.NamedParameters()) Expect(key + "/grad/" + name, p.Grad!);
    }

    public static TheoryData<DType> DTypes => new() { DType.Float64, DType.Float32 };

    [Theory]
    [MemberData(nameof(DTypes))]
    public void Conv1d_MatchesPyTorch(DType dtype)
    {
        Check("conv1d/basic", v => Functional.Conv1d(v[0], v[1], v[2], stride: 2, padding: 1, groups: 2), ["input", "weight", "bias"],
            [Fill(1, 2, 4, 9), Fill(10, 6, 2, 3), Fill(11, 6)], dtype);
        Check("conv1d/dilated", v => Functional.Conv1d(v[0], v[1], null, padding: 2, dilation: 2), ["input", "weight"],
            [Fill(1, 1, 3, 10), Fill(10, 2, 3, 4)], dtype);
        Check("conv1d/same_even", v => Functional.Conv1d(v[0], v[1], v[2], "same"), ["input", "weight", "bias"],
            [Fill(1, 2, 2, 7), Fill(10, 3, 2, 4), Fill(11, 3)], dtype);
        Check("conv1d/same_dilated", v => Functional.Conv1d(v[0], v[1], null, "same", dilation: 3), ["input", "weight"],
            [Fill(1, 2, 2, 8), Fill(10, 3, 2, 3)], dtype);
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void Conv2d_SamePadding_MatchesPyTorch(DType dtype)
    {
        Check("conv2d/same_even", v => Functional.Conv2d(v[0], v[1], v[2], "same"), ["input", "weight", "bias"],
            [Fill(1, 1, 2, 5, 6), Fill(10, 3, 2, 4, 3), Fill(11, 3)], dtype);
        Check("conv2d/same_dilated", v => Functional.Conv2d(v[0], v[1], null, "same", dilation: (2, 1)), ["input", "weight"],
            [Fill(1, 2, 2, 5, 4), Fill(10, 2, 2, 2, 2)], dtype);
    }

    [Fact]
    public void ConvModules_PaddingModes_MatchPyTorch()
    {
        CheckModule("conv2d/reflect", new Conv2d(2, 3, 3, padding: (1, 2), paddingMode: PaddingMode.Reflect, dtype: DType.Float64), Fill(1, 2, 2, 5, 6));
        CheckModule("conv2d/replicate", new Conv2d(2, 3, 3, stride: 2, padding: (2, 1), paddingMode: PaddingMode.Replicate, dtype: DType.Float64), Fill(1, 2, 2, 5, 6));
        CheckModule("conv2d/circular", new Conv2d(2, 3, (2, 3), padding: (1, 2), paddingMode: PaddingMode.Circular, dtype: DType.Float64), Fill(1, 1, 2, 4, 5));
        CheckModule("conv2d/reflect_same", new Conv2d(2, 3, (4, 3), padding: "same", paddingMode: PaddingMode.Reflect, dtype: DType.Float64), Fill(1, 1, 2, 5, 6));
        CheckModule("conv1d/circular", new Conv1d(2, 3, 3, padding: 2, paddingMode: PaddingMode.Circular, dtype: DType.Float64), Fill(1, 2, 2, 7));
        CheckModule("conv1d/replicate_same", new Conv1d(2, 4, 4, padding: "same", groups: 2, paddingMode: PaddingMode.Replicate, dtype: DType.Float64), Fill(1, 2, 2, 6));
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void ConvTranspose2d_MatchesPyTorch(DType dtype)
    {
        Check("convt/basic", v => Functional.ConvTranspose2d(v[0], v[1], v[2], stride: 2, padding: 1, outputPadding: 1), ["input", "weight", "bias"],
            [Fill(1, 2, 4, 3, 4), Fill(10, 4, 3, 3, 3), Fill(11, 3)], dtype);
        Check("convt/groups", v => Functional.ConvTranspose2d(v[0], v[1], null, stride: (1, 2), padding: (0, 1), outputPadding: (0, 1), groups: 2, dilation: (2, 1)),
            ["input", "weight"], [Fill(1, 1, 4, 4, 3), Fill(10, 4, 2, 2, 3)], dtype);
        Check("convt/dilation_outpad", v => Functional.ConvTranspose2d(v[0], v[1], v[2], outputPadding: 1, dilation: 2), ["input", "weight", "bias"],
            [Fill(1, 1, 2, 3, 3), Fill(10, 2, 2, 3, 3), Fill(11, 2)], dtype);
        Check("convt/pointwise", v => Functional.ConvTranspose2d(v[0], v[1], v[2]), ["input", "weight", "bias"],
            [Fill(1, 2, 3, 4, 4), Fill(10, 3, 5, 1, 1), Fill(11, 5)], dtype);
    }

    [Fact]
    public void ConvTranspose2dModule_OutputSize_MatchesPyTorch()
    {
        var m = SineFill.Parameters(new ConvTranspose2d(2, 3, 3, stride: 2, padding: 1, dtype: DType.Float64));
        Tensor y = m.Forward(Fill(1, 1, 2, 4, 4), (8, 7));
        Assert.Equal(new Shape(Array.ConvertAll(LayersReferenceValues.Values["convt/output_size/shape"], v => (int)v)), y.Shape);
        Expect("convt/output_size/y", y);
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void AdaptivePooling_MatchesPyTorch(DType dtype)
    {
        Check("adaptive_avg/5x7_to_3x4", v => Functional.AdaptiveAvgPool2d(v[0], (3, 4)), ["input"], [Fill(1, 2, 3, 5, 7)], dtype);
        Check("adaptive_avg/global", v => Functional.AdaptiveAvgPool2d(v[0], 1), ["input"], [Fill(1, 2, 3, 5, 7)], dtype);
        Check("adaptive_avg/upsample", v => Functional.AdaptiveAvgPool2d(v[0], (5, 4)), ["input"], [Fill(1, 1, 2, 3, 2)], dtype);
        Check("adaptive_avg/none", v => Functional.AdaptiveAvgPool2d(v[0], (null, 3)), ["input"], [Fill(1, 1, 2, 4, 6)], dtype);
        Check("adaptive_max/5x7_to_3x4", v => Functional.AdaptiveMaxPool2d(v[0], (3, 4)), ["input"], [Fill(1, 2, 3, 5, 7)], dtype);
        Check("adaptive_max/upsample", v => Functional.AdaptiveMaxPool2d(v[0], (5, 4)), ["input"], [Fill(1, 1, 2, 3, 2)], dtype);
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void GroupNormAndRmsNorm_MatchPyTorch(DType dtype)
    {
        Check("groupnorm/affine", v => Functional.GroupNorm(v[0], 3, v[1], v[2]), ["input", "weight", "bias"],
            [Fill(1, 3, 6, 4, 5), Fill(10, 6), Fill(11, 6)], dtype);
        Check("groupnorm/rank2", v => Functional.GroupNorm(v[0], 2), ["input"], [Fill(1, 4, 6)], dtype);
        Check("groupnorm/rank3", v => Functional.GroupNorm(v[0], 4, v[1], v[2], 1e-3), ["input", "weight", "bias"],
            [Fill(1, 2, 4, 7), Fill(10, 4), Fill(11, 4)], dtype);
        if (dtype == DType.Float64) // the default eps is the dtype's machine epsilon: the fixture used float64's
            Check("rmsnorm/last", v => Functional.RmsNorm(v[0], [8], v[1]), ["input", "weight"], [Fill(1, 3, 4, 8), Fill(10, 8)], dtype);
        Check("rmsnorm/two", v => Functional.RmsNorm(v[0], [3, 4], null, 1e-6), ["input"], [Fill(1, 2, 3, 4)], dtype);
        Check("rmsnorm/affine2d", v => Functional.RmsNorm(v[0], [3, 4], v[1], 1e-5), ["input", "weight"], [Fill(1, 2, 3, 4), Fill(10, 3, 4)], dtype);
    }

    public static TheoryData<string, Reduction> Reductions => new()
    {
        { "none", Reduction.None }, { "mean", Reduction.Mean }, { "sum", Reduction.Sum },
    };

    [Theory]
    [MemberData(nameof(Reductions))]
    public void RegressionLosses_MatchPyTorch(string name, Reduction reduction)
    {
        Tensor x = Fill(1, 4, 5) * 3, t = Fill(2, 4, 5) * 2;
        foreach (DType dtype in new[] { DType.Float64, DType.Float32 })
        {
            Check("l1/" + name, v => Functional.L1Loss(v[0], v[1], reduction), ["input", "target"], [x, t], dtype);
            foreach (double beta in new[] { 1.0, 0.3 })
            {
                string b = beta.ToString("0.0##", System.Globalization.CultureInfo.InvariantCulture);
                Check($"smooth_l1/{b}/{name}", v => Functional.SmoothL1Loss(v[0], v[1], reduction, beta), ["input", "target"], [x, t], dtype);
                Check($"huber/{b}/{name}", v => Functional.HuberLoss(v[0], v[1], reduction, beta), ["input", "target"], [x, t], dtype);
            }
        }
        Check("smooth_l1/0.0/mean", v => Functional.SmoothL1Loss(v[0], v[1], beta: 0), ["input", "target"], [x, t]);
    }

    [Theory]
    [InlineData("none", Reduction.None)]
    [InlineData("mean", Reduction.Mean)]
    [InlineData("sum", Reduction.Sum)]
    [InlineData("batchmean", Reduction.BatchMean)]
    public void KLDiv_MatchesPyTorch(string name, Reduction reduction)
    {
        Tensor logp = (Fill(1, 4, 5) * 2).LogSoftmax(1), p = (Fill(2, 4, 5) * 2).Softmax(1);
        foreach (DType dtype in new[] { DType.Float64, DType.Float32 })
        {
            Check("kl/" + name, v => Functional.KLDiv(v[0], v[1], reduction), ["input", "target"], [logp, p], dtype);
            Check("kl_log/" + name, v => Functional.KLDiv(v[0], v[1], reduction, logTarget: true), ["input", "target"], [logp, p.Log()], dtype);
        }
    }

    [Fact]
    public void KLDiv_ZeroTargets_LossZeroAndTargetGradientNaN_AsPyTorch()
    {
        Tensor logp = (Fill(1, 4, 5) * 2).LogSoftmax(1);
        double[] pz = (Fill(2, 4, 5) * 2).Softmax(1).ToDoubleArray();
        pz[1] = 0;
        pz[13] = 0;
        Check("kl_zero/sum", v => Functional.KLDiv(v[0], v[1], Reduction.Sum), ["input", "target"], [logp, T.F64(pz, 4, 5)]);
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void BinaryCrossEntropy_MatchesPyTorch(string name, Reduction reduction)
    {
        Tensor prob = (Fill(1, 4, 5) * 4).Sigmoid(), target = Fill(2, 4, 5) + 0.5, weight = Fill(3, 5) + 1.5;
        foreach (DType dtype in new[] { DType.Float64, DType.Float32 })
        {
            Check("bce/" + name, v => Functional.BinaryCrossEntropy(v[0], v[1], reduction: reduction), ["input", "target"], [prob, target], dtype);
            Tensor w = weight.To(dtype);
            Check("bce_weight/" + name, v => Functional.BinaryCrossEntropy(v[0], v[1], w, reduction), ["input", "target"], [prob, target], dtype);
        }
    }

    [Fact]
    public void BinaryCrossEntropy_ZeroAndOneInputs_ClampTheLogAsPyTorch()
    {
        Tensor x = T.F64([0.0, 1.0, 0.0, 1.0, 0.5, 1e-60], 6).RequireGrad(), t = T.F64([0.0, 1.0, 0.3, 0.6, 1.0, 0.2], 6);
        Expect("bce_edges/y", Functional.BinaryCrossEntropy(x, t, reduction: Reduction.None));
        Functional.BinaryCrossEntropy(x, t, reduction: Reduction.Sum).Backward();
        Expect("bce_edges/grad/input", x.Grad!, 1e-12);
    }
}
