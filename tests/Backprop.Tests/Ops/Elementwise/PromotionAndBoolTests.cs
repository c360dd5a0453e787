using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Elementwise;

/// <summary>
/// Pow, Maximum and Minimum promote mixed dtypes as PyTorch's torch.result_type; flip, roll, sort, cumsum,
/// cumprod, prod and the float functions take bool (and int64) inputs as PyTorch does. Values from torch 1.13
/// (tests/Backprop.Tests/Ops/fixtures/make_promotion_bool_fixtures.py).
/// </summary>
public class PromotionAndBoolTests
{
    private static Tensor L(params long[] v) => Tensor.FromArray(v);
    private static Tensor F(params float[] v) => Tensor.FromArray(v);
    private static Tensor D(params double[] v) => Tensor.FromArray(v);
    private static Tensor B(params bool[] v) => Tensor.FromArray(v);
    private static readonly Tensor Mask = Tensor.FromArray(new[] { true, false, true, false, false, true }, [2, 3]);

    private static void Is(DType dtype, double[] values, Tensor t, double tol = 1e-6)
    {
        Assert.Equal(dtype, t.DType);
        T.Close(values, t, tol);
    }

    [Fact]
    public void Pow_PromotesAsTorch()
    {
        Is(DType.Float32, [1.0, 2.8284270763397217, 0.1111111119389534], L(1, 2, 3).Pow(F(0.5f, 1.5f, -2)));
        Is(DType.Float32, [0.5, 2.25, -8.0], F(0.5f, 1.5f, -2).Pow(L(1, 2, 3)));
        Is(DType.Float64, [0.7071067811865476, 1.8371173070873836, 4.0], F(0.5f, 1.5f, 2).Pow(D(0.5, 1.5, 2)), 1e-7);
        Is(DType.Int64, [1, 0, 1], B(true, false, true).Pow(L(1, 2, 3)));
        Is(DType.Int64, [1, 1, 3], L(1, 2, 3).Pow(B(true, false, true)));
        Is(DType.Float32, [0.5, 1.0, -2.0], F(0.5f, 1.5f, -2).Pow(B(true, false, true)));
        Is(DType.Float32, [1.0, 1.4142135381698608, 1.7320507764816284], L(1, 2, 3).Pow(Tensor.Scalar(0.5)));           // 0-d float: float32
        Is(DType.Float32, [1, 4, 9], F(1, 2, 3).Pow(Tensor.Scalar(2.0, DType.Float64)));                                  // 0-d float64: stays float32
        Assert.Throws<NotSupportedException>(() => B(true).Pow(B(false)));
    }

    [Fact]
    public void Pow_OfIntegers_IsExact_WithPyTorchsNegativeExponents()
    {
        Is(DType.Int64, [0, 1, -1, 1, 0, 1, -8, 49], L(2, 1, -1, -1, 0, 3, -2, 7).Pow(L(-1, -3, -3, 4, -2, 0, 3, 2)));
        Assert.Equal(0L, L(2).Pow(L(64)).ToArray<long>()[0]); // wraps, as C++ int64 in torch
        Assert.Equal(3486784401L, L(3).Pow(L(20)).ToArray<long>()[0]);
    }

    [Fact]
    public void Pow_WithCSharpNumbers_ActsAsPythonIntAndFloat()
    {
        Is(DType.Int64, [1, 4, 9], L(1, 2, 3).Pow(2));
        Is(DType.Int64, [1, 0], B(true, false).Pow(2));
        Is(DType.Float32, [1, 4, 9], L(1, 2, 3).Pow(2.0));
        Is(DType.Float32, [1.0, 1.4142135381698608, 1.7320507764816284], L(1, 2, 3).Pow(0.5));
        Is(DType.Float64, [0.25, 4], D(0.5, 2).Pow(2));
        var e = Assert.Throws<ArgumentException>(() => L(1, 2).Pow(-1));
        Assert.Contains("negative integer powers", e.Message);
        Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void MaximumMinimum_PromoteAsTorch_AndAreLogicalOnBools()
    {
        Is(DType.Float32, [1.0, 2.5, 3.0], L(1, 2, 3).Maximum(F(0.5f, 2.5f, -2)));
        Is(DType.Bool, [1, 0, 1], B(true, false, false).Maximum(B(false, false, true)));
        Is(DType.Bool, [1, 0, 0], B(true, false, true).Minimum(B(true, true, false)));
        Is(DType.Int64, [1, 0, 3], B(true, false, true).Maximum(L(0, -1, 3)));
        Is(DType.Float32, [0.5, 0.0, -2.0], B(true, false, true).Minimum(F(0.5f, 1.5f, -2)));
        Is(DType.Float64, [1.0, 1.5, 3.0], F(0.5f, 1.5f, 2).Maximum(D(1, 1, 3)));
        Is(DType.Float32, [1.0, 1.5, 2.0], F(0.5f, 1.5f, 2).Maximum(Tensor.Scalar(1.0, DType.Float64)));
        Is(DType.Float32, [1.0, 1.5, 1.5], L(1, 2, 3).Minimum(Tensor.Scalar(1.5)));
    }

    [Fact]
    public void Gradients_FlowThroughPromotion_AsTorch()
    {
        Tensor x = D(0.5, 2.0, -1.0, 3.0).RequireGrad();
        Tensor k = L(1, 2, 2, 3);
        (x.Maximum(k) * D(1, 2, 3, 4)).Sum().Backward(); // ties at 2 and 3 split the gradient
        Assert.Equal([0.0, 1.0, 0.0, 2.0], x.Grad!.ToDoubleArray());
        x.Grad = null;
        (k.Minimum(x) * D(1, 2, 3, 4)).Sum().Backward();
        Assert.Equal([1.0, 1.0, 3.0, 2.0], x.Grad!.ToDoubleArray());

        Tensor y = D(0.5, 2.0, 1.5).RequireGrad();
        y.Pow(L(2, 3, -1)).Sum().Backward();
        T.Close([1.0, 12.0, -0.4444444444444444], y.Grad!, 1e-12);
        Tensor z = D(0.5, 2.0, 1.5).RequireGrad();
        L(2, 3, 1).Pow(z).Sum().Backward();
        // torch takes ln of the int64 base in float32 (its pow backward logs `self` before promoting), about 2e-8 relative
        // off the float64 values kˣ·ln k this library computes.
        T.Close([0.9802581461621352, 9.887510776519775, 0.0], z.Grad!, 1e-6);
        T.Close([Math.Sqrt(2) * Math.Log(2), 9 * Math.Log(3), 0.0], z.Grad!, 1e-14);
    }

    public static TheoryData<int[], int[]> BroadcastShapes => new()
    {
        { [3, 4], [3, 4] },
        { [3, 1], [1, 4] },
        { [], [2, 3] },
        { [5], [] },
    };

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void PromotedPowMaxMin_GradCheck(int[] sx, int[] sk)
    {
        Tensor k = Tensor.RandInt(sk, -3, 4, new Generator(11));
        Tensor mask = k.Gt(0);
        GradCheck.Verify(x => x[0].Pow(k), [T.Uniform(1, 0.5, 2, sx)]);
        GradCheck.Verify(x => (k.Abs() + 1).Pow(x[0]), [T.Param(2, sx)]);
        GradCheck.Verify(x => x[0].Pow(mask), [T.Uniform(3, 0.5, 2, sx)]);
        GradCheck.Verify(x => x[0].Maximum(k) + k.Minimum(x[0]), [T.Uniform(4, -4, 4, sx)]);
        GradCheck.Verify(x => x[0].Maximum(mask) * x[1].Minimum(k), [T.Param(5, sx), T.Param(6, sx)]);
        GradCheck.VerifySecondOrder(x => x[0].Pow(k) * x[0], [T.Uniform(7, 0.5, 2, sx)]);
    }

    [Fact]
    public void FlipRoll_TakeBools()
    {
        Is(DType.Bool, [1, 0, 1, 1, 0, 0], Mask.Flip(1));
        Is(DType.Bool, [1, 0, 0, 1, 0, 1], Mask.Flip(0, 1));
        Is(DType.Bool, [1, 1, 0, 1, 0, 0], Mask.Roll(1, 1));
        Is(DType.Bool, [0, 1, 1, 0, 1, 0], Mask.Roll(2));
        Is(DType.Bool, [1, 0, 0, 1, 0, 1], Mask.Transpose(0, 1).Flip(1).Transpose(0, 1).Flip(1)); // strided input
    }

    [Fact]
    public void Sort_TakesBools_FalseBeforeTrue()
    {
        (Tensor v, Tensor i) = Mask.Sort(1);
        Is(DType.Bool, [0, 1, 1, 0, 0, 1], v);
        Is(DType.Int64, [1, 0, 2, 0, 1, 2], i);
        (v, i) = Mask.Sort(1, descending: true);
        Is(DType.Bool, [1, 1, 0, 1, 0, 0], v);
        Is(DType.Int64, [0, 2, 1, 2, 0, 1], i);
        Is(DType.Int64, [1, 0, 0, 0, 1, 1], Mask.ArgSort(0));
        Assert.Throws<ArgumentException>(() => Mask.TopK(1)); // torch: "topk_cpu" not implemented for 'Bool'
    }

    [Fact]
    public void CumSumCumProdProd_OfBools_AreInt64()
    {
        Is(DType.Int64, [1, 1, 2, 0, 0, 1], Mask.CumSum(1));
        Is(DType.Int64, [1, 0, 1, 1, 0, 2], Mask.CumSum(0));
        Is(DType.Int64, [1, 0, 0, 0, 0, 0], Mask.CumProd(1));
        Is(DType.Int64, [0], Mask.Prod().Reshape(1));
        Is(DType.Int64, [0, 0, 1], Mask.Prod(0));
        Is(DType.Float32, [1, 1, 2, 0, 0, 1], Mask.CumSum(1, DType.Float32));
    }

    [Fact]
    public void Eye_TakesBool_AsTorch() // torch.eye(2, 3, dtype=torch.bool)
        => Assert.Equal([true, false, false, false, true, false], Tensor.Eye(2, 3, DType.Bool).ToArray<bool>());

    [Fact]
    public void FloatFunctions_OfIntegersAndBools_AreFloat32()
    {
        Is(DType.Float32, [0.0, 0.8414709568023682, 0.9092974066734314], L(0, 1, 2).Sin());
        Is(DType.Float32, [0.5403023362159729, 1.0], B(true, false).Cos());
        Is(DType.Float32, [0.0, 0.6931471824645996, 1.0986123085021973], L(0, 1, 2).Log1p());
        Is(DType.Float32, [1.718281865119934, 0.0], B(true, false).Expm1());
    }
}
