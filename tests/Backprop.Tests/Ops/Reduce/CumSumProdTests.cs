using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;
using F = Backprop.Tests.Ops.EverydayFixtures;

namespace Backprop.Tests.Ops.Reduce;

/// <summary>CumSum, CumProd and Prod against torch.cumsum/cumprod/prod, gradients with zeros in the input, errors.</summary>
public class CumSumProdTests
{
    // ---------------- CumSum ----------------

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void CumSum_MatchesPyTorch(int dim)
    {
        double[] expected = dim switch { 0 => F.CumSumDim0, 1 => F.CumSumDim1, _ => F.CumSumDimLast };
        Tensor x = SineFill.Tensor(2, 2, 3, 4);
        EverydayAssert.Close(expected, x.CumSum(dim), 1e-14, 1e-15);
        EverydayAssert.Close(expected, Functional.CumSum(x.Permute(2, 0, 1).Contiguous().Permute(1, 2, 0), dim), 1e-14, 1e-15); // non-contiguous
    }

    [Fact]
    public void CumSum_Float32_AccumulatesInDoubleLikePyTorch()
    {
        // 37 elements: whole 8-lane blocks plus a tail; PyTorch's float32 cumsum carries a double accumulator.
        Tensor x = T.F64(F.CumSumFloatInput, 37).To(DType.Float32);
        Tensor y = x.CumSum(0);
        Assert.Equal(DType.Float32, y.DType);
        EverydayAssert.Close(F.CumSumFloatLast, y, 1e-7, 0);
        EverydayAssert.Close(F.CumSumFloatLast, x.CumSum(0, DType.Float64), 1e-7, 0);
    }

    [Fact]
    public void CumSum_Int64_IsExact_AndScalarAndEmpty()
    {
        Tensor x = Tensor.FromArray(new long[] { 1, 2, 3, long.MaxValue, 1 });
        Assert.Equal(new long[] { 1, 3, 6, unchecked(6 + long.MaxValue), unchecked(7 + long.MaxValue) }, x.CumSum(0).ToArray<long>());
        Assert.Equal(5.0, Tensor.Scalar(5, DType.Float64).CumSum(0).Item());
        Assert.Equal(new Shape(3, 0), Tensor.Zeros([3, 0]).CumSum(1).Shape);
        Assert.Equal(new Shape(0, 3), Tensor.Zeros([0, 3]).CumSum(1).Shape);
    }

    [Fact]
    public void CumSum_Gradient_IsTheReversedRunningSum()
    {
        GradCheck.Verify(t => t[0].CumSum(1), [T.Param(1, 3, 4, 2)]);
        GradCheck.Verify(t => t[0].CumSum(-1), [T.Param(2, 2, 11)]);
        GradCheck.Verify(t => t[0].T().CumSum(0), [T.Param(3, 4, 5)]);                      // non-contiguous
        GradCheck.Verify(t => t[0].Expand(3, 4).CumSum(0), [T.Param(4, 1, 4)]);            // broadcast input
        GradCheck.VerifySecondOrder(t => t[0].CumSum(0) * t[0], [T.Param(5, 6)]);
        Assert.Equal("CumsumBackward", T.Param(6, 3).CumSum(0).GradFn!.Name);
    }

    // ---------------- CumProd ----------------

    [Fact]
    public void CumProd_ValuesAndGradientsWithZeros_MatchPyTorch()
    {
        Tensor x = T.F64(F.CumProdInput, 3, 5);
        (Tensor y1, Tensor g1) = EverydayAssert.Gradient(t => t.CumProd(1), x);
        EverydayAssert.Close(F.CumProdDim1, y1);
        EverydayAssert.Close(F.CumProdDim1Grad, g1, 1e-12, 1e-12);
        (Tensor y0, Tensor g0) = EverydayAssert.Gradient(t => Functional.CumProd(t, 0), x);
        EverydayAssert.Close(F.CumProdDim0, y0);
        EverydayAssert.Close(F.CumProdDim0Grad, g0, 1e-12, 1e-12);
    }

    [Fact]
    public void CumProd_GradCheck_FirstAndSecondOrder()
    {
        GradCheck.Verify(t => t[0].CumProd(1), [T.Param(1, 3, 5)]);
        GradCheck.Verify(t => t[0].CumProd(0), [T.Param(2, 4, 3)]);
        GradCheck.Verify(t => t[0].T().CumProd(-1), [T.Param(3, 3, 4)]);
        GradCheck.VerifySecondOrder(t => t[0].CumProd(1), [T.Param(4, 2, 4)]);
        GradCheck.VerifySecondOrder(t => t[0].CumProd(0).Sum(), [T.Param(5, 5)]);
        Assert.Equal(new long[] { 2, 6, 0, 0 }, Tensor.FromArray(new long[] { 2, 3, 0, 5 }).CumProd(0).ToArray<long>());
    }

    [Fact]
    public void CumProd_SecondOrderWithAZero()
    {
        // The recorded backward (createGraph) must also be exact at a zero: compare against finite differences.
        Tensor x = T.F64([0.7, 0.0, -1.3, 0.9], 4).RequireGrad();
        GradCheck.Verify(t => t[0].CumProd(0), [x]);
        GradCheck.VerifySecondOrder(t => t[0].CumProd(0), [x]);
    }

    // ---------------- Prod ----------------

    [Fact]
    public void Prod_ValuesAndGradientsWithZeros_MatchPyTorch()
    {
        Tensor x = T.F64(F.ProdInput, 3, 4);
        (Tensor y1, Tensor g1) = EverydayAssert.Gradient(t => t.Prod(1), x);
        EverydayAssert.Close(F.ProdDim1, y1);
        EverydayAssert.Close(F.ProdDim1Grad, g1);
        (Tensor y0, Tensor g0) = EverydayAssert.Gradient(t => t.Prod(0, keepDim: true), x);
        Assert.Equal(new Shape(1, 4), y0.Shape);
        EverydayAssert.Close(F.ProdDim0Keep, y0);
        EverydayAssert.Close(F.ProdDim0KeepGrad, g0);
        (double[] Y, double[] G, int[] Rows)[] all =
        [
            (F.ProdAllNoZero, F.ProdAllNoZeroGrad, new[] { 0 }),
            (F.ProdAllOneZero, F.ProdAllOneZeroGrad, new[] { 0, 1 }),
            (F.ProdAllThreeZeros, F.ProdAllThreeZerosGrad, new[] { 1, 2 }),
        ];
        foreach ((double[] ey, double[] eg, int[] rows) in all)
        {
            Tensor sub = x.IndexSelect(0, Tensor.FromArray(Array.ConvertAll(rows, r => (long)r)));
            (Tensor y, Tensor g) = EverydayAssert.Gradient(t => Functional.Prod(t), sub);
            Assert.Equal(0, y.Rank);
            EverydayAssert.Close(ey, y, 1e-12, 0);
            EverydayAssert.Close(eg, g, 1e-12, 1e-15);
        }
    }

    [Fact]
    public void Prod_GradCheck_FirstAndSecondOrder()
    {
        GradCheck.Verify(t => t[0].Prod(), [T.Param(1, 2, 3)]);
        GradCheck.Verify(t => t[0].Prod(1), [T.Param(2, 3, 4)]);
        GradCheck.Verify(t => t[0].Prod(-3, keepDim: true), [T.Param(3, 2, 3, 2)]);
        GradCheck.Verify(t => t[0].T().Prod(0), [T.Param(4, 3, 4)]);                        // non-contiguous
        GradCheck.Verify(t => t[0].Expand(2, 3).Prod(0), [T.Param(5, 1, 3)]);              // broadcast input
        GradCheck.VerifySecondOrder(t => t[0].Prod(1), [T.Param(6, 2, 4)]);
        GradCheck.VerifySecondOrder(t => t[0].Prod(), [T.Param(7, 5)]);
        Tensor withZero = T.F64([0.7, 0.0, -1.3, 0.9, 1.1, 0.0], 2, 3).RequireGrad();
        GradCheck.Verify(t => t[0].Prod(1), [withZero]);
        GradCheck.VerifySecondOrder(t => t[0].Prod(1), [withZero]);
    }

    [Fact]
    public void Prod_Int64_Float32_Scalar_Empty()
    {
        Assert.Equal(24.0, Tensor.FromArray(new long[] { 1, 2, 3, 4 }, [2, 2]).Prod().Item());
        Assert.Equal(DType.Int64, Tensor.FromArray(new long[] { 1, 2 }).Prod().DType);
        Assert.Equal(new float[] { 3f, 8f }, Tensor.FromArray(new float[] { 1, 2, 3, 4 }, [2, 2]).Prod(0).ToArray<float>());
        Assert.Equal(1.0, Tensor.Zeros([0]).Prod().Item());
        Assert.Equal(new float[] { 1f, 1f }, Tensor.Zeros([2, 0]).Prod(1).ToArray<float>());
        Assert.Equal(2.5, Tensor.Scalar(2.5, DType.Float64).Prod(0).Item());
        Assert.Equal(2.0, Tensor.FromArray(new long[] { 1, 2 }).Prod(DType.Float64).Item());
        Assert.Equal("ProdBackward", T.Param(1, 3).Prod().GradFn!.Name);
    }

    [Fact]
    public void Errors_NameTheOpAndShape()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Ones([2, 3]).CumSum(2));
        Assert.Contains("CumSum", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("CumProd", Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Ones([2]).CumProd(-2)).Message);
        Assert.Contains("Prod", Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Ones([2]).Prod(1)).Message);
    }
}
