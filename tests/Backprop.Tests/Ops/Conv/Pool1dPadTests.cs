using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;
using static Backprop.Tests.Ops.Conv.PoolPadFixtures;

namespace Backprop.Tests.Ops.Conv;

/// <summary>1-D pooling, max pooling indices, max unpooling, divisorOverride and Pad against torch 1.13 (PoolPadFixtures).</summary>
public class Pool1dPadTests
{
    private static Tensor X1 => SineFill.Tensor(0.3, 2, 3, 9);
    private static Tensor X2 => SineFill.Tensor(0.7, 1, 2, 6, 6);
    private static Tensor X3 => SineFill.Tensor(0.2, 2, 3, 4);
    private static Tensor X4 => SineFill.Tensor(0.4, 1, 2, 3, 4);

    private static void Is(int[] shape, double[] expected, Tensor actual, double tol = 1e-9)
    {
        Assert.Equal(new Shape(shape), actual.Shape);
        T.Close(expected, actual, tol);
    }

    [Fact]
    public void MaxPool1d_MatchesTorch_WithIndices()
    {
        (Tensor y, Tensor i) = Functional.MaxPool1dWithIndices(X1, 3, 2, padding: 1);
        Is([2, 3, 5], MaxPool1dValues, y);
        Assert.Equal(DType.Int64, i.DType);
        Is([2, 3, 5], MaxPool1dIndices, i);
        Is([2, 3, 5], MaxPool1dValues, new MaxPool1d(3, 2, 1).Call(X1));
        Is([2, 3, 6], MaxPool1dDilatedCeil, Functional.MaxPool1d(X1, 2, 1, dilation: 3, ceilMode: true));
        Is([2, 3, 3], MaxPool1dCeil, Functional.MaxPool1d(X1, 4, 3, ceilMode: true));
        Is([3, 3], MaxPool1dCeil[..9], Functional.MaxPool1d(X1.Select(0, 0), 4, 3, ceilMode: true)); // unbatched [C, L]
    }

    [Fact]
    public void AvgPool1d_MatchesTorch()
    {
        Is([2, 3, 5], AvgPool1dNoPadCount, Functional.AvgPool1d(X1, 3, 2, padding: 1, countIncludePad: false));
        Is([2, 3, 5], AvgPool1dCeil, new AvgPool1d(3, 2, 1, ceilMode: true).Call(X1));
        Is([3, 2], AvgPool1dUnbatched, Functional.AvgPool1d(X1.Select(0, 0), 4));
    }

    [Fact]
    public void Pool1d_GradCheck()
    {
        GradCheck.Verify(x => Functional.MaxPool1d(x[0], 3, 2, padding: 1), [T.Param(1, 2, 3, 9)]);
        GradCheck.Verify(x => Functional.MaxPool1d(x[0], 2, 1, dilation: 3, ceilMode: true), [T.Param(2, 2, 9)]);
        GradCheck.Verify(x => Functional.AvgPool1d(x[0], 3, 2, padding: 1, ceilMode: true, countIncludePad: false), [T.Param(3, 2, 3, 9)]);
        GradCheck.VerifySecondOrder(x => Functional.AvgPool1d(x[0], 3, 2, padding: 1).Square(), [T.Param(4, 1, 2, 7)]);
    }

    [Fact]
    public void Pool1d_Errors_NameThe1dOp()
    {
        Assert.Contains("MaxPool1d: expected a 2-D [C, L] or 3-D [N, C, L] input", Assert.Throws<ArgumentException>(() => Functional.MaxPool1d(X2, 2)).Message);
        Assert.Contains("padding must be between 0 and half the kernel size, got padding 2 for kernel 3",
            Assert.Throws<ArgumentException>(() => Functional.AvgPool1d(X1, 3, padding: 2)).Message);
        Assert.Contains("AvgPool1d: input of shape [2, 3, 9] is too small for kernel 10",
            Assert.Throws<ArgumentException>(() => Functional.AvgPool1d(X1, 10)).Message);
    }

    [Fact]
    public void MaxPool2d_Indices_MatchTorch()
    {
        (Tensor y, Tensor i) = Functional.MaxPool2dWithIndices(X2, 3, 2, 1);
        Is([1, 2, 3, 3], MaxPool2dPadded, y);
        Is([1, 2, 3, 3], MaxPool2dPaddedIndices, i);
        Is([1, 2, 3, 3], MaxPool2d2x2Indices, new MaxPool2d(2).ForwardWithIndices(X2).Indices);
        Is([2, 3, 3], MaxPool2dPaddedIndices, Functional.MaxPool2dWithIndices(X2.Select(0, 0), 3, 2, 1).Indices); // unbatched
        // Indices come with the same gradient path as the plain pool.
        GradCheck.Verify(x => Functional.MaxPool2dWithIndices(x[0], 3, 2, 1).Output, [T.Param(5, 1, 2, 6, 6)]);
    }

    [Fact]
    public void AvgPool2d_DivisorOverride_MatchesTorch()
    {
        Is([1, 2, 3, 3], AvgPool2dDivisor4, Functional.AvgPool2d(X2, 3, 2, padding: 1, divisorOverride: 4));
        Tensor x5 = X2.Narrow(2, 0, 5).Narrow(3, 0, 5);
        Is([1, 2, 3, 3], AvgPool2dCeilDivisor3, new AvgPool2d(2, 2, ceilMode: true, divisorOverride: 3).Call(x5));
        GradCheck.Verify(x => Functional.AvgPool2d(x[0], 3, 2, padding: 1, divisorOverride: 4), [T.Param(6, 1, 2, 6, 6)]);
        GradCheck.VerifySecondOrder(x => Functional.AvgPool2d(x[0], 2, 2, ceilMode: true, divisorOverride: 3).Square(), [T.Param(7, 1, 1, 5, 5)]);
        Assert.Contains("divisorOverride must not be zero", Assert.Throws<ArgumentException>(() => Functional.AvgPool2d(X2, 2, divisorOverride: 0)).Message);
    }

    [Fact]
    public void MaxUnpool_MatchesTorch_AndInvertsThePool()
    {
        (Tensor y, Tensor i) = Functional.MaxPool2dWithIndices(X2, 3, 2, 1);
        Is([1, 2, 6, 6], MaxUnpool2dValues, Functional.MaxUnpool2d(y, i, 3, 2, 1, outputSize: (6, 6)));
        Is([1, 2, 6, 6], MaxUnpool2dValues, new MaxUnpool2d(3, 2, 1).Forward(y, i, (6, 6)));
        Tensor yr = y.Detach().RequireGrad();
        (Functional.MaxUnpool2d(yr, i, 3, 2, 1, outputSize: (6, 6)) * SineFill.Tensor(1.1, 1, 2, 6, 6)).Sum().Backward();
        Is([1, 2, 3, 3], MaxUnpool2dGrad, yr.Grad!);
        // Overlapping windows can name one position twice (above: outputs 0 and 1 both came from position 1); the later
        // value is kept but both get its gradient, as PyTorch's gather backward. Distinct indices make it a true adjoint:
        Tensor distinct = Functional.MaxPool2dWithIndices(X2, 2).Indices;
        GradCheck.Verify(x => Functional.MaxUnpool2d(x[0], distinct, 2), [T.Param(8, 1, 2, 3, 3)]);

        (Tensor y1, Tensor i1) = new MaxPool1d(2).ForwardWithIndices(X1);
        Is([2, 3, 9], MaxUnpool1dValues, Functional.MaxUnpool1d(y1, i1, 2, outputSize: 9));
        Is([2, 3, 8], MaxUnpool1dValues.Where((_, k) => k % 9 != 8).ToArray(), new MaxUnpool1d(2).Forward(y1, i1)); // default size 8
    }

    [Fact]
    public void MaxUnpool_Errors_NameTheOp()
    {
        (Tensor y, Tensor i) = Functional.MaxPool2dWithIndices(X2, 2);
        Assert.Contains("MaxUnpool2d: found an invalid max index", Assert.Throws<ArgumentException>(() => Functional.MaxUnpool2d(y, i * 10, 2)).Message);
        Assert.Contains("must lie between 4 and 8", Assert.Throws<ArgumentException>(() => Functional.MaxUnpool2d(y, i, 2, outputSize: (9, 6))).Message);
        Assert.Contains("expected int64 indices", Assert.Throws<ArgumentException>(() => Functional.MaxUnpool2d(y, i.To(DType.Float64), 2)).Message);
        Assert.Throws<InvalidOperationException>(() => new MaxUnpool2d(2).Call(y));
    }

    [Fact]
    public void Pad_MatchesTorch_InEveryMode()
    {
        Is([2, 5, 4], PadConstant, Functional.Pad(X3, [1, -1, 2, 0], value: 0.5));
        Is([3, 3, 5], PadConstant3d, Functional.Pad(X3, [0, 1, 0, 0, 1, 0]));
        Is([2, 3, 7], PadReflect1d, Functional.Pad(X3, [2, 1], "reflect"));
        Is([1, 2, 5, 6], PadReflect2d, Functional.Pad(X4, [1, 1, 2, 0], "reflect"));
        Is([2, 6, 7], PadReplicate2dUnbatched, Functional.Pad(X3, [1, 2, 2, 1], "replicate"));
        Is([1, 4, 4, 5], PadReplicate3dUnbatched, Functional.Pad(X4, [1, 0, 0, 1, 1, 1], "replicate"));
        Is([1, 2, 4, 7], PadCircular2d, Functional.Pad(X4, [2, 1, 1, 0], "circular"));
        Is([2, 3, 5], PadCircularCrop, Functional.Pad(X3, [-1, 2], "circular"));
        Is([2, 3, 5], PadReflectCrop, Functional.Pad(X3, [-1, 2], "reflect"));
        Tensor bools = Tensor.FromArray(new[] { true, false }).Reshape(1, 2);
        Assert.Equal([false, true, false, false], Functional.Pad(bools, [1, 1]).ToArray<bool>());
    }

    [Theory]
    [InlineData("reflect", new[] { 2, 1, 1, 1 })]
    [InlineData("circular", new[] { 3, 1, 0, 2 })]
    [InlineData("replicate", new[] { 2, 1, 1, 3 })]
    [InlineData("constant", new[] { 1, 2, -1, 1 })]
    public void Pad_Gradient_MatchesTorch_AndGradCheck(string mode, int[] pad)
    {
        double[] expected = mode switch { "reflect" => GradReflect, "circular" => GradCircular, "replicate" => GradReplicate, _ => GradConstant };
        Tensor x = X4.RequireGrad();
        Tensor y = Functional.Pad(x, pad, mode);
        (y * SineFill.Tensor(0.9, [.. y.Shape.Dims])).Sum().Backward();
        Is([1, 2, 3, 4], expected, x.Grad!);
        GradCheck.Verify(v => Functional.Pad(v[0], pad, mode), [T.Param(9, 1, 2, 3, 4)]);
        GradCheck.VerifySecondOrder(v => Functional.Pad(v[0], pad, mode).Square(), [T.Param(10, 1, 2, 3, 4)]);
    }

    [Fact]
    public void Pad_Errors_AsTorch()
    {
        Assert.Contains("(before, after) pairs", Assert.Throws<ArgumentException>(() => Functional.Pad(X3, [1])).Message);
        Assert.Contains("pads 4 dims, but the input of shape [2, 3, 4] has 3", Assert.Throws<ArgumentException>(() => Functional.Pad(X3, [1, 1, 1, 1, 1, 1, 1, 1])).Message);
        Assert.Contains("unknown mode 'mirror'", Assert.Throws<ArgumentException>(() => Functional.Pad(X3, [1, 1], "mirror")).Message);
        Assert.Contains("must be smaller than its size 4", Assert.Throws<ArgumentException>(() => Functional.Pad(X3, [4, 0], "reflect")).Message);
        Assert.Contains("must not exceed its size 4", Assert.Throws<ArgumentException>(() => Functional.Pad(X3, [5, 0], "circular")).Message);
        Assert.Contains("3-D batched input, got shape [3, 4]", Assert.Throws<ArgumentException>(() => Functional.Pad(X3.Select(0, 0), [1, 1], "circular")).Message);
        Assert.Contains("mode 'reflect' with pad (1, 1)", Assert.Throws<ArgumentException>(() => Functional.Pad(X4, [1, 1], "reflect")).Message);
        Assert.Contains("negative size", Assert.Throws<ArgumentException>(() => Functional.Pad(X3, [-3, -2])).Message);
    }
}
