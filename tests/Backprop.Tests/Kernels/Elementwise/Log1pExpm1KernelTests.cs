using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>
/// Log1p and Expm1 vector bodies against their scalar forms at every length 0..3·(512-bit width)+1 (every mix of
/// 512/256/128-bit blocks and scalar tail), with special values (±0, ±∞, NaN, −1, tiny, exp's clamp edges) rotated
/// through the lanes; and the scalar forms' accuracy near 0, where Log(1 + x) and Exp(x) − 1 fail.
/// </summary>
[Trait("Category", "Kernels")]
public class Log1pExpm1KernelTests
{
    // ±0, ±∞, NaN, the poles and domain edges, tiny values, and FloatExp's edges (finite just below its clamp at 88.376, 0 below −87.7).
    private static readonly double[] Specials = [0.0, -0.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1.0, 1e-300, -1e-30, 3e-9, -2.0,
        88.3, -87.7, -104, 1e30];

    private static void Check<T, TOp>(TOp op, double low, double high, double rtol) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IVectorUnary<T>
    {
        for (int n = 0; n <= 3 * Vector512<T>.Count + 1; n++)
        {
            var rng = new Random(n + 7);
            var x = new T[n];
            for (int i = 0; i < n; i++)
                x[i] = T.CreateChecked(i % 4 == 1 ? Specials[(i / 4 + n) % Specials.Length] : low + (high - low) * rng.NextDouble());
            var y = new T[n];
            VectorLoop.Unary(op, x, y);
            for (int i = 0; i < n; i++)
            {
                double e = double.CreateChecked(op.Invoke(x[i])), a = double.CreateChecked(y[i]);
                if (double.IsNaN(e)) { Assert.True(double.IsNaN(a), $"length {n}, element {i} (x = {x[i]}): scalar NaN, vector {a:R}"); continue; }
                Assert.True(e == a || Math.Abs(e - a) <= rtol * Math.Abs(e), $"length {n}, element {i} (x = {x[i]}): scalar {e:R}, vector {a:R}");
            }
        }
    }

    [Fact] public void Log1p_VectorMatchesScalar() { Check<float, Log1pOp<float>>(default, -0.999, 5, 4e-7); Check<double, Log1pOp<double>>(default, -0.999, 5, 1e-15); }
    [Fact] public void Log1p_VectorMatchesScalar_NearZero() { Check<float, Log1pOp<float>>(default, -1e-4, 1e-4, 4e-7); Check<double, Log1pOp<double>>(default, -1e-9, 1e-9, 1e-15); }
    [Fact] public void Expm1_VectorMatchesScalar() { Check<float, Expm1Op<float>>(default, -20, 20, 4e-7); Check<double, Expm1Op<double>>(default, -30, 30, 1e-15); }
    [Fact] public void Expm1_VectorMatchesScalar_NearZero() { Check<float, Expm1Op<float>>(default, -1e-4, 1e-4, 4e-7); Check<double, Expm1Op<double>>(default, -1e-9, 1e-9, 1e-15); }

    [Fact]
    public void Scalar_IsAccurateNearZero()
    {
        // Series to x⁵: log1p(x) = x − x²/2 + x³/3 − …, expm1(x) = x + x²/2 + x³/6 + …; within a few ulps of them (Log(1 + x) and
        // Exp(x) − 1 are off by ulp(1)/x relative: 1e-10 at x = 2e-6 in double, 6% in float).
        foreach (double x in new[] { 1e-15, -3e-12, 7e-9, -2e-6, 1e-4 })
        {
            double x2 = x * x, x3 = x2 * x, x4 = x3 * x;
            double log1p = x - x2 / 2 + x3 / 3 - x4 / 4 + x4 * x / 5, expm1 = x + x2 / 2 + x3 / 6 + x4 / 24 + x4 * x / 120;
            Assert.True(Math.Abs(default(Log1pOp<double>).Invoke(x) - log1p) <= 1e-15 * Math.Abs(log1p), $"log1p({x})");
            Assert.True(Math.Abs(default(Expm1Op<double>).Invoke(x) - expm1) <= 1e-15 * Math.Abs(expm1), $"expm1({x})");
            float xf = (float)x;
            double lf = (double)xf - (double)xf * xf / 2, ef = (double)xf + (double)xf * xf / 2;
            Assert.True(Math.Abs(default(Log1pOp<float>).Invoke(xf) - lf) <= 4e-7 * Math.Abs(lf), $"float log1p({x})");
            Assert.True(Math.Abs(default(Expm1Op<float>).Invoke(xf) - ef) <= 4e-7 * Math.Abs(ef), $"float expm1({x})");
        }
        Assert.Equal(double.NegativeInfinity, default(Log1pOp<double>).Invoke(-1));
        Assert.Equal(-1.0, default(Expm1Op<double>).Invoke(double.NegativeInfinity));
        Assert.Equal(double.PositiveInfinity, default(Expm1Op<double>).Invoke(double.PositiveInfinity));
        Assert.Equal(double.PositiveInfinity, default(Log1pOp<double>).Invoke(double.PositiveInfinity));
    }
}
