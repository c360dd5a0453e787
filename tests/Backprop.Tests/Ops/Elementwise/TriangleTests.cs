using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Elementwise;

/// <summary>Triu/Tril: torch.triu/torch.tril values (Debian python3-torch, first matrix of arange(1, 25) as [2, 3, 4]), gradients, dtypes, errors.</summary>
public class TriangleTests
{
    private static Tensor X() => Tensor.Arange(1, 25, 1, DType.Float64).Reshape(2, 3, 4);

    [Theory]
    [InlineData(0, new double[] { 1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12 }, new double[] { 1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0 })]
    [InlineData(1, new double[] { 0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12 }, new double[] { 1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12 })]
    [InlineData(-1, new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12 }, new double[] { 0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0 })]
    [InlineData(5, new double[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 })]
    [InlineData(-5, new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, new double[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    public void Forward_MatchesPyTorch(long k, double[] triu, double[] tril)
    {
        T.Close(triu, X().Triu(k).ToDoubleArray()[..12], 0);
        T.Close(tril, X().Tril(k).ToDoubleArray()[..12], 0);
        // The second matrix gets the same mask (a batch of matrices).
        double[] second = X().Triu(k).ToDoubleArray()[12..];
        for (int i = 0; i < 12; i++) Assert.Equal(triu[i] == 0 ? 0 : triu[i] + 12, second[i]);
    }

    [Fact]
    public void Gradient_IsTheSameTriangleOfTheOutputGradient()
    {
        GradCheck.Verify(t => t[0].Triu(), [T.Param(1, 2, 3, 4)]);
        GradCheck.Verify(t => t[0].Tril(-1), [T.Param(2, 5, 3)]);
        GradCheck.Verify(t => t[0].T().Triu(1), [T.Param(3, 4, 4)]); // a non-contiguous input
        GradCheck.VerifySecondOrder(t => t[0].Tril() * t[0], [T.Param(4, 3, 3)]);
        Assert.Equal("TriuBackward", T.Param(5, 2, 2).Triu().GradFn!.Name);
    }

    [Fact]
    public void Int64AndFloat32_AndEmptyShapes()
    {
        Tensor ones = Tensor.Ones([3, 3], DType.Int64);
        Assert.Equal(new long[] { 1, 1, 1, 0, 1, 1, 0, 0, 1 }, ones.Triu().ToArray<long>());
        Assert.Equal(new float[] { 0, 0, 1, 0 }, Tensor.Ones([2, 2]).Tril(-1).ToArray<float>());
        Assert.Equal(0, Tensor.Zeros([0, 4]).Triu().Numel);
        Assert.Equal(0, Tensor.Zeros([3, 0, 4]).Tril().Numel);
    }

    [Fact]
    public void FewerThanTwoDims_IsRefusedWithTheShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones([4]).Triu());
        Assert.Contains("Triu", e.Message);
        Assert.Contains("[4]", e.Message);
    }
}
