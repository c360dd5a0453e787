using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.View;

/// <summary>Flip and Roll: torch.flip/torch.roll values (Debian python3-torch on arange(6).reshape(2, 3) and friends), gradients, errors.</summary>
public class FlipRollTests
{
    private static Tensor A() => Tensor.Arange(6, DType.Int64).Reshape(2, 3);

    [Fact]
    public void Flip_MatchesPyTorch()
    {
        Assert.Equal(new long[] { 2, 1, 0, 5, 4, 3 }, A().Flip(1).ToArray<long>());
        Assert.Equal(new long[] { 3, 4, 5, 0, 1, 2 }, A().Flip(0).ToArray<long>());
        Assert.Equal(new long[] { 5, 4, 3, 2, 1, 0 }, A().Flip(0, -1).ToArray<long>());
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, A().Flip().ToArray<long>());     // no dims: a copy
        Tensor x = Tensor.Arange(24, DType.Float32).Reshape(2, 3, 4);
        // torch.flip(arange(24.).reshape(2, 3, 4), (0, 2))[0, 0] = [15, 14, 13, 12]
        Assert.Equal(new float[] { 15, 14, 13, 12 }, x.Flip(0, 2).Select(0, 0).Select(0, 0).Contiguous().ToArray<float>());
        // a transposed view flips by its own dims: flip(A.T, (0,)) = [[2, 5], [1, 4], [0, 3]]
        Assert.Equal(new long[] { 2, 5, 1, 4, 0, 3 }, A().T().Flip(0).ToArray<long>());
        Tensor a = A();
        Assert.NotSame(a.Storage, a.Flip().Storage);
        Assert.Equal(new Shape(0, 3), Tensor.Zeros([0, 3]).Flip(0, 1).Shape);
        Assert.Equal(7.0, Tensor.Scalar(7).Flip(0).Item());
    }

    [Fact]
    public void Flip_LongRowsUseTheReversedCopy()
    {
        Tensor x = Tensor.Arange(200, DType.Float64).Reshape(2, 100);
        double[] y = x.Flip(-1).ToDoubleArray();
        for (int i = 0; i < 200; i++) Assert.Equal(i < 100 ? 99 - i : 299 - i, y[i]);
    }

    [Fact]
    public void Roll_MatchesPyTorch()
    {
        Assert.Equal(new long[] { 5, 0, 1, 2, 3, 4 }, A().Roll(1).ToArray<long>());           // flattened
        Assert.Equal(new Shape(2, 3), A().Roll(1).Shape);
        Assert.Equal(new long[] { 4, 5, 3, 1, 2, 0 }, A().Roll([1, -1], [0, 1]).ToArray<long>());
        Assert.Equal(new long[] { 1, 2, 0, 4, 5, 3 }, A().Roll(-1, 1).ToArray<long>());
        Assert.Equal(new long[] { 2, 0, 1, 5, 3, 4 }, A().Roll(7, -1).ToArray<long>());         // shifts wrap
        Assert.Equal(new long[] { 1, 2, 0, 4, 5, 3 }, A().Roll(int.MinValue + 1, 1).ToArray<long>()); // −2147483647 ≡ 2 (mod 3)
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5 }, A().Roll(3, 1).ToArray<long>());
        Tensor b = A();
        Assert.NotSame(b.Storage, b.Roll(0).Storage);
        Assert.NotSame(b.Storage, b.Roll(3, 1).Storage);
        Assert.Equal(new long[] { 3, 4, 5, 0, 1, 2 }, Functional.Roll(A().T(), [1], [1]).T().Contiguous().ToArray<long>());
        Assert.Equal(new Shape(0, 2), Tensor.Zeros([0, 2]).Roll(1, 0).Shape);
    }

    [Fact]
    public void Gradients_ArePermutedBack()
    {
        GradCheck.Verify(t => t[0].Flip(0, 2), [T.Param(1, 2, 3, 4)]);
        GradCheck.Verify(t => t[0].T().Flip(-1), [T.Param(2, 3, 5)]);
        GradCheck.Verify(t => t[0].Expand(3, 4).Flip(0), [T.Param(3, 1, 4)]);
        GradCheck.Verify(t => t[0].Roll([2, -1], [0, -1]), [T.Param(4, 3, 2, 5)]);
        GradCheck.Verify(t => t[0].Roll(5), [T.Param(5, 3, 4)]);
        GradCheck.Verify(t => t[0].T().Roll(-3, 0), [T.Param(6, 2, 5)]);
        GradCheck.VerifySecondOrder(t => t[0].Flip(1) * t[0], [T.Param(7, 2, 3)]);
        GradCheck.VerifySecondOrder(t => t[0].Roll(1, 0) * t[0], [T.Param(8, 4)]);
        Assert.Equal("FlipBackward", T.Param(9, 2).Flip(0).GradFn!.Name);
        Assert.Equal("RollBackward", T.Param(9, 2).Roll(1).GradFn!.Name);
    }

    [Fact]
    public void Errors_NameTheOpAndShape()
    {
        var twice = Assert.Throws<ArgumentException>(() => A().Flip(0, -2));
        Assert.Contains("Flip", twice.Message);
        Assert.Contains("[2, 3]", twice.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => A().Flip(2));
        var align = Assert.Throws<ArgumentException>(() => A().Roll([1, 2], [0]));
        Assert.Contains("Roll", align.Message);
        Assert.Contains("[2, 3]", align.Message);
        Assert.Throws<ArgumentException>(() => A().Roll([1, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => A().Roll(1, 2));
    }
}
