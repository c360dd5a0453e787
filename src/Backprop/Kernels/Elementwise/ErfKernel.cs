using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Error function erf and its complement erfc in double precision, scalar and vectorised (float
/// goes through double, so float results are correctly rounded nearly always).
/// </summary>
/// <remarks>
/// |x| &lt; 0.5: erf(x) = x·P(x²), P of degree 8.
/// |x| ≥ 0.5: erfc(a) = exp(−a²)·erfcx(a) with erfcx(a) = (Q(t)·r + 1/√π)·r, r = 1/(a + 3),
/// t = (a − 4)/(a + 3) ∈ [−1, 1) for a ∈ [0.5, ∞) (a rational map that makes erfcx polynomial-friendly
/// out to infinity), Q of degree 20.
/// Coefficients: Chebyshev interpolants at 50 digits (mpmath), converted to monomials and rounded to
/// double; measured max relative error 2.3e-16 (small branch) and 5.1e-16 (erfcx) in double Horner.
/// e^(−a²) is taken with a² split into hi + lo, so erfc keeps ~1e-15 relative accuracy in the tail.
/// </remarks>
internal static class ErfMath
{
    private const double InvSqrtPi = 0.5641895835477563;
    private const double SmallLimit = 0.5;
    // Beyond this erfc underflows to 0; clamping also keeps t finite for a = ∞.
    private const double BigLimit = 28.0;

    private static ReadOnlySpan<double> P =>
    [
        1.1283791670955126, -0.37612638903183476, 0.11283791670925353, -0.026866170632887928,
        0.00522397737302147, -0.0008548297753674966, 0.00012053335124353741, -1.4845849259707869e-05,
        1.4725865480556744e-06,
    ];

    private static ReadOnlySpan<double> Q =>
    [
        2.763646338793714, -1.6309228281706205, 0.7914706354589992, -0.3002952130041937,
        0.07862814474407816, -0.00774170060631405, -0.0037147413085968257, 0.0016270589392447777,
        6.368298823870877e-06, -0.00017063443833139548, 2.2863820100577096e-05, 1.80588785237148e-05,
        -4.190337544328613e-06, -2.2354109460451197e-06, 6.152968394826332e-07, 3.2438986210584935e-07,
        -8.051735197601238e-08, -4.656293118303612e-08, 8.595510801633143e-09, 4.334243600935779e-09,
        -5.498409652007841e-10,
    ];

    // ---------------- scalar ----------------

    private static double Horner(ReadOnlySpan<double> c, double t)
    {
        double p = c[^1];
        for (int k = c.Length - 2; k >= 0; k--) p = Math.FusedMultiplyAdd(p, t, c[k]);
        return p;
    }

    /// <summary>erfc(a) for a ≥ 0.5 (or NaN).</summary>
    private static double ErfcLarge(double a)
    {
        a = Math.Min(a, BigLimit);
        double r = 1.0 / (a + 3.0);
        double t = (a - 4.0) * r;
        // a² = hi + lo exactly; e^(−a²) ≈ e^(−hi)·(1 − lo) keeps the tail accurate for large a.
        double hi = a * a, lo = Math.FusedMultiplyAdd(a, a, -hi);
        double e = Math.Exp(-hi);
        e = Math.FusedMultiplyAdd(-e, lo, e);
        return e * (Math.FusedMultiplyAdd(Horner(Q, t), r, InvSqrtPi) * r);
    }

    /// <summary>erf(x).</summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (a < SmallLimit) return x * Horner(P, x * x);
        if (double.IsNaN(x)) return x;
        return Math.CopySign(1.0 - ErfcLarge(a), x);
    }

    /// <summary>erfc(x) = 1 − erf(x), accurate in the tail x → +∞.</summary>
    public static double Erfc(double x)
    {
        double a = Math.Abs(x);
        if (a < SmallLimit) return 1.0 - x * Horner(P, x * x);
        if (double.IsNaN(x)) return x;
        double e = ErfcLarge(a);
        return x > 0 ? e : 2.0 - e;
    }

    // ---------------- 512-bit ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Horner(ReadOnlySpan<double> c, Vector512<double> t)
    {
        Vector512<double> p = Vector512.Create(c[^1]);
        for (int k = c.Length - 2; k >= 0; k--) p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(c[k]));
        return p;
    }

    private static Vector512<double> ErfcLarge(Vector512<double> a)
    {
        a = Vector512.Min(a, Vector512.Create(BigLimit));
        Vector512<double> r = Vector512<double>.One / (a + Vector512.Create(3.0));
        Vector512<double> t = (a - Vector512.Create(4.0)) * r;
        Vector512<double> erfcx = Vector512.FusedMultiplyAdd(Horner(Q, t), r, Vector512.Create(InvSqrtPi)) * r;
        Vector512<double> hi = a * a, lo = Vector512.FusedMultiplyAdd(a, a, -hi);
        Vector512<double> e = Vector512.Exp(-hi);
        return Vector512.FusedMultiplyAdd(-e, lo, e) * erfcx;
    }

    public static Vector512<double> Erf(Vector512<double> x)
    {
        Vector512<double> a = Vector512.Abs(x);
        Vector512<double> small = Vector512.LessThan(a, Vector512.Create(SmallLimit));
        Vector512<double> result = x * Horner(P, x * x);
        if (!Vector512.EqualsAll(small.AsUInt64(), Vector512<ulong>.AllBitsSet))
        {
            Vector512<double> big = Vector512<double>.One - ErfcLarge(a);
            big |= x & Vector512.Create(-0.0); // sign of x
            result = Vector512.ConditionalSelect(small, result, big);
            result = Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
        }
        return result;
    }

    public static Vector512<double> Erfc(Vector512<double> x)
    {
        Vector512<double> a = Vector512.Abs(x);
        Vector512<double> small = Vector512.LessThan(a, Vector512.Create(SmallLimit));
        Vector512<double> result = Vector512<double>.One - x * Horner(P, x * x);
        if (!Vector512.EqualsAll(small.AsUInt64(), Vector512<ulong>.AllBitsSet))
        {
            Vector512<double> e = ErfcLarge(a);
            Vector512<double> big = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<double>.Zero), e, Vector512.Create(2.0) - e);
            result = Vector512.ConditionalSelect(small, result, big);
            result = Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
        }
        return result;
    }

    // ---------------- 128-bit ----------------
    // MultiplyAddEstimate: fused on ARM64 and x86 with FMA, a multiply and an add on SSE-only x86 and WebAssembly (where a
    // fused one would be emulated lane by lane); a² = hi + lo is split without FMA so the tail stays accurate either way.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<double> Horner(ReadOnlySpan<double> c, Vector128<double> t)
    {
        Vector128<double> p = Vector128.Create(c[^1]);
        for (int k = c.Length - 2; k >= 0; k--) p = Vector128.MultiplyAddEstimate(p, t, Vector128.Create(c[k]));
        return p;
    }

    private static Vector128<double> ErfcLarge(Vector128<double> a)
    {
        a = Vector128.Min(a, Vector128.Create(BigLimit));
        Vector128<double> r = Vector128<double>.One / (a + Vector128.Create(3.0));
        Vector128<double> t = (a - Vector128.Create(4.0)) * r;
        Vector128<double> erfcx = Vector128.MultiplyAddEstimate(Horner(Q, t), r, Vector128.Create(InvSqrtPi)) * r;
        Vector128<double> hi = a * a, lo = SimdMath.SquareError(a, hi);
        Vector128<double> e = Vector128.Exp(-hi);
        return Vector128.MultiplyAddEstimate(-e, lo, e) * erfcx;
    }

    public static Vector128<double> Erf(Vector128<double> x)
    {
        Vector128<double> a = Vector128.Abs(x);
        Vector128<double> small = Vector128.LessThan(a, Vector128.Create(SmallLimit));
        Vector128<double> result = x * Horner(P, x * x);
        if (!Vector128.EqualsAll(small.AsUInt64(), Vector128<ulong>.AllBitsSet))
        {
            Vector128<double> big = Vector128<double>.One - ErfcLarge(a);
            big |= x & Vector128.Create(-0.0);
            result = Vector128.ConditionalSelect(small, result, big);
            result = Vector128.ConditionalSelect(Vector128.Equals(x, x), result, x);
        }
        return result;
    }

    public static Vector128<double> Erfc(Vector128<double> x)
    {
        Vector128<double> a = Vector128.Abs(x);
        Vector128<double> small = Vector128.LessThan(a, Vector128.Create(SmallLimit));
        Vector128<double> result = Vector128<double>.One - x * Horner(P, x * x);
        if (!Vector128.EqualsAll(small.AsUInt64(), Vector128<ulong>.AllBitsSet))
        {
            Vector128<double> e = ErfcLarge(a);
            Vector128<double> big = Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<double>.Zero), e, Vector128.Create(2.0) - e);
            result = Vector128.ConditionalSelect(small, result, big);
            result = Vector128.ConditionalSelect(Vector128.Equals(x, x), result, x);
        }
        return result;
    }

    // ---------------- 256-bit ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Horner(ReadOnlySpan<double> c, Vector256<double> t)
    {
        Vector256<double> p = Vector256.Create(c[^1]);
        for (int k = c.Length - 2; k >= 0; k--) p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(c[k]));
        return p;
    }

    private static Vector256<double> ErfcLarge(Vector256<double> a)
    {
        a = Vector256.Min(a, Vector256.Create(BigLimit));
        Vector256<double> r = Vector256<double>.One / (a + Vector256.Create(3.0));
        Vector256<double> t = (a - Vector256.Create(4.0)) * r;
        Vector256<double> erfcx = Vector256.FusedMultiplyAdd(Horner(Q, t), r, Vector256.Create(InvSqrtPi)) * r;
        Vector256<double> hi = a * a, lo = Vector256.FusedMultiplyAdd(a, a, -hi);
        Vector256<double> e = Vector256.Exp(-hi);
        return Vector256.FusedMultiplyAdd(-e, lo, e) * erfcx;
    }

    public static Vector256<double> Erf(Vector256<double> x)
    {
        Vector256<double> a = Vector256.Abs(x);
        Vector256<double> small = Vector256.LessThan(a, Vector256.Create(SmallLimit));
        Vector256<double> result = x * Horner(P, x * x);
        if (!Vector256.EqualsAll(small.AsUInt64(), Vector256<ulong>.AllBitsSet))
        {
            Vector256<double> big = Vector256<double>.One - ErfcLarge(a);
            big |= x & Vector256.Create(-0.0);
            result = Vector256.ConditionalSelect(small, result, big);
            result = Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
        }
        return result;
    }

    public static Vector256<double> Erfc(Vector256<double> x)
    {
        Vector256<double> a = Vector256.Abs(x);
        Vector256<double> small = Vector256.LessThan(a, Vector256.Create(SmallLimit));
        Vector256<double> result = Vector256<double>.One - x * Horner(P, x * x);
        if (!Vector256.EqualsAll(small.AsUInt64(), Vector256<ulong>.AllBitsSet))
        {
            Vector256<double> e = ErfcLarge(a);
            Vector256<double> big = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<double>.Zero), e, Vector256.Create(2.0) - e);
            result = Vector256.ConditionalSelect(small, result, big);
            result = Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
        }
        return result;
    }
}

/// <summary>y = erf(x).</summary>
internal readonly struct ErfOp : IVectorUnary<float>, IVectorUnary<double>
{
    public double Invoke(double x) => ErfMath.Erf(x);
    public Vector128<double> Invoke(Vector128<double> x) => ErfMath.Erf(x);
    public Vector256<double> Invoke(Vector256<double> x) => ErfMath.Erf(x);
    public Vector512<double> Invoke(Vector512<double> x) => ErfMath.Erf(x);
    public float Invoke(float x) => (float)ErfMath.Erf(x);

    public Vector128<float> Invoke(Vector128<float> x)
    {
        (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x);
        return Vector128.Narrow(ErfMath.Erf(lo), ErfMath.Erf(hi));
    }

    public Vector256<float> Invoke(Vector256<float> x)
    {
        (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x);
        return Vector256.Narrow(ErfMath.Erf(lo), ErfMath.Erf(hi));
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(x);
        return Vector512.Narrow(ErfMath.Erf(lo), ErfMath.Erf(hi));
    }
}

/// <summary>y = erfc(x) = 1 − erf(x).</summary>
internal readonly struct ErfcOp : IVectorUnary<float>, IVectorUnary<double>
{
    public double Invoke(double x) => ErfMath.Erfc(x);
    public Vector128<double> Invoke(Vector128<double> x) => ErfMath.Erfc(x);
    public Vector256<double> Invoke(Vector256<double> x) => ErfMath.Erfc(x);
    public Vector512<double> Invoke(Vector512<double> x) => ErfMath.Erfc(x);
    public float Invoke(float x) => (float)ErfMath.Erfc(x);

    public Vector128<float> Invoke(Vector128<float> x)
    {
        (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(x);
        return Vector128.Narrow(ErfMath.Erfc(lo), ErfMath.Erfc(hi));
    }

    public Vector256<float> Invoke(Vector256<float> x)
    {
        (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(x);
        return Vector256.Narrow(ErfMath.Erfc(lo), ErfMath.Erfc(hi));
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(x);
        return Vector512.Narrow(ErfMath.Erfc(lo), ErfMath.Erfc(hi));
    }
}
