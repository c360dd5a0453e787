using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// e^x and e^x − 1 for float vectors in float arithmetic — the one float exponential every kernel uses
/// (softmax, attention, sigmoid and tanh gates, GELU). .NET's float vector Exp evaluates in double, at
/// several times the cost; it had been the largest single cost of an LSTM step and half the attention forward.
/// </summary>
/// <remarks>
/// x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two so n·ln 2 is exact), e^r = 1 + q from Cephes'
/// degree-6 polynomial (about 1 ulp), s = 2^n put straight into the exponent bits, e^x = q·s + s. x is
/// clamped to ±88.376 so 2^n fits the exponent: e^x is exactly 0 below about −87.7 (no subnormals) and
/// +∞ above 88.376 (a little before float's own overflow at 88.72, so x/(1 + e^−x) still gives 0 or NaN
/// as the scalar path does); e^x − 1 instead saturates at e^88.376 (tanh divides by it). NaN stays NaN
/// (MaxNative hands back its second operand when it is NaN); multiply-adds fuse where the CPU has FMA.
/// </remarks>
internal static class FloatExp
{
    private const float Bound = 88.3762626647949f, Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f,
                        P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        Vector128<float> q = Parts(x, out Vector128<float> s);
        return Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128.Create(Bound)), Vector128.Create(float.PositiveInfinity), Vector128.MultiplyAddEstimate(q, s, s));
    }

    /// <summary>e^x − 1 as q·s + (s − 1): exact to rounding near 0, where s = 1 (tanh keeps its relative accuracy there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ExpM1(Vector128<float> x)
    {
        Vector128<float> q = Parts(x, out Vector128<float> s);
        return Vector128.MultiplyAddEstimate(q, s, s - Vector128<float>.One);
    }

    /// <summary>q = e^r − 1 and s = 2^n for x = n·ln 2 + r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Parts(Vector128<float> x, out Vector128<float> s)
    {
        Vector128<float> c = Vector128.MinNative(Vector128.Create(Bound), Vector128.MaxNative(Vector128.Create(-Bound), x));
        Vector128<float> n = Vector128.Round(c * Vector128.Create(Log2E));
        Vector128<float> r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-Ln2Hi), c);
        r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-Ln2Lo), r);
        Vector128<float> p = Vector128.MultiplyAddEstimate(Vector128.Create(P0), r, Vector128.Create(P1));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P2));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P3));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P4));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P5));
        s = Vector128.ShiftLeft(Vector128.ConvertToInt32Native(n) + Vector128.Create(127), 23).AsSingle();
        return Vector128.MultiplyAddEstimate(p, r * r, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        Vector256<float> q = Parts(x, out Vector256<float> s);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Bound)), Vector256.Create(float.PositiveInfinity), Vector256.MultiplyAddEstimate(q, s, s));
    }

    /// <summary>e^x − 1 as q·s + (s − 1): exact to rounding near 0, where s = 1 (tanh keeps its relative accuracy there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpM1(Vector256<float> x)
    {
        Vector256<float> q = Parts(x, out Vector256<float> s);
        return Vector256.MultiplyAddEstimate(q, s, s - Vector256<float>.One);
    }

    /// <summary>q = e^r − 1 and s = 2^n for x = n·ln 2 + r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Parts(Vector256<float> x, out Vector256<float> s)
    {
        Vector256<float> c = Vector256.MinNative(Vector256.Create(Bound), Vector256.MaxNative(Vector256.Create(-Bound), x));
        Vector256<float> n = Vector256.Round(c * Vector256.Create(Log2E));
        Vector256<float> r = Vector256.MultiplyAddEstimate(n, Vector256.Create(-Ln2Hi), c);
        r = Vector256.MultiplyAddEstimate(n, Vector256.Create(-Ln2Lo), r);
        Vector256<float> p = Vector256.MultiplyAddEstimate(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P2));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P3));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P4));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P5));
        s = Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n) + Vector256.Create(127), 23).AsSingle();
        return Vector256.MultiplyAddEstimate(p, r * r, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        Vector512<float> q = Parts(x, out Vector512<float> s);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Bound)), Vector512.Create(float.PositiveInfinity), Vector512.MultiplyAddEstimate(q, s, s));
    }

    /// <summary>e^x − 1 as q·s + (s − 1): exact to rounding near 0, where s = 1 (tanh keeps its relative accuracy there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ExpM1(Vector512<float> x)
    {
        Vector512<float> q = Parts(x, out Vector512<float> s);
        return Vector512.MultiplyAddEstimate(q, s, s - Vector512<float>.One);
    }

    /// <summary>q = e^r − 1 and s = 2^n for x = n·ln 2 + r.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Parts(Vector512<float> x, out Vector512<float> s)
    {
        Vector512<float> c = Vector512.MinNative(Vector512.Create(Bound), Vector512.MaxNative(Vector512.Create(-Bound), x));
        Vector512<float> n = Vector512.Round(c * Vector512.Create(Log2E));
        Vector512<float> r = Vector512.MultiplyAddEstimate(n, Vector512.Create(-Ln2Hi), c);
        r = Vector512.MultiplyAddEstimate(n, Vector512.Create(-Ln2Lo), r);
        Vector512<float> p = Vector512.MultiplyAddEstimate(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P2));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P3));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P4));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P5));
        s = Vector512.ShiftLeft(Vector512.ConvertToInt32Native(n) + Vector512.Create(127), 23).AsSingle();
        return Vector512.MultiplyAddEstimate(p, r * r, r);
    }
}
