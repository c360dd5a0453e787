using Backprop.Tensors;

namespace Backprop.Tests.Ops.Elementwise;

/// <summary>Comparisons return bool; logical and bitwise ops; values from PyTorch 2.x (tools/dtype-reference.py).</summary>
public class CompareLogicalTests
{
    private static Tensor L(params long[] v) => Tensor.FromArray(v);
    private static Tensor F(params float[] v) => Tensor.FromArray(v);
    private static Tensor D(params double[] v) => Tensor.FromArray(v);
    private static Tensor B(params bool[] v) => Tensor.FromArray(v);

    private static void Is(bool[] expected, Tensor t)
    {
        Assert.Equal(DType.Bool, t.DType);
        Assert.Equal(expected, t.ToArray<bool>());
    }

    [Fact]
    public void Comparisons_ReturnBool_AfterPromotion()
    {
        Is([false, false, true], L(1, 2, 3).Gt(2.5));
        Is([false, false, true], L(1, 2, 3) > 2.5);
        Is([true, false, true], L(1, 2, 3).Eq(F(1, 2.5f, 3)));
        Is([true, false], D(double.NaN, 1).Ne(D(double.NaN, 1)));
        Is([true, false, true], B(false, true, false) < B(true, true, true));
        Is([false, true], F(0.1f, 0.2f).Gt(Tensor.Scalar(0.1, DType.Float64))); // compared in float32, as torch
        Is([true, true, false], 2 >= L(1, 2, 3));
        Is([false, true, true, false, false, false], F(1, 2, 3, 4, 5, 6).Reshape(2, 3).Le(F(0, 3, 3).Reshape(1, 3)).Reshape(6));
        Assert.False(F(1).Gt(0).RequiresGrad);
    }

    [Fact]
    public void Comparisons_OnStridedAndBroadcastOperands_MatchElementwise()
    {
        Tensor a = Tensor.Randn([40, 33], DType.Float64, new Generator(1));
        Tensor b = Tensor.Randn([33], DType.Float64, new Generator(2));
        Tensor at = a.T(); // [33, 40], strided
        bool[] got = at.Lt(b.Reshape(33, 1)).ToArray<bool>();
        double[] av = at.Contiguous().ToDoubleArray(), bv = b.ToDoubleArray();
        for (int i = 0; i < got.Length; i++) Assert.Equal(av[i] < bv[i / 40], got[i]);
        Assert.Equal(new Shape(33, 40), at.Lt(b.Reshape(33, 1)).Shape);
    }

    [Fact]
    public void ComparisonMask_MultipliesAsOneAndZero()
    {
        Tensor x = F(-1, 0, 1, 2);
        Tensor y = x * x.Gt(0);
        Assert.Equal(DType.Float32, y.DType);
        Assert.Equal([0f, 0, 1, 2], y.ToArray<float>());
    }

    [Fact]
    public void LogicalOps_MatchTorch()
    {
        Tensor a = B(true, true, false, false), b = B(true, false, true, false);
        Is([true, false, false, false], a & b);
        Is([true, true, true, false], a | b);
        Is([false, true, true, false], a ^ b);
        Is([false, false, true, true], ~a);
        Is([false, false, true, true], !a);
        Is([true, false, false, false], a.LogicalAnd(b));
        Is([true, true, true, false], a.LogicalOr(b));
        Is([false, true, true, false], a.LogicalXor(b));
        Is([false, true, true, false], D(0, 1, double.NaN, -0.0).LogicalAnd(D(1, 1, 1, 1))); // any dtype, nonzero is true
        Is([true, false], L(0, 3).LogicalNot());
        Is([true, false, true, false, true, false], B(true, false).Reshape(1, 2).LogicalOr(B(false, false, false).Reshape(3, 1)).Reshape(6)); // broadcast
    }

    [Fact]
    public void BitwiseOps_OnInt64_MatchTorch()
    {
        Assert.Equal([8L, 7, 1], (L(12, -1, 5) & L(10, 7, 3)).ToArray<long>());
        Assert.Equal([-1L, -6, 0], (~L(0, 5, -1)).ToArray<long>());
        Assert.Equal([1L, 0], (L(3, 2) & B(true, true)).ToArray<long>());
        Assert.Equal([14L, -1, 7], (L(12, -1, 5) | L(10, 7, 3)).ToArray<long>());
        var e = Assert.Throws<ArgumentException>(() => F(1) & F(1));
        Assert.Contains("BitwiseAnd", e.Message);
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void LongMasks_UseTheVectorPaths()
    {
        bool[] x = Enumerable.Range(0, 517).Select(i => i % 3 == 0).ToArray();
        bool[] y = Enumerable.Range(0, 517).Select(i => i % 5 < 2).ToArray();
        Assert.Equal(x.Zip(y, (p, q) => p && q).ToArray(), (B(x) & B(y)).ToArray<bool>());
        Assert.Equal(x.Select(p => !p).ToArray(), (!B(x)).ToArray<bool>());
        Assert.Equal(x.Zip(y, (p, q) => p == q).ToArray(), B(x).Eq(B(y)).ToArray<bool>());
    }
}
