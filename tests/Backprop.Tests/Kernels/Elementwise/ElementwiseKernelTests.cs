using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>
/// Each vector kernel against its own scalar form at every length 0..3·(512-bit width)+1, so every
/// mix of 512-bit, 256-bit and 128-bit blocks and scalar tail is exercised, with special values and each
/// approximation's range edges rotated through every lane of every block; plus erf accuracy.
/// </summary>
[Trait("Category", "Kernels")]
public class ElementwiseKernelTests
{
    private static readonly double[] Specials = [0.0, -0.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e-300, -1e-30];

    // Where the approximations switch branches or saturate: erf's |x| = 0.5 and 28 (and GELU's x = their √2 multiples),
    // the float Gaussian tail's |x| = 0.5·√2 and its clamp at 20, FloatExp's clamp at ±88.376 and its zero below −87.7
    // (not (88.376, 88.72], where FloatExp is +∞ by design and float's e^x is not), softplus's thresholds (βx = 20, 5).
    private static readonly double[] ErfEdges = [0.5, -0.5, 0.49999999999999994, 28, -28, 27.9, 1e300, -6];
    private static readonly double[] GeluEdges = [0.7071067811865476, -0.7071067811865476, 0.70710677, 39.59797974644666, -39.59797974644666, 20, -20, -14, 1e30];
    private static readonly double[] ExpEdges = [88.3762626647949, -88.3762626647949, 88.37, -88.37, -87.7, 89, -89, -104, 20, 20.000002, 2.5, -2.5];

    /// <summary>
    /// Random values in [low, high); with specials, every third element is one of <see cref="Specials"/> and
    /// <paramref name="edges"/>, the list rotated by the seed so that across lengths each lands in every block and lane.
    /// </summary>
    private static T[] Inputs<T>(int n, int seed, double low, double high, bool specials, double[]? edges = null) where T : IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        double[] extra = [.. Specials, .. edges ?? []];
        var x = new T[n];
        for (int i = 0; i < n; i++)
            x[i] = T.CreateChecked(specials && i % 3 == 1 ? extra[(i / 3 + seed) % extra.Length] : low + (high - low) * rng.NextDouble());
        return x;
    }

    private static void AssertClose<T>(T expected, T actual, double rtol, int n, int i) where T : IFloatingPointIeee754<T>
    {
        double e = double.CreateChecked(expected), a = double.CreateChecked(actual);
        if (double.IsNaN(e) && double.IsNaN(a)) return;
        if (e == a) return;
        Assert.True(Math.Abs(e - a) <= rtol * Math.Max(Math.Abs(e), 1e-30) + 1e-300,
            $"length {n}, element {i}: scalar {e:R}, vector {a:R}");
    }

    private static void CheckUnary<T, TOp>(TOp op, double low, double high, double rtol, bool specials = true, double[]? edges = null)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IVectorUnary<T>
    {
        for (int n = 0; n <= 3 * Vector512<T>.Count + 1; n++)
        {
            T[] x = Inputs<T>(n, n + 1, low, high, specials, edges);
            var y = new T[n];
            VectorLoop.Unary(op, x, y);
            for (int i = 0; i < n; i++) AssertClose(op.Invoke(x[i]), y[i], rtol, n, i);
            VectorLoop.Unary(op, x, x); // in place
            for (int i = 0; i < n; i++) AssertClose(y[i], x[i], 0, n, i);
        }
    }

    private static void CheckBinary<T, TOp>(TOp op, double low, double high, double rtol, bool specials = true, double[]? edges = null)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IVectorBinary<T>
    {
        for (int n = 0; n <= 3 * Vector512<T>.Count + 1; n++)
        {
            T[] a = Inputs<T>(n, n + 100, low, high, specials, edges);
            T[] b = Inputs<T>(n, n + 200, low, high, false);
            var y = new T[n];
            VectorLoop.Binary(op, a, b, y);
            for (int i = 0; i < n; i++) AssertClose(op.Invoke(a[i], b[i]), y[i], rtol, n, i);
            T s = T.CreateChecked(0.75);
            VectorLoop.Binary(op, a, s, y);
            for (int i = 0; i < n; i++) AssertClose(op.Invoke(a[i], s), y[i], rtol, n, i);
            VectorLoop.Binary(op, s, a, y);
            for (int i = 0; i < n; i++) AssertClose(op.Invoke(s, a[i]), y[i], rtol, n, i);
        }
    }

    // Vector exp/log may differ from the scalar ones by an ulp or two; the rest is exact.
    private const double F = 4e-6, D = 1e-13;

    [Fact] public void Erf_VectorMatchesScalar() { CheckUnary<float, ErfOp>(default, -7, 7, 0, edges: ErfEdges); CheckUnary<double, ErfOp>(default, -7, 7, D, edges: ErfEdges); }
    [Fact] public void Erfc_VectorMatchesScalar() { CheckUnary<float, ErfcOp>(default, -7, 7, F, edges: ErfEdges); CheckUnary<double, ErfcOp>(default, -7, 7, D, edges: ErfEdges); }
    [Fact] public void Gelu_VectorMatchesScalar() { CheckUnary<float, GeluOp>(default, -9, 9, F, edges: GeluEdges); CheckUnary<double, GeluOp>(default, -9, 9, D, edges: GeluEdges); }
    /// <summary>
    /// The float GELU and its derivative run in float (GaussianSingle); against the double formulas on a
    /// dense grid over [−14, 14] (past which the tails are 0 in float) they stay within a few float ulps
    /// relative (the derivative: relative to its terms' size, as it crosses zero near x = −0.75), or 1e-37
    /// absolute where the tail nears float's underflow. Vector and scalar lanes both. Measured: 5.0e-7
    /// (forward), 2.6e-7 (derivative).
    /// </summary>
    [Fact]
    public void GeluFloat_WithinFloatRoundingOfDouble()
    {
        const int n = 56_001;
        var x = new float[n];
        var dy = new float[n];
        for (int i = 0; i < n; i++) { x[i] = -14f + 28f * i / (n - 1); dy[i] = 1f; }
        var y = new float[n];
        var dx = new float[n];
        VectorLoop.Unary(default(GeluOp), x, y);
        VectorLoop.Binary(default(GeluBackwardOp), x, dy, dx);
        GeluOp gelu = default;
        GeluBackwardOp gelub = default;
        double worstY = 0, worstDx = 0;
        for (int i = 0; i < n; i++)
        {
            double ey = gelu.Invoke((double)x[i]), edx = gelub.Invoke((double)x[i], 1.0);
            double terms = 0.5 * ErfMath.Erfc(-x[i] / Math.Sqrt(2)) + Math.Abs(x[i]) * Math.Exp(-0.5 * x[i] * x[i]) / Math.Sqrt(2 * Math.PI);
            foreach (float got in (float[])[y[i], gelu.Invoke(x[i])])
                worstY = Math.Max(worstY, Math.Abs(got - ey) / Math.Max(Math.Abs(ey), 1e-30) * (Math.Abs(got - ey) > 1e-37 ? 1 : 0));
            foreach (float got in (float[])[dx[i], gelub.Invoke(x[i], 1f)])
                worstDx = Math.Max(worstDx, Math.Abs(got - edx) / Math.Max(Math.Max(Math.Abs(edx), terms), 1e-30) * (Math.Abs(got - edx) > 1e-37 ? 1 : 0));
        }
        Assert.True(worstY < 8e-7, $"GELU float: worst relative error {worstY:E2}");
        Assert.True(worstDx < 8e-7, $"GELU backward float: worst relative error {worstDx:E2}");
    }

    [Fact] public void GeluTanh_VectorMatchesScalar() { CheckUnary<float, GeluTanhOp<float>>(default, -9, 9, F, edges: ExpEdges); CheckUnary<double, GeluTanhOp<double>>(default, -9, 9, D, edges: ExpEdges); }
    [Fact] public void Silu_VectorMatchesScalar() { CheckUnary<float, SiluOp<float>>(default, -30, 30, F, edges: ExpEdges); CheckUnary<double, SiluOp<double>>(default, -30, 30, D, edges: ExpEdges); }
    [Fact] public void LeakyRelu_VectorMatchesScalar() { CheckUnary<float, LeakyReluOp<float>>(new(0.1f), -3, 3, 0); CheckUnary<double, LeakyReluOp<double>>(new(0.1), -3, 3, 0); }
    [Fact] public void Clamp_VectorMatchesScalar() { CheckUnary<float, ClampOp<float>>(new(-1f, 1.5f), -3, 3, 0, edges: [-1, 1.5]); CheckUnary<double, ClampOp<double>>(new(-1, 1.5), -3, 3, 0, edges: [-1, 1.5]); }
    [Fact] public void Sign_VectorMatchesScalar() { CheckUnary<float, SignOp<float>>(default, -3, 3, 0); CheckUnary<double, SignOp<double>>(default, -3, 3, 0); }

    [Fact]
    public void Softplus_VectorMatchesScalar()
    {
        CheckUnary<float, SoftplusOp<float>>(new(1f, 20f), -40, 40, F, edges: ExpEdges);
        CheckUnary<double, SoftplusOp<double>>(new(2, 5), -40, 40, D, edges: ExpEdges);
    }

    [Fact] public void ReluBackward_VectorMatchesScalar() { CheckBinary<float, ReluBackwardOp<float>>(default, -2, 2, 0); CheckBinary<double, ReluBackwardOp<double>>(default, -2, 2, 0); }
    [Fact] public void LeakyReluBackward_VectorMatchesScalar() { CheckBinary<float, LeakyReluBackwardOp<float>>(new(0.2f), -2, 2, 0); CheckBinary<double, LeakyReluBackwardOp<double>>(new(0.2), -2, 2, 0); }
    [Fact] public void ClampBackward_VectorMatchesScalar() { CheckBinary<float, ClampBackwardOp<float>>(new(-1f, 1f), -2, 2, 0, edges: [-1, 1]); CheckBinary<double, ClampBackwardOp<double>>(new(-1, 1), -2, 2, 0, edges: [-1, 1]); }
    [Fact] public void GeluBackward_VectorMatchesScalar() { CheckBinary<float, GeluBackwardOp>(default, -9, 9, F, edges: GeluEdges); CheckBinary<double, GeluBackwardOp>(default, -9, 9, D, edges: GeluEdges); }
    [Fact] public void GeluTanhBackward_VectorMatchesScalar() { CheckBinary<float, GeluTanhBackwardOp<float>>(default, -9, 9, F, edges: ExpEdges); CheckBinary<double, GeluTanhBackwardOp<double>>(default, -9, 9, D, edges: ExpEdges); }
    [Fact] public void SoftplusBackward_VectorMatchesScalar() { CheckBinary<float, SoftplusBackwardOp<float>>(new(1f, 20f), -30, 30, F, edges: ExpEdges); CheckBinary<double, SoftplusBackwardOp<double>>(new(2, 5), -30, 30, D, edges: ExpEdges); }
    [Fact] public void SiluBackward_VectorMatchesScalar() { CheckBinary<float, SiluBackwardOp<float>>(default, -30, 30, F, edges: ExpEdges); CheckBinary<double, SiluBackwardOp<double>>(default, -30, 30, D, edges: ExpEdges); }

    [Fact] public void KeepWhere_VectorMatchesScalar() { CheckBinary<float, KeepWhereOp<float>>(default, -1, 1, 0); CheckBinary<double, KeepWhereOp<double>>(default, -1, 1, 0); }

    [Fact]
    public void TieWeights_VectorMatchesScalar()
    {
        CheckBinary<float, TieWeightLessOp<float>>(default, -1, 1, 0);
        CheckBinary<double, TieWeightGreaterOp<double>>(default, -1, 1, 0);
        // Ties on purpose: small integers collide often.
        CheckBinary<double, TieWeightLessOp<double>>(default, -2, 2, 0, specials: false);
    }

    [Fact]
    public void Int64_AbsSign_MatchScalar()
    {
        for (int n = 0; n <= 3 * Vector512<long>.Count + 1; n++)
        {
            var rng = new Random(n);
            var x = new long[n];
            for (int i = 0; i < n; i++) x[i] = i % 7 == 6 ? long.MinValue : rng.NextInt64(-5, 6);
            var y = new long[n];
            AbsKernel<long>.Apply(x, y);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] == long.MinValue ? long.MinValue : Math.Abs(x[i]), y[i]);
            SignKernel<long>.Apply(x, y);
            for (int i = 0; i < n; i++) Assert.Equal(Math.Sign(x[i]), y[i]);
        }
    }

    /// <summary>KeepWhere runs on int64 tensors too (masks of any dtype): t where m ≠ 0, else 0, whatever t holds.</summary>
    [Fact]
    public void Int64_KeepWhere_MatchesScalar()
    {
        for (int n = 0; n <= 3 * Vector512<long>.Count + 1; n++)
        {
            var rng = new Random(n);
            var t = new long[n];
            var m = new long[n];
            for (int i = 0; i < n; i++)
            {
                t[i] = i % 5 == 4 ? long.MinValue : i % 5 == 3 ? long.MaxValue : rng.NextInt64(-9, 10);
                m[i] = i % 7 == 6 ? long.MinValue : rng.NextInt64(-1, 2);
            }
            var y = new long[n];
            VectorLoop.Binary(default(KeepWhereOp<long>), t, m, y);
            for (int i = 0; i < n; i++) Assert.True((m[i] != 0 ? t[i] : 0) == y[i], $"length {n}, element {i}: t = {t[i]}, m = {m[i]}, got {y[i]}");
            VectorLoop.Binary(default(KeepWhereOp<long>), t, 0L, y);
            Assert.All(y, v => Assert.Equal(0L, v));
        }
    }

    [Fact]
    public void Erf_Double_WithinOneE15OfHighPrecision()
    {
        double[,] t = ErfReference.Table;
        int n = t.GetLength(0);
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = t[i, 0];
        var erf = new double[n];
        var erfc = new double[n];
        VectorLoop.Unary(default(ErfOp), x, erf);
        VectorLoop.Unary(default(ErfcOp), x, erfc);
        for (int i = 0; i < n; i++)
        {
            AssertRelative(t[i, 1], erf[i], 1e-15, $"erf({x[i]:R})");
            AssertRelative(t[i, 1], ErfMath.Erf(x[i]), 1e-15, $"scalar erf({x[i]:R})");
            if (t[i, 2] > 1e-300) // below that erfc is subnormal and loses bits by nature
            {
                AssertRelative(t[i, 2], erfc[i], 2e-15, $"erfc({x[i]:R})");
                AssertRelative(t[i, 2], ErfMath.Erfc(x[i]), 2e-15, $"scalar erfc({x[i]:R})");
            }
            else Assert.True(Math.Abs(erfc[i] - t[i, 2]) < 1e-310, $"erfc({x[i]:R}) = {erfc[i]:R}");
        }
    }

    /// <summary>
    /// erfc's tail, e^(−a²)·erfcx(a), is as accurate as e^(−a²) is, so a² must be carried as hi + lo (an exact square):
    /// a rounded a² alone is off by up to 8e-14 relative at a = 27. The reference table's inputs are floats, whose squares
    /// are exact in double, so this compares the vector paths with the scalar one (exact square by FMA) on doubles with
    /// full 53-bit significands, at every width the machine runs (measured 4.1e-15 at each: the vector and scalar exps differ
    /// by an ulp or two; with a rounded square, 5e-14).
    /// </summary>
    [Fact]
    public void Erfc_Tail_VectorMatchesScalar_WithExactSquare()
    {
        const int n = 4001;
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = 3 + 24.0 * i / (n - 1) + Math.PI * 1e-7;
        var y = new double[n];
        VectorLoop.Unary(default(ErfcOp), x, y);
        double worst = 0;
        for (int i = 0; i < n; i++)
        {
            double e = ErfMath.Erfc(x[i]);
            worst = Math.Max(worst, Math.Abs(y[i] - e) / e);
        }
        Assert.True(worst <= 1e-14, $"erfc tail: worst relative difference from the scalar path {worst:E2}");
    }

    [Fact]
    public void Erf_Float_WithinOneUlpOfHighPrecision()
    {
        double[,] t = ErfReference.Table;
        int n = t.GetLength(0);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)t[i, 0];
        var erf = new float[n];
        var erfc = new float[n];
        VectorLoop.Unary(default(ErfOp), x, erf);
        VectorLoop.Unary(default(ErfcOp), x, erfc);
        for (int i = 0; i < n; i++)
        {
            Assert.True(UlpDistance((float)t[i, 1], erf[i]) <= 1, $"erf({x[i]:R}): {erf[i]:R} vs {(float)t[i, 1]:R}");
            Assert.True(UlpDistance((float)t[i, 2], erfc[i]) <= 1, $"erfc({x[i]:R}): {erfc[i]:R} vs {(float)t[i, 2]:R}");
        }
    }

    [Fact]
    public void Erf_SpecialValues()
    {
        double[] x = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, 1e300];
        var y = new double[x.Length];
        VectorLoop.Unary(default(ErfOp), x, y);
        Assert.True(double.IsNaN(y[0]));
        Assert.Equal([1.0, -1.0], y[1..3]);
        Assert.True(double.IsNegative(y[3]) && y[3] == 0);
        Assert.Equal(0.0, y[4]);
        Assert.Equal(1.0, y[5]);
        VectorLoop.Unary(default(ErfcOp), x, y);
        Assert.True(double.IsNaN(y[0]));
        Assert.Equal([0.0, 2.0, 1.0, 1.0, 0.0], y[1..]);
        // Also with a full vector of NaN / inf so the 512/256/128-bit paths see them.
        double[] v = Enumerable.Repeat(double.NaN, 8).Concat(Enumerable.Repeat(double.NegativeInfinity, 8)).ToArray();
        var w = new double[16];
        VectorLoop.Unary(default(ErfOp), v, w);
        Assert.All(w[..8], r => Assert.True(double.IsNaN(r)));
        Assert.All(w[8..], r => Assert.Equal(-1.0, r));
    }

    private static void AssertRelative(double expected, double actual, double rtol, string what)
    {
        double err = expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);
        Assert.True(err <= rtol, $"{what}: {actual:R} vs reference {expected:R}, relative error {err:E2}");
    }

    private static int UlpDistance(float a, float b)
    {
        if (a == b) return 0;
        int ia = BitConverter.SingleToInt32Bits(a), ib = BitConverter.SingleToInt32Bits(b);
        if ((ia < 0) != (ib < 0)) return int.MaxValue;
        return Math.Abs(ia - ib);
    }
}
