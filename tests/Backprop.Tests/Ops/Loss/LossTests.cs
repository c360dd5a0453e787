using Backprop.Autograd;
using Backprop.NN;
using Backprop.Ops.Loss;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Loss;

public class LossTests
{
    // Reference values: PyTorch 1.13 (Debian python3-torch), float64, e.g.
    // F.cross_entropy(X, torch.tensor([0, 2, -100, 1]), weight=W, label_smoothing=0.1, reduction=...).
    private static Tensor X() => T.F64([1.5, -0.3, 2.2, 0.1, 0.4, -1.2, 3.0, 1.0, -2.0, -0.7, 0.9, 0.05], 4, 3);
    private static Tensor Target() => Tensor.FromArray(new long[] { 0, 2, -100, 1 });
    private static Tensor W() => T.F64([0.2, 1.0, 0.7]);

    // [2, 3, 4]: N = 2, C = 3, one spatial dim of 4; ignoreIndex −1.
    private static Tensor XS() => T.F64([0.3, -1.1, 2.0, 0.5, 1.2, 0.0, -0.4, 0.8, -0.6, 1.5, 0.2, -0.9,
                                         0.7, 0.7, -1.3, 2.4, 0.1, -0.2, 0.9, 1.1, -1.0, 0.3, 0.6, 0.0], 2, 3, 4);
    private static Tensor TS() => Tensor.FromArray(new long[] { 0, 2, 1, -1, 2, -1, 0, 1 }, new Shape(2, 4));
    private static Tensor WS() => T.F64([1.5, 0.5, 2.0]);

    // ---------------- CrossEntropy ----------------

    [Fact]
    public void CrossEntropy_SmoothingIgnoreWeight_MatchesPyTorch()
    {
        T.Close([1.228224614772], Functional.CrossEntropy(X(), Target(), Reduction.Mean, 0.1, -100, W()), 1e-10);
        T.Close([2.333626768068], Functional.CrossEntropy(X(), Target(), Reduction.Sum, 0.1, -100, W()), 1e-10);
        T.Close([0.325101841911, 1.507766532347, 0.0, 0.50075839381],
                Functional.CrossEntropy(X(), Target(), Reduction.None, 0.1, -100, W()), 1e-10);
        T.Close([1.510417998161], Functional.CrossEntropy(X(), Tensor.FromArray(new long[] { 0, 2, 1, 1 })), 1e-10);
        T.Close([1.320997808528], Functional.CrossEntropy(X(), Target(), labelSmoothing: 0.25), 1e-10);
        T.Close([1.228224614772], Functional.CrossEntropy(X().To(DType.Float32), Target(), Reduction.Mean, 0.1, -100, W().To(DType.Float32)), 1e-5);
    }

    [Fact]
    public void CrossEntropy_Spatial_MatchesPyTorch()
    {
        // F.cross_entropy(XS, TS, weight=WS, ignore_index=-1, label_smoothing=0.2, reduction=...)
        T.Close([1.648276408235], Functional.CrossEntropy(XS(), TS(), Reduction.Mean, 0.2, -1, WS()), 1e-10);
        Tensor none = Functional.CrossEntropy(XS(), TS(), Reduction.None, 0.2, -1, WS());
        Assert.Equal(new Shape(2, 4), none.Shape);
        T.Close([2.073322102111, 0.796014934009, 1.431963651202, 0.0, 3.991439207397, 0.0, 3.803557125332, 1.089914245828], none, 1e-10);
    }

    [Fact]
    public void CrossEntropy_OneDimInput_MatchesPyTorch()
    {
        // F.cross_entropy(torch.tensor([0.5, -1.0, 2.0, 0.0]), torch.tensor(2), label_smoothing=0.1)
        Tensor y = Functional.CrossEntropy(T.F64([0.5, -1.0, 2.0, 0.0]), Tensor.Scalar(2, DType.Int64), labelSmoothing: 0.1);
        Assert.Equal(Shape.Scalar, y.Shape);
        T.Close([0.50484958239], y, 1e-10);
        Assert.Equal(Shape.Scalar, Functional.CrossEntropy(T.F64([0.5, -1.0]), Tensor.Scalar(0, DType.Int64), Reduction.None).Shape);
    }

    public static TheoryData<Reduction, double, bool> CeOptions => new()
    {
        { Reduction.Mean, 0.0, false },
        { Reduction.Mean, 0.1, true },
        { Reduction.Sum, 0.3, true },
        { Reduction.None, 0.2, true },
        { Reduction.None, 0.0, false },
        { Reduction.Sum, 0.0, true },
        { Reduction.Mean, 1.0, false },
    };

    [Theory]
    [MemberData(nameof(CeOptions))]
    public void CrossEntropy_GradCheck(Reduction reduction, double smoothing, bool weighted)
    {
        Tensor? w = weighted ? W() : null;
        GradCheck.Verify(x => Functional.CrossEntropy(x[0], Target(), reduction, smoothing, -100, w), [T.Param(1, 4, 3)]);
        GradCheck.VerifySecondOrder(x => Functional.CrossEntropy(x[0], Target(), reduction, smoothing, -100, w), [T.Param(1, 4, 3)]);
    }

    [Theory]
    [MemberData(nameof(CeOptions))]
    public void CrossEntropy_Spatial_GradCheck(Reduction reduction, double smoothing, bool weighted)
    {
        Tensor? w = weighted ? WS() : null;
        GradCheck.Verify(x => Functional.CrossEntropy(x[0], TS(), reduction, smoothing, -1, w), [T.Param(2, 2, 3, 4)]);
        GradCheck.VerifySecondOrder(x => Functional.CrossEntropy(x[0], TS(), reduction, smoothing, -1, w), [T.Param(2, 2, 3, 4)]);
    }

    [Fact]
    public void CrossEntropy_TwoSpatialDims_And1D_GradCheck()
    {
        Tensor t = Tensor.FromArray(new long[] { 0, 1, 2, 1, 1, 0, 2, 2, 0, 1, 0, 2 }, new Shape(2, 2, 3));
        GradCheck.Verify(x => Functional.CrossEntropy(x[0], t, labelSmoothing: 0.15, weight: WS()), [T.Param(3, 2, 3, 2, 3)]);
        Tensor s = Tensor.Scalar(1, DType.Int64);
        GradCheck.Verify(x => Functional.CrossEntropy(x[0], s, labelSmoothing: 0.2), [T.Param(4, 5)]);
        GradCheck.VerifySecondOrder(x => Functional.CrossEntropy(x[0], s, Reduction.None, 0.2), [T.Param(4, 5)]);
    }

    [Fact]
    public void CrossEntropy_Gradient_IsSoftmaxMinusOneHotOverN()
    {
        Tensor x = T.F64([1.0, 2.0, 3.0, 0.0, 0.0, 0.0], 2, 3).RequireGrad();
        Functional.CrossEntropy(x, Tensor.FromArray(new long[] { 2, 0 })).Backward();
        double[] p = x.Detach().Softmax(1).ToDoubleArray();
        T.Close([p[0] / 2, p[1] / 2, (p[2] - 1) / 2, (p[3] - 1) / 2, p[4] / 2, p[5] / 2], x.Grad!, 1e-12);
    }

    [Fact]
    public void CrossEntropy_LargeLogits_FiniteLossAndGradient()
    {
        Tensor x = T.F32([1000f, -1000f, 0f, -1000f, 1000f, 500f], 2, 3).RequireGrad();
        Tensor loss = Functional.CrossEntropy(x, Tensor.FromArray(new long[] { 0, 2 }), labelSmoothing: 0.1);
        Assert.True(double.IsFinite(loss.Item()));
        // sample 0: nll 0, smooth (2000 + 1000)/3; sample 1: nll 500, smooth (2000 + 0 + 500)/3
        double expected = (0.1 / 3 * 3000 + 0.9 * 500 + 0.1 / 3 * 2500) / 2;
        Assert.True(Math.Abs(loss.Item() - expected) < 1e-2, $"loss {loss.Item()} vs {expected}");
        loss.Backward();
        foreach (double g in x.Grad!.ToDoubleArray()) Assert.True(double.IsFinite(g));
    }

    [Fact]
    public void CrossEntropy_AllIgnored_MeanIsNaN_GradientZero()
    {
        Tensor x = T.Param(5, 2, 3);
        Tensor t = Tensor.FromArray(new long[] { -100, -100 });
        Tensor loss = Functional.CrossEntropy(x, t);
        Assert.True(double.IsNaN(loss.Item()));
        loss.Backward();
        T.Close(new double[6], x.Grad!);
        Assert.Equal(0.0, Functional.CrossEntropy(x, t, Reduction.Sum).Item());
    }

    [Fact]
    public void CrossEntropy_FloatTarget_NamesBothDTypes()
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(Tensor.Zeros([2, 3]), Tensor.Zeros([2])));
        Assert.Contains("CrossEntropy", e.Message);
        Assert.Contains("int64", e.Message);
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void CrossEntropy_OutOfRangeTarget_NamesValueClassesAndPosition()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Functional.CrossEntropy(Tensor.Zeros([3, 4]), Tensor.FromArray(new long[] { 0, 7, 1 })));
        Assert.Contains("7", e.Message);
        Assert.Contains("4 classes", e.Message);
        Assert.Contains("[1]", e.Message);
        var n = Assert.Throws<ArgumentException>(() =>
            Functional.NllLoss(Tensor.Zeros([2, 3, 2]), Tensor.FromArray(new long[] { 0, 1, 2, -5 }, new Shape(2, 2))));
        Assert.Contains("-5", n.Message);
        Assert.Contains("[1, 1]", n.Message);
    }

    [Fact]
    public void CrossEntropy_ShapeMismatch_NamesBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(Tensor.Zeros([4, 3]), Tensor.Zeros([5], DType.Int64)));
        Assert.Contains("[4, 3]", e.Message);
        Assert.Contains("[5]", e.Message);
        var w = Assert.Throws<ArgumentException>(() =>
            Functional.CrossEntropy(Tensor.Zeros([4, 3]), Tensor.Zeros([4], DType.Int64), weight: Tensor.Ones([2])));
        Assert.Contains("[2]", w.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.CrossEntropy(Tensor.Zeros([4, 3]), Tensor.Zeros([4], DType.Int64), labelSmoothing: 1.5));
    }

    // ---------------- NllLoss ----------------

    [Fact]
    public void NllLoss_MatchesPyTorch()
    {
        // F.nll_loss(torch.log_softmax(X, 1), target, weight=W, reduction=...)
        Tensor lp = X().LogSoftmax(1);
        T.Close([1.212807645226], Functional.NllLoss(lp, Target(), weight: W()), 1e-10);
        T.Close([2.304334525929], Functional.NllLoss(lp, Target(), Reduction.Sum, weight: W()), 1e-10);
        T.Close([0.231316582392, 1.584860441312, 0.0, 0.488157502225], Functional.NllLoss(lp, Target(), Reduction.None, weight: W()), 1e-10);
        T.Close([-2.5], Functional.NllLoss(T.F64([1.0, 2.0, 3.0, 4.0], 2, 2), Tensor.FromArray(new long[] { 1, 0 })), 1e-12);
    }

    [Theory]
    [InlineData(Reduction.Mean, true)]
    [InlineData(Reduction.Sum, false)]
    [InlineData(Reduction.None, true)]
    public void NllLoss_GradCheck(Reduction reduction, bool weighted)
    {
        Tensor? w = weighted ? W() : null;
        GradCheck.Verify(x => Functional.NllLoss(x[0], Target(), reduction, -100, w), [T.Param(6, 4, 3)]);
        GradCheck.Verify(x => Functional.NllLoss(x[0], TS(), reduction, -1, weighted ? WS() : null), [T.Param(7, 2, 3, 4)]);
        // NLL is linear in its input: its second derivative shows up composed with log-softmax.
        GradCheck.VerifySecondOrder(x => Functional.NllLoss(x[0].LogSoftmax(1), Target(), reduction, -100, w), [T.Param(6, 4, 3)]);
    }

    // ---------------- MseLoss ----------------

    private static Tensor A() => T.F64([0.5, -1.2, 3.0, 2.0, 0.1, -0.4], 2, 3);
    private static Tensor B() => T.F64([1.0, 0.3, 2.5, -1.0, 0.6, 0.0], 2, 3);

    [Fact]
    public void MseLoss_MatchesPyTorch()
    {
        T.Close([2.026666666667], Functional.MseLoss(A(), B()), 1e-10);
        T.Close([12.16], Functional.MseLoss(A(), B(), Reduction.Sum), 1e-10);
        T.Close([0.25, 2.25, 0.25, 9.0, 0.25, 0.16], Functional.MseLoss(A(), B(), Reduction.None), 1e-10);
        T.Close([2.033333333333], Functional.MseLoss(A(), T.F64([1.0, 0.3, 2.5]).BroadcastTo([2, 3])), 1e-10); // broadcast asked for explicitly
        T.Close([2.026666666667], Functional.MseLoss(A().To(DType.Float32), B().To(DType.Float32)), 1e-5);
    }

    public static TheoryData<int[], int[], Reduction> MseCases => new()
    {
        { [2, 3], [2, 3], Reduction.Mean },
        { [2, 3], [2, 3], Reduction.None },
        { [2, 3], [2, 3], Reduction.Sum },
        { [3, 1], [3, 1], Reduction.Mean },
        { [4], [4], Reduction.None },
        { [], [], Reduction.Mean },
    };

    [Theory]
    [MemberData(nameof(MseCases))]
    public void MseLoss_GradCheck(int[] sa, int[] sb, Reduction reduction)
    {
        GradCheck.Verify(x => Functional.MseLoss(x[0], x[1], reduction), [T.Param(8, sa), T.Param(9, sb)]);
        GradCheck.VerifySecondOrder(x => Functional.MseLoss(x[0], x[1], reduction), [T.Param(8, sa), T.Param(9, sb)]);
    }

    [Fact]
    public void MseLoss_ExplicitBroadcast_GradCheck()
    {
        GradCheck.Verify(x => Functional.MseLoss(x[0], x[1].BroadcastTo([2, 3])), [T.Param(8, 2, 3), T.Param(9, 3)]);
    }

    [Theory]
    [InlineData(new[] { 4, 1 }, new[] { 4 })]    // the [N, 1] prediction against an [N] target PyTorch broadcasts to [N, N]
    [InlineData(new[] { 4 }, new[] { 4, 1 })]
    [InlineData(new[] { 2, 3 }, new[] { 3 })]
    [InlineData(new[] { 3 }, new int[0])]
    public void MseLoss_DifferentShapes_AreRefusedNamingBoth(int[] input, int[] target)
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.MseLoss(Tensor.Zeros(input), Tensor.Zeros(target)));
        Assert.Contains("MseLoss", e.Message);
        Assert.Contains(new Shape(input).ToString(), e.Message);
        Assert.Contains(new Shape(target).ToString(), e.Message);
    }

    [Fact]
    public void MseLoss_Errors_NameShapesAndDTypes()
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.MseLoss(Tensor.Zeros([2, 3]), Tensor.Zeros([4])));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4]", e.Message);
        var d = Assert.Throws<ArgumentException>(() => Functional.MseLoss(Tensor.Zeros([2]), Tensor.Zeros([2], DType.Float64)));
        Assert.Contains("float32", d.Message);
        Assert.Contains("float64", d.Message);
    }

    // ---------------- BinaryCrossEntropyWithLogits ----------------

    // F.binary_cross_entropy_with_logits(XL, TL, pos_weight=PW, reduction=...); note the ±60/80 logits.
    private static Tensor XL() => T.F64([0.5, -60.0, 3.0, 80.0, 0.1, -0.4], 2, 3);
    private static Tensor TL() => T.F64([1.0, 0.0, 0.3, 0.0, 1.0, 0.5], 2, 3);
    private static Tensor PW() => T.F64([2.0, 0.5, 3.0]);

    [Fact]
    public void BceWithLogits_MatchesPyTorch()
    {
        T.Close([14.179020427619], Functional.BinaryCrossEntropyWithLogits(XL(), TL(), posWeight: PW()), 1e-10);
        T.Close([85.074122565715], Functional.BinaryCrossEntropyWithLogits(XL(), TL(), Reduction.Sum, PW()), 1e-10);
        T.Close([0.94815396836, 0.0, 2.177739762518, 80.0, 0.322198330037, 1.6260305048],
                Functional.BinaryCrossEntropyWithLogits(XL(), TL(), Reduction.None, PW()), 1e-10);
        T.Close([13.996679374705], Functional.BinaryCrossEntropyWithLogits(XL(), TL()), 1e-10);
        T.Close([13.996679374705], Functional.BinaryCrossEntropyWithLogits(XL().To(DType.Float32), TL().To(DType.Float32)), 1e-4);
    }

    [Fact]
    public void BceWithLogits_HugeLogits_Finite()
    {
        Tensor x = T.F32([1000f, -1000f, 1000f, -1000f]).RequireGrad();
        Tensor t = T.F32([1f, 0f, 0f, 1f]);
        Tensor loss = Functional.BinaryCrossEntropyWithLogits(x, t, Reduction.None);
        T.Close([0, 0, 1000, 1000], loss, 1e-3);
        loss.Sum().Backward();
        T.Close([0, 0, 1, -1], x.Grad!, 1e-6);
    }

    [Theory]
    [InlineData(Reduction.Mean, true)]
    [InlineData(Reduction.Sum, false)]
    [InlineData(Reduction.None, true)]
    [InlineData(Reduction.None, false)]
    public void BceWithLogits_GradCheck(Reduction reduction, bool withPosWeight)
    {
        Tensor[] inputs = withPosWeight
            ? [T.Param(10, 2, 3), T.Uniform(11, 0, 1, 2, 3), T.Uniform(12, 0.5, 2, 3)]
            : [T.Param(10, 2, 3), T.Uniform(11, 0, 1, 2, 3)];
        Tensor F(Tensor[] x) => Functional.BinaryCrossEntropyWithLogits(x[0], x[1], reduction, withPosWeight ? x[2] : null);
        GradCheck.Verify(F, inputs);
        GradCheck.VerifySecondOrder(F, inputs);
    }

    [Fact]
    public void BceWithLogits_PosWeightBroadcastsOverLastDim_GradCheck()
    {
        Tensor[] inputs = [T.Param(13, 2, 2, 3), T.Uniform(14, 0, 1, 2, 2, 3), T.Uniform(15, 0.5, 2, 3)];
        GradCheck.Verify(x => Functional.BinaryCrossEntropyWithLogits(x[0], x[1], posWeight: x[2]), inputs);
    }

    [Fact]
    public void BceWithLogits_ShapeErrors_NameShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropyWithLogits(Tensor.Zeros([2, 3]), Tensor.Zeros([3])));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3]", e.Message);
        var p = Assert.Throws<ArgumentException>(() =>
            Functional.BinaryCrossEntropyWithLogits(Tensor.Zeros([2, 3]), Tensor.Zeros([2, 3]), posWeight: Tensor.Ones([2])));
        Assert.Contains("[2]", p.Message);
        Assert.Contains("[2, 3]", p.Message);
    }
}
