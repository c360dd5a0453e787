using Backprop.Tensors;
using Backprop.Tests.Ops;
using F = Backprop.Tests.Ops.EverydayFixtures;

namespace Backprop.Tests.Tensors;

/// <summary>Eye, Linspace and Logspace against torch.eye/linspace/logspace (Debian python3-torch), including PyTorch's two-sided linspace formula.</summary>
public class RangeFactoryTests
{
    [Fact]
    public void Eye_MatchesPyTorch()
    {
        Assert.Equal(new float[] { 1, 0, 0, 0, 1, 0 }, Tensor.Eye(2, 3).ToArray<float>());
        Assert.Equal(new long[] { 1, 0, 0, 1, 0, 0 }, Tensor.Eye(3, 2, DType.Int64).ToArray<long>());
        Assert.Equal(new double[] { 1, 0, 0, 1 }, Tensor.Eye(2, dtype: DType.Float64).ToArray<double>());
        Assert.Equal(new Shape(0, 4), Tensor.Eye(0, 4).Shape);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Eye(-1));
        Assert.Contains("Eye", e.Message);
        Assert.Contains("-1", e.Message);
    }

    [Fact]
    public void Linspace_MatchesPyTorch_EndsExactlyAtEnd()
    {
        // PyTorch's vectorized loop evaluates whole 8-float blocks with the first half's formula, so a value may
        // differ from it in the last bit; both end exactly at end.
        EverydayAssert.Close(F.LinspaceF32_0_1_7, Tensor.Linspace(0, 1, 7), 2e-7, 0);
        EverydayAssert.Close(F.LinspaceF32_m3_3_7_1_10, Tensor.Linspace(-3.3, 7.1, 10), 2e-7, 1e-7);
        EverydayAssert.Close(F.LinspaceF32_5_m5_6, Tensor.Linspace(5, -5, 6), 2e-7, 0);
        EverydayAssert.Close(F.LinspaceF64_0_1_7, Tensor.Linspace(0, 1, 7, DType.Float64), 1e-16, 0);
        Assert.Equal(7.1f, Tensor.Linspace(-3.3, 7.1, 10).ToArray<float>()[9]);
        Assert.Equal(-3.3f, Tensor.Linspace(-3.3, 7.1, 10).ToArray<float>()[0]);
        Assert.Equal(F.LinspaceI64_0_10_5, Tensor.Linspace(0, 10, 5, DType.Int64).ToArray<long>());
        Assert.Equal(F.LinspaceI64_0_1_5, Tensor.Linspace(0, 1, 5, DType.Int64).ToArray<long>());
        Assert.Equal(F.LinspaceI64_m7_3_4, Tensor.Linspace(-7, 3, 4, DType.Int64).ToArray<long>());
        Assert.Equal(new float[] { -1 }, Tensor.Linspace(-1, 10, 1).ToArray<float>());
        Assert.Equal(0, Tensor.Linspace(0, 1, 0).Numel);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Linspace(0, 1, -1));
        Assert.Contains("Linspace", e.Message);
        Assert.Contains("non-negative", e.Message);
    }

    [Fact]
    public void Logspace_MatchesPyTorch()
    {
        EverydayAssert.Close(F.LogspaceF32_0_2_5, Tensor.Logspace(0, 2, 5), 2e-7, 0);
        EverydayAssert.Close(F.LogspaceF64_0_3_4_base2, Tensor.Logspace(0, 3, 4, 2, DType.Float64), 1e-15, 0);
        EverydayAssert.Close(F.LogspaceF64_m2_2_5, Tensor.Logspace(-2, 2, 5, dtype: DType.Float64), 1e-15, 0);
        Assert.Equal(new long[] { 1, 10, 100 }, Tensor.Logspace(0, 2, 3, dtype: DType.Int64).ToArray<long>());
        Assert.Contains("Logspace", Assert.Throws<ArgumentException>(() => Tensor.Logspace(0, 1, -2)).Message);
    }
}
