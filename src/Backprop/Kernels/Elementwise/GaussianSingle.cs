using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// The standard normal's upper tail Φ(−|x|) = ½·erfc(|x|/√2) and e^(−x²/2) in single precision, for
/// the float GELU: working in float keeps eight lanes per AVX2 vector (four per 128-bit one) where the double
/// path (ErfMath) widens to half as many, and GELU is a tenth of a transformer step.
/// </summary>
/// <remarks>
/// With b = |x|/√2: b &lt; 0.5: erfc(b) = 1 − b·P(b²), P of degree 4; b ≥ 0.5: erfc(b) = e^(−b²)·(Q(t)·r + 1/√π)·r,
/// r = 1/(b + 3), t = (b − 4)·r — ErfMath's scheme, with Chebyshev interpolants fitted for float
/// (mpmath, 40 digits; tools/fit-gaussian-single.py). Measured max relative error in float Horner: 1.7e-7 (P) and 3.4e-7 (erfcx),
/// near float's rounding floor. e^(−b²) = e^(−x²/2) takes x² as hi + lo (an FMA), so the tail keeps its
/// relative accuracy.
/// </remarks>
internal static class GaussianSingle
{
    private const float P0 = 1.1283791656017914f, P1 = -0.37612609007469805f, P2 = 0.11282831428465862f,
                        P3 = -0.026757732735015517f, P4 = 0.004719082567218814f;
    private const float Q0 = 2.763646338793954f, Q1 = -1.6309180339632474f, Q2 = 0.7914701007907557f, Q3 = -0.3003596260895333f,
                        Q4 = 0.07863538059029418f, Q5 = -0.007504983278350509f, Q6 = -0.003741847978095033f,
                        Q7 = 0.0012959155261643752f, Q8 = 4.594100218350793e-05f;
    private const float Rsqrt2 = 0.70710678118654752f, InvSqrtPi = 0.56418958354775629f;

    // Beyond |x| = 20 the tail is 0 in float; clamping keeps ∞ out of the polynomials.
    private const float Clamp = 20f;

    /// <summary>Φ(−|x|) and e^(−x²/2) of one float.</summary>
    public static float UpperTail(float x, out float gaussian)
    {
        float ax = MathF.Min(MathF.Abs(x), Clamp), b = ax * Rsqrt2;
        float square = ax * ax, squareLo = MathF.FusedMultiplyAdd(ax, ax, -square);
        gaussian = MathF.Exp(-0.5f * square) * MathF.FusedMultiplyAdd(-0.5f, squareLo, 1f);
        float erfc;
        if (b < 0.5f)
        {
            float u = b * b;
            erfc = 1f - b * (P0 + u * (P1 + u * (P2 + u * (P3 + u * P4))));
        }
        else
        {
            float r = 1f / (b + 3f), t = (b - 4f) * r;
            float q = Q0 + t * (Q1 + t * (Q2 + t * (Q3 + t * (Q4 + t * (Q5 + t * (Q6 + t * (Q7 + t * Q8)))))));
            erfc = gaussian * MathF.FusedMultiplyAdd(q, r, InvSqrtPi) * r;
        }
        return 0.5f * erfc;
    }

    /// <summary>
    /// Φ(−|x|) and e^(−x²/2), four lanes: multiply-adds fuse where the hardware has FMA (ARM64, x86 with FMA) and are
    /// a multiply and an add elsewhere, so x² = hi + lo is split without FMA (<see cref="SimdMath.SquareError{T}(Vector128{T}, Vector128{T})"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> UpperTail(Vector128<float> x, out Vector128<float> gaussian)
    {
        Vector128<float> ax = Vector128.Min(Vector128.Abs(x), Vector128.Create(Clamp)), b = ax * Vector128.Create(Rsqrt2);
        Vector128<float> square = ax * ax, squareLo = SimdMath.SquareError(ax, square);
        gaussian = FloatExp.Exp(square * Vector128.Create(-0.5f)) * Vector128.MultiplyAddEstimate(Vector128.Create(-0.5f), squareLo, Vector128<float>.One);
        Vector128<float> u = b * b;
        Vector128<float> p = Vector128.MultiplyAddEstimate(u, Vector128.Create(P4), Vector128.Create(P3));
        p = Vector128.MultiplyAddEstimate(u, p, Vector128.Create(P2));
        p = Vector128.MultiplyAddEstimate(u, p, Vector128.Create(P1));
        p = Vector128.MultiplyAddEstimate(u, p, Vector128.Create(P0));
        Vector128<float> small = Vector128.MultiplyAddEstimate(-b, p, Vector128<float>.One);
        Vector128<float> r = Vector128<float>.One / (b + Vector128.Create(3f)), t = (b - Vector128.Create(4f)) * r;
        Vector128<float> q = Vector128.MultiplyAddEstimate(t, Vector128.Create(Q8), Vector128.Create(Q7));
        q = Vector128.MultiplyAddEstimate(t, q, Vector128.Create(Q6));
        q = Vector128.MultiplyAddEstimate(t, q, Vector128.Create(Q5));
        q = Vector128.MultiplyAddEstimate(t, q, Vector128.Create(Q4));
        q = Vector128.MultiplyAddEstimate(t, q, Vector128.Create(Q3));
        q = Vector128.MultiplyAddEstimate(t, q, Vector128.Create(Q2));
        q = Vector128.MultiplyAddEstimate(t, q, Vector128.Create(Q1));
        q = Vector128.MultiplyAddEstimate(t, q, Vector128.Create(Q0));
        Vector128<float> large = gaussian * Vector128.MultiplyAddEstimate(q, r, Vector128.Create(InvSqrtPi)) * r;
        return Vector128.Create(0.5f) * Vector128.ConditionalSelect(Vector128.LessThan(b, Vector128.Create(0.5f)), small, large);
    }

    /// <summary>Φ(−|x|) and e^(−x²/2), eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> UpperTail(Vector256<float> x, out Vector256<float> gaussian)
    {
        Vector256<float> ax = Vector256.Min(Vector256.Abs(x), Vector256.Create(Clamp)), b = ax * Vector256.Create(Rsqrt2);
        Vector256<float> square = ax * ax, squareLo = Vector256.FusedMultiplyAdd(ax, ax, -square);
        gaussian = FloatExp.Exp(square * Vector256.Create(-0.5f)) * Vector256.FusedMultiplyAdd(Vector256.Create(-0.5f), squareLo, Vector256<float>.One);
        Vector256<float> u = b * b;
        Vector256<float> p = Vector256.FusedMultiplyAdd(u, Vector256.Create(P4), Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(u, p, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(u, p, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(u, p, Vector256.Create(P0));
        Vector256<float> small = Vector256.FusedMultiplyAdd(-b, p, Vector256<float>.One);
        Vector256<float> r = Vector256<float>.One / (b + Vector256.Create(3f)), t = (b - Vector256.Create(4f)) * r;
        Vector256<float> q = Vector256.FusedMultiplyAdd(t, Vector256.Create(Q8), Vector256.Create(Q7));
        q = Vector256.FusedMultiplyAdd(t, q, Vector256.Create(Q6));
        q = Vector256.FusedMultiplyAdd(t, q, Vector256.Create(Q5));
        q = Vector256.FusedMultiplyAdd(t, q, Vector256.Create(Q4));
        q = Vector256.FusedMultiplyAdd(t, q, Vector256.Create(Q3));
        q = Vector256.FusedMultiplyAdd(t, q, Vector256.Create(Q2));
        q = Vector256.FusedMultiplyAdd(t, q, Vector256.Create(Q1));
        q = Vector256.FusedMultiplyAdd(t, q, Vector256.Create(Q0));
        Vector256<float> large = gaussian * Vector256.FusedMultiplyAdd(q, r, Vector256.Create(InvSqrtPi)) * r;
        return Vector256.Create(0.5f) * Vector256.ConditionalSelect(Vector256.LessThan(b, Vector256.Create(0.5f)), small, large);
    }

    /// <summary>Φ(−|x|) and e^(−x²/2), sixteen lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> UpperTail(Vector512<float> x, out Vector512<float> gaussian)
    {
        Vector512<float> ax = Vector512.Min(Vector512.Abs(x), Vector512.Create(Clamp)), b = ax * Vector512.Create(Rsqrt2);
        Vector512<float> square = ax * ax, squareLo = Vector512.FusedMultiplyAdd(ax, ax, -square);
        gaussian = FloatExp.Exp(square * Vector512.Create(-0.5f)) * Vector512.FusedMultiplyAdd(Vector512.Create(-0.5f), squareLo, Vector512<float>.One);
        Vector512<float> u = b * b;
        Vector512<float> p = Vector512.FusedMultiplyAdd(u, Vector512.Create(P4), Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(u, p, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(u, p, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(u, p, Vector512.Create(P0));
        Vector512<float> small = Vector512.FusedMultiplyAdd(-b, p, Vector512<float>.One);
        Vector512<float> r = Vector512<float>.One / (b + Vector512.Create(3f)), t = (b - Vector512.Create(4f)) * r;
        Vector512<float> q = Vector512.FusedMultiplyAdd(t, Vector512.Create(Q8), Vector512.Create(Q7));
        q = Vector512.FusedMultiplyAdd(t, q, Vector512.Create(Q6));
        q = Vector512.FusedMultiplyAdd(t, q, Vector512.Create(Q5));
        q = Vector512.FusedMultiplyAdd(t, q, Vector512.Create(Q4));
        q = Vector512.FusedMultiplyAdd(t, q, Vector512.Create(Q3));
        q = Vector512.FusedMultiplyAdd(t, q, Vector512.Create(Q2));
        q = Vector512.FusedMultiplyAdd(t, q, Vector512.Create(Q1));
        q = Vector512.FusedMultiplyAdd(t, q, Vector512.Create(Q0));
        Vector512<float> large = gaussian * Vector512.FusedMultiplyAdd(q, r, Vector512.Create(InvSqrtPi)) * r;
        return Vector512.Create(0.5f) * Vector512.ConditionalSelect(Vector512.LessThan(b, Vector512.Create(0.5f)), small, large);
    }
}
