using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Tensors;

/// <summary>
/// Type promotion in binary ops, against PyTorch 2.x (tools/dtype-reference.py run with
/// Debian's torch; the values below are its output).
/// </summary>
public class DTypePromotionTests
{
    private static Tensor L(params long[] v) => Tensor.FromArray(v);
    private static Tensor F(params float[] v) => Tensor.FromArray(v);
    private static Tensor D(params double[] v) => Tensor.FromArray(v);
    private static Tensor B(params bool[] v) => Tensor.FromArray(v);

    private static void Is(DType dtype, double[] values, Tensor t)
    {
        Assert.Equal(dtype, t.DType);
        T.Close(values, t, 1e-6);
    }

    [Fact]
    public void PromoteTypes_IsTheLattice()
    {
        Assert.Equal(DType.Float32, DTypes.PromoteTypes(DType.Int64, DType.Float32));
        Assert.Equal(DType.Float64, DTypes.PromoteTypes(DType.Float32, DType.Float64));
        Assert.Equal(DType.Int64, DTypes.PromoteTypes(DType.Bool, DType.Int64));
        Assert.Equal(DType.Bool, DTypes.PromoteTypes(DType.Bool, DType.Bool));
        Assert.Equal(DType.Float64, DTypes.PromoteTypes(DType.Float64, DType.Bool));
    }

    [Fact]
    public void TensorTensor_MatchesTorch()
    {
        Is(DType.Float32, [1.5, 2.25, 3.125], L(1, 2, 3) + F(0.5f, 0.25f, 0.125f));
        Is(DType.Float64, [1.1, 2.2], F(1, 2) + D(0.1, 0.2));
        Is(DType.Float32, [0.5, -0.5, 1.5, 0.5, 2.5, 1.5], L(1, 2, 3).Reshape(3, 1) - F(0.5f, 1.5f)); // broadcast
        Is(DType.Bool, [1, 1, 0], B(true, false, false) + B(true, true, false));   // or
        Is(DType.Bool, [1, 0, 0], B(true, false, true) * B(true, true, false));    // and
        Assert.Equal(DType.Float64, (D(1) * L(2) + B(true)).DType);
    }

    [Fact]
    public void ZeroDimOperands_ChangeTheDTypeOnlyFromAHigherCategory()
    {
        Is(DType.Float32, [1.5, 2.5], F(1, 2) + Tensor.Scalar(0.5, DType.Float64));  // same category: stays float32
        Is(DType.Float64, [1.5, 2.5], L(1, 2) + Tensor.Scalar(0.5, DType.Float64));  // higher category: float64
        Is(DType.Float32, [3.5, 4.5], Tensor.Scalar(3, DType.Int64) + F(0.5f, 1.5f));
        Is(DType.Float64, [2.0], (Tensor.Scalar(0.5, DType.Float64) + Tensor.Scalar(1.5)).Reshape(1)); // both 0-d: promote
    }

    [Fact]
    public void CSharpNumbers_ActAsPythonIntAndFloat()
    {
        Is(DType.Float32, [3.5, 4.5], L(1, 2) + 2.5);
        Is(DType.Int64, [2, 4], L(1, 2) * 2);
        Is(DType.Float32, [2, 4], L(1, 2) * 2.0);
        Is(DType.Int64, [2, 1], B(true, false) + 1);
        Is(DType.Float32, [2, 0], B(true, false) * 2.0);
        Is(DType.Float64, [2, 4], D(1, 2) * 2);
        Is(DType.Float32, [0.5, 1], 1 / F(2, 1));
        Is(DType.Int64, [9, 8], 10 - L(1, 2));
    }

    [Fact]
    public void Division_IsTrueDivision_WithRoundingModesForIntegers()
    {
        Assert.Equal([3.5f, -3.5f, 1.5f, float.PositiveInfinity], (L(7, -7, 6, 1) / L(2, 2, 4, 0)).ToArray<float>()); // float32
        Is(DType.Float32, [1, 0], B(true, false) / B(true, true));
        Is(DType.Int64, [3, -3, -3, 3], L(7, -7, 7, -7).Div(L(2, 2, -2, -2), RoundingMode.Trunc));
        Is(DType.Int64, [3, -4, -4, 3], L(7, -7, 7, -7).Div(L(2, 2, -2, -2), RoundingMode.Floor));
        Is(DType.Float64, [3, -3, -3, 0], D(7, -7, 7.5, -0.5).Div(D(2, 2, -2, 3), RoundingMode.Trunc));
        Is(DType.Float64, [3, -4, -4, -1], D(7, -7, 7.5, -0.5).Div(D(2, 2, -2, 3), RoundingMode.Floor));
        Assert.True(double.IsNegative(D(-0.5).Div(D(3), RoundingMode.Trunc).Item())); // −0.0, as PyTorch
    }

    [Fact]
    public void BoolArithmetic_IsRefusedAsInPyTorch()
    {
        var sub = Assert.Throws<NotSupportedException>(() => B(true) - B(false));
        Assert.Contains("Sub", sub.Message);
        Assert.Contains("LogicalNot", sub.Message);
        Assert.Throws<NotSupportedException>(() => B(true) - 1);
        var neg = Assert.Throws<NotSupportedException>(() => -B(true));
        Assert.Contains("Neg", neg.Message);
    }

    [Fact]
    public void Gradient_FlowsThroughPromotion_ToFloatInputsOnly()
    {
        // torch: x (float64) * long [3, -2, 5] → grad [3, -2, 5]
        Tensor x = D(0.5, -1.0, 2.0).RequireGrad();
        Tensor y = x * L(3, -2, 5);
        Assert.Equal(DType.Float64, y.DType);
        y.Sum().Backward();
        Assert.Equal([3.0, -2, 5], x.Grad!.ToDoubleArray());

        // torch: float32 [1, 2, 3] * float64 0-d s → float32 result, s.grad float64 6.0
        Tensor s = Tensor.Scalar(0.75, DType.Float64).RequireGrad();
        Tensor z = F(1, 2, 3) * s;
        Assert.Equal(DType.Float32, z.DType);
        z.Sum().Backward();
        Assert.Equal(DType.Float64, s.Grad!.DType);
        Assert.Equal(6.0, s.Grad.Item());
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
    public void PromotedOps_GradCheck(int[] sx, int[] sk)
    {
        // The float64 side is differentiated through ops whose other operand is int64 or bool; the int side gets no gradient.
        Tensor k = Tensor.RandInt(sk, -3, 4, new Generator(7));
        Tensor kNonZero = Tensor.Where(k.Eq(0), Tensor.Scalar(5, DType.Int64), k);
        Tensor mask = k.Gt(0);
        GradCheck.Verify(x => x[0] + k, [T.Param(1, sx)]);
        GradCheck.Verify(x => k - x[0], [T.Param(2, sx)]);
        GradCheck.Verify(x => x[0] * k * mask, [T.Param(3, sx)]);
        GradCheck.Verify(x => x[0] / kNonZero, [T.Param(4, sx)]);
        GradCheck.Verify(x => kNonZero / x[0], [T.Uniform(5, 0.5, 2, sx)]);
        GradCheck.VerifySecondOrder(x => x[0] * x[0] * k, [T.Param(8, sx)]);
    }

    [Fact]
    public void PromotedDivision_GradCheck_BothSides()
        => GradCheck.Verify(x => Tensor.FromArray(new long[] { 3, -2, 5, 1 }, [2, 2]) / x[0] + x[1] * Tensor.FromArray(new[] { true, false }), [T.Uniform(1, 0.5, 2, 2, 2), T.Param(2, 2, 1)]);
}
