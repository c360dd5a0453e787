using Backprop.NN;
using Backprop.Ops.Loss;
using Backprop.Tensors;

namespace Backprop.Tests.Ops.Loss;

/// <summary>
/// Cross-entropy with infinite logits follows PyTorch: log-softmax of a row holding +∞ is NaN in every
/// entry, so its loss and its whole gradient row are NaN; −∞ logits stay finite or +∞ as PyTorch gives them.
/// Binary cross-entropy on logits already agreed and is pinned here too. Reference numbers from torch 2
/// (Debian python3-torch): F.cross_entropy and F.binary_cross_entropy_with_logits with reduction 'none' / 'sum'.
/// </summary>
public class InfiniteLogitsTests
{
    private const double Inf = double.PositiveInfinity, NaN = double.NaN;

    // Rows: +∞ logit (target elsewhere), finite, −∞ at the target, +∞ row whose target is ignored, all −∞, two +∞.
    private static readonly double[] X =
    [
        Inf, 0, 1,
        0.5, -1, 2,
        double.NegativeInfinity, 0, 1,
        Inf, 0, 1,
        double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity,
        Inf, Inf, 0,
    ];
    private static readonly long[] Targets = [1, 0, 0, -100, 1, 2];

    private static readonly double[] Losses = [NaN, 1.7413112966571571, Inf, 0, NaN, NaN];

    private static readonly double[] FiniteRowGrad0 = [-0.8247096078599633, 0.03911257327068745, 0.7855970345892759];
    private static readonly double[] FiniteRowGrad0Smoothed = [-0.7580429411932966, 0.0057792399373541165, 0.7522637012559426];
    private static readonly double[] NegInfRowGrad = [-1.0, 0.2689414213699951, 0.7310585786300049];
    private static readonly double[] NegInfRowGradSmoothed = [-0.9333333333333333, 0.23560808803666178, 0.6977252452966716];

    private static double[] ExpectedGrad(bool smoothed)
    {
        double[] nanRow = [NaN, NaN, NaN];
        return [.. nanRow, .. smoothed ? FiniteRowGrad0Smoothed : FiniteRowGrad0, .. smoothed ? NegInfRowGradSmoothed : NegInfRowGrad, .. nanRow, .. nanRow, .. nanRow];
    }

    /// <summary>Equal where finite (within tol), and the same NaN or infinity elsewhere.</summary>
    private static void Same(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i])) Assert.True(double.IsNaN(actual[i]), $"element {i}: expected NaN, got {actual[i]}");
            else if (double.IsInfinity(expected[i])) Assert.Equal(expected[i], actual[i]);
            else Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Theory]
    [InlineData(DType.Float64, 0.0)]
    [InlineData(DType.Float64, 0.1)]
    [InlineData(DType.Float32, 0.0)]
    [InlineData(DType.Float32, 0.1)]
    public void InfiniteLogits_LossesMatchPyTorch(DType dtype, double smoothing)
    {
        Tensor x = Tensor.FromArray(X, [6, 3]).To(dtype);
        Tensor loss = Functional.CrossEntropy(x, Tensor.FromArray(Targets), Reduction.None, smoothing);
        Same(Losses, loss.ToDoubleArray(), dtype == DType.Float32 ? 1e-6 : 1e-12);
        Assert.True(double.IsNaN(Functional.CrossEntropy(x, Tensor.FromArray(Targets), Reduction.Mean, smoothing).ToDoubleArray()[0]));
    }

    [Theory]
    [InlineData(DType.Float64, 0.0, false)]
    [InlineData(DType.Float64, 0.1, false)]
    [InlineData(DType.Float64, 0.1, true)]
    [InlineData(DType.Float32, 0.0, false)]
    [InlineData(DType.Float32, 0.0, true)]
    public void InfiniteLogits_GradientsMatchPyTorch(DType dtype, double smoothing, bool createGraph)
    {
        // createGraph takes the recorded tensor-op backward, otherwise the fused one: both give PyTorch's NaN rows.
        Tensor x = Tensor.FromArray(X, [6, 3]).To(dtype).RequireGrad();
        Functional.CrossEntropy(x, Tensor.FromArray(Targets), Reduction.Sum, smoothing).Backward(createGraph: createGraph);
        Same(ExpectedGrad(smoothing != 0), x.Grad!.ToDoubleArray(), dtype == DType.Float32 ? 1e-6 : 1e-12);
    }

    [Fact]
    public void InfiniteLogits_SpatialInput_MatchesTheRowCase()
    {
        // [1, 3, 2]: position 0 holds the +∞ row (target 1), position 1 the finite row (target 0).
        Tensor x = Tensor.FromArray(new double[] { Inf, 0.5, 0, -1, 1, 2 }, [1, 3, 2]).RequireGrad();
        Tensor t = Tensor.FromArray(new long[] { 1, 0 }, [1, 2]);
        Tensor loss = Functional.CrossEntropy(x, t, Reduction.None);
        Same([NaN, 1.7413112966571571], loss.ToDoubleArray(), 1e-12);
        loss.Sum().Backward();
        Same([NaN, FiniteRowGrad0[0], NaN, FiniteRowGrad0[1], NaN, FiniteRowGrad0[2]], x.Grad!.ToDoubleArray(), 1e-12);
    }

    [Fact]
    public void InfiniteLogits_AgreeWithLogSoftmaxThenNll()
    {
        Tensor x = Tensor.FromArray(X, [6, 3]);
        Tensor t = Tensor.FromArray(Targets);
        Same(Functional.NllLoss(x.LogSoftmax(1), t, Reduction.None).ToDoubleArray(),
             Functional.CrossEntropy(x, t, Reduction.None).ToDoubleArray(), 1e-12);
    }

    [Fact]
    public void FiniteLogits_AreUnchangedBitForBit()
    {
        // The +∞ scan must not touch ordinary rows: compare with the finite row alone.
        Tensor all = Functional.CrossEntropy(Tensor.FromArray(X, [6, 3]), Tensor.FromArray(Targets), Reduction.None);
        Tensor alone = Functional.CrossEntropy(Tensor.FromArray(new[] { 0.5, -1, 2 }, [1, 3]), Tensor.FromArray(new long[] { 0 }), Reduction.None);
        Assert.Equal(alone.ToDoubleArray()[0], all.ToDoubleArray()[1]);
    }

    [Fact]
    public void BceWithLogits_InfiniteLogits_MatchPyTorch()
    {
        double nInf = double.NegativeInfinity;
        Tensor x = Tensor.FromArray(new[] { Inf, Inf, Inf, nInf, nInf, nInf, NaN }).RequireGrad();
        Tensor t = Tensor.FromArray(new[] { 0, 1, 0.5, 0, 1, 0.5, 1 });
        Tensor loss = Functional.BinaryCrossEntropyWithLogits(x, t, Reduction.None);
        Same([Inf, NaN, Inf, NaN, NaN, NaN, NaN], loss.ToDoubleArray(), 0);
        loss.Sum().Backward();
        Same([1, 0, 0.5, 0, -1, -0.5, NaN], x.Grad!.ToDoubleArray(), 0);
        x.Grad = null;
        Functional.BinaryCrossEntropyWithLogits(x, t, Reduction.Sum, posWeight: Tensor.FromArray(new[] { 2.0 })).Backward();
        Same([1, 0, 0.5, 0, -2, -1, NaN], x.Grad!.ToDoubleArray(), 0);
    }
}
