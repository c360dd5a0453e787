using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Conv;

/// <summary>Adaptive average and max pooling: window formula, gradient checks (second order for the average), threads and errors.</summary>
public class AdaptivePoolTests
{
    [Theory]
    [InlineData(5, 7, 3, 4)]
    [InlineData(4, 6, 2, 3)]
    [InlineData(3, 2, 5, 4)]
    [InlineData(6, 5, 1, 1)]
    [InlineData(1, 1, 2, 2)]
    public void GradCheck_BothPools(int h, int w, int oh, int ow)
    {
        GradCheck.Verify(v => Functional.AdaptiveAvgPool2d(v[0], (oh, ow)), [T.Param(1, 2, 3, h, w)]);
        GradCheck.VerifySecondOrder(v => Functional.AdaptiveAvgPool2d(v[0], (oh, ow)).Square(), [T.Param(2, 1, 2, h, w)]);
        GradCheck.Verify(v => Functional.AdaptiveMaxPool2d(v[0], (oh, ow)), [T.Param(3, 2, 3, h, w)]);
    }

    [Fact]
    public void DivisibleSizes_EqualTheFixedWindowPools()
    {
        Tensor x = T.Param(1, 2, 3, 8, 6);
        T.Close(Functional.AvgPool2d(x, (4, 2)).ToDoubleArray(), Functional.AdaptiveAvgPool2d(x, (2, 3)), 1e-12);
        T.Close(Functional.MaxPool2d(x, (4, 2)).ToDoubleArray(), Functional.AdaptiveMaxPool2d(x, (2, 3)), 0);
        T.Close(x.Mean([2, 3]).ToDoubleArray(), Functional.AdaptiveAvgPool2d(x, 1), 1e-12);
    }

    [Fact]
    public void Windows_FollowPyTorchsStartEndFormula()
    {
        // H = 5 → 3 outputs: rows [0, 2), [1, 4), [3, 5); one column.
        Tensor x = T.F64([1, 2, 3, 4, 5], 1, 1, 5, 1);
        T.Close([1.5, 3, 4.5], Functional.AdaptiveAvgPool2d(x, (3, 1)));
        T.Close([2, 4, 5], Functional.AdaptiveMaxPool2d(x, (3, 1)));
        Assert.Equal(new Shape(2, 3, 1), Functional.AdaptiveAvgPool2d(T.Param(1, 2, 4, 4), (3, 1)).Shape); // unbatched
        Assert.Equal(new Shape(1, 2, 4, 2), Functional.AdaptiveMaxPool2d(T.Param(1, 1, 2, 4, 6), (null, 2)).Shape);
    }

    [Fact]
    public void MaxPool_GradientGoesToTheLastNaN_AsPyTorch()
    {
        Tensor x = T.F64([1, double.NaN, 3, double.NaN], 1, 1, 1, 4).RequireGrad();
        Tensor y = Functional.AdaptiveMaxPool2d(x, (1, 1));
        Assert.True(double.IsNaN(y.Item()));
        y.Sum().Backward();
        T.Close([0, 0, 0, 1], x.Grad!);
        Assert.Equal("AdaptiveMaxPool2dBackward", y.GradFn!.Name);
    }

    [Fact]
    public void Errors_NameOpAndShapes()
    {
        var rank = Assert.Throws<ArgumentException>(() => Functional.AdaptiveAvgPool2d(Tensor.Zeros([4, 5]), 2));
        Assert.Contains("AdaptiveAvgPool2d", rank.Message);
        Assert.Contains("[4, 5]", rank.Message);
        var size = Assert.Throws<ArgumentException>(() => Functional.AdaptiveMaxPool2d(Tensor.Zeros([1, 2, 4, 5]), (0, 2)));
        Assert.Contains("AdaptiveMaxPool2d", size.Message);
        Assert.Contains("(0, 2)", size.Message);
        var empty = Assert.Throws<ArgumentException>(() => Functional.AdaptiveAvgPool2d(Tensor.Zeros([1, 2, 0, 5]), 2));
        Assert.Contains("[1, 2, 0, 5]", empty.Message);
        var dtype = Assert.Throws<ArgumentException>(() => Functional.AdaptiveAvgPool2d(Tensor.Zeros([1, 2, 4, 5], DType.Int64), 2));
        Assert.Contains("int64", dtype.Message);
    }
}
