using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Elementwise;

public class ArithmeticTests
{
    public static TheoryData<int[], int[]> BroadcastShapes => new()
    {
        { [3, 4], [3, 4] },
        { [3, 4], [4] },
        { [3, 1], [1, 4] },
        { [2, 3, 4], [3, 1] },
        { [], [2, 3] },
        { [5], [] },
    };

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Add_GradCheck(int[] sa, int[] sb) => GradCheck.Verify(x => x[0] + x[1], [T.Param(1, sa), T.Param(2, sb)]);

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Sub_GradCheck(int[] sa, int[] sb) => GradCheck.Verify(x => x[0] - x[1], [T.Param(1, sa), T.Param(2, sb)]);

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Mul_GradCheck(int[] sa, int[] sb)
    {
        GradCheck.Verify(x => x[0] * x[1], [T.Param(1, sa), T.Param(2, sb)]);
        GradCheck.VerifySecondOrder(x => x[0] * x[1] * x[0], [T.Param(1, sa), T.Param(2, sb)]);
    }

    [Theory]
    [MemberData(nameof(BroadcastShapes))]
    public void Div_GradCheck(int[] sa, int[] sb)
    {
        GradCheck.Verify(x => x[0] / x[1], [T.Param(1, sa), T.Uniform(2, 0.5, 2, sb)]);
        GradCheck.VerifySecondOrder(x => x[0] / x[1], [T.Param(1, sa), T.Uniform(2, 0.5, 2, sb)]);
    }

    [Fact]
    public void Neg_GradCheck() => GradCheck.Verify(x => -x[0], [T.Param(1, 2, 3)]);

    [Fact]
    public void Add_Broadcast_ForwardValues()
    {
        Tensor a = T.F32([1, 2, 3, 4, 5, 6], 2, 3);
        Tensor b = T.F32([10, 20, 30], 3);
        T.Close([11, 22, 33, 14, 25, 36], a + b);
        T.Close([-9, -18, -27, -6, -15, -24], a - b);
        T.Close([2, 4, 6, 8, 10, 12], a * 2);
        T.Close([1, 0.5, 1.0 / 3, 0.25, 0.2, 1.0 / 6], 1 / a, 1e-6);
    }

    [Fact]
    public void Add_OnTransposedView_ReadsStrides()
    {
        Tensor a = T.F32([1, 2, 3, 4, 5, 6], 2, 3).T(); // [[1,4],[2,5],[3,6]]
        Tensor b = T.F32([100, 200], 2);
        T.Close([101, 204, 102, 205, 103, 206], a + b);
    }

    [Fact]
    public void Add_ShapeMismatch_NamesOpAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([3, 4]) + Tensor.Zeros([5]));
        Assert.Contains("Add", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("[5]", e.Message);
    }

    [Fact]
    public void Mul_MixedDTypes_Promote()
        => Assert.Equal(DType.Float64, (Tensor.Zeros([2]) * Tensor.Zeros([2], DType.Float64)).DType);

    [Fact]
    public void Int64_Arithmetic()
    {
        Tensor a = Tensor.FromArray(new long[] { 1, 2, 3 });
        Assert.Equal(new long[] { 2, 4, 6 }, (a + a).ToArray<long>());
    }

    [Fact]
    public void Int64_DivisionIsTrueDivision_RoundingModesTruncateOrFloor()
    {
        Tensor a = Tensor.FromArray(new long[] { 7, -7, 6 });
        Tensor two = Tensor.FromArray(new long[] { 2, 2, 2 });
        Assert.Equal([3.5f, -3.5f, 3f], (a / two).ToArray<float>()); // torch: int64 / int64 is float32
        Assert.Equal([3L, -3L, 3L], a.Div(two, RoundingMode.Trunc).ToArray<long>());
        Assert.Equal([3L, -4L, 3L], a.Div(two, RoundingMode.Floor).ToArray<long>());
        Assert.Equal([-7f / 3, 7f / 3, -2f], (a / -3.0).ToArray<float>());
    }

    public static TheoryData<long[], int[], long[], int[]> ZeroDivisors => new()
    {
        { [1, 2, 3], [3], [1, 0, 1], [3] },                // same shape, contiguous
        { [1, 2, 3, 4, 5, 6], [2, 3], [0], [] },           // scalar divisor
        { [4], [], [2, 0], [2] },                          // scalar dividend
        { [1, 2, 3, 4, 5, 6], [2, 3], [1, 0], [2, 1] },    // broadcast, strided kernel
    };

    [Theory]
    [MemberData(nameof(ZeroDivisors))]
    public void Int64_RoundedDivisionByZero_NamesDivAndBothShapes(long[] a, int[] sa, long[] b, int[] sb)
    {
        Tensor x = Tensor.FromArray(a, sa), y = Tensor.FromArray(b, sb);
        foreach (RoundingMode mode in new[] { RoundingMode.Trunc, RoundingMode.Floor })
        {
            var e = Assert.Throws<DivideByZeroException>(() => x.Div(y, mode));
            Assert.Contains("Div", e.Message);
            Assert.Contains("int64", e.Message);
            Assert.Contains(x.Shape.ToString(), e.Message);
            Assert.Contains(y.Shape.ToString(), e.Message);
        }
        Assert.Contains(float.PositiveInfinity, (x / y).ToArray<float>()); // true division: ±inf, as torch
    }

    [Fact]
    public void Int64_MinValueOverMinusOne_NamesDiv()
    {
        // PyTorch dies with SIGFPE here; a clear exception is better.
        var e = Assert.Throws<OverflowException>(() => Tensor.FromArray(new long[] { long.MinValue, 4 }).Div(Tensor.FromArray(new long[] { -1, 2 }), RoundingMode.Trunc));
        Assert.Contains("Div", e.Message);
        Assert.Contains("[2]", e.Message);
    }

    [Fact]
    public void Float_DivisionByZero_GivesInfinityAndNaN()
        => Assert.Equal([double.PositiveInfinity, double.NegativeInfinity, double.NaN],
                        (T.F64([1.0, -1.0, 0.0]) / T.F64([0.0, 0.0, 0.0])).ToDoubleArray());
}
