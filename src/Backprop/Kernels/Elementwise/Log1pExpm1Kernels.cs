using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// ln(1 + x), accurate for x near 0 by Goldberg's trick: with w = 1 + x rounded, ln(1 + x) = ln(w)·x/(w − 1),
/// which cancels the rounding of w (and is x itself where w rounds to 1). The BCL's LogP1 is Log(x + 1),
/// which loses every digit below the rounding of 1 + x. x = −1 gives −∞, x &lt; −1 NaN, +∞ stays +∞.
/// </summary>
internal readonly struct Log1pOp<T> : IVectorUnary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x)
    {
        T w = T.One + x;
        if (w == T.One) return x;
        if (T.IsPositiveInfinity(w)) return w;
        return T.Log(w) * (x / (w - T.One));
    }

    public Vector128<T> Invoke(Vector128<T> x)
    {
        Vector128<T> w = Vector128<T>.One + x;
        Vector128<T> general = SimdMath.Log(w) * (x / (w - Vector128<T>.One));
        Vector128<T> y = Vector128.ConditionalSelect(Vector128.Equals(w, Vector128<T>.One), x, general);
        return Vector128.ConditionalSelect(Vector128.Equals(w, Vector128.Create(T.PositiveInfinity)), w, y);
    }

    public Vector256<T> Invoke(Vector256<T> x)
    {
        Vector256<T> w = Vector256<T>.One + x;
        Vector256<T> general = SimdMath.Log(w) * (x / (w - Vector256<T>.One));
        Vector256<T> y = Vector256.ConditionalSelect(Vector256.Equals(w, Vector256<T>.One), x, general);
        return Vector256.ConditionalSelect(Vector256.Equals(w, Vector256.Create(T.PositiveInfinity)), w, y);
    }

    public Vector512<T> Invoke(Vector512<T> x)
    {
        Vector512<T> w = Vector512<T>.One + x;
        Vector512<T> general = SimdMath.Log(w) * (x / (w - Vector512<T>.One));
        Vector512<T> y = Vector512.ConditionalSelect(Vector512.Equals(w, Vector512<T>.One), x, general);
        return Vector512.ConditionalSelect(Vector512.Equals(w, Vector512.Create(T.PositiveInfinity)), w, y);
    }
}

/// <summary>
/// e^x − 1, accurate for x near 0 by Kahan's trick: with u = e^x rounded, e^x − 1 = (u − 1)·x/ln u, which
/// cancels the error of u (and is x itself where u rounds to 1, −1 where u − 1 rounds to −1). The BCL's
/// ExpM1 is Exp(x) − 1. +∞ gives +∞, −∞ gives −1.
/// </summary>
/// <remarks>
/// The float vector path takes e^x from <see cref="FloatExp"/>, which is +∞ above 88.376 (float's own
/// overflow is at 88.72), so e^x − 1 for x in (88.376, 88.72] is +∞ there and finite in the scalar path.
/// </remarks>
internal readonly struct Expm1Op<T> : IVectorUnary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Invoke(T x)
    {
        T u = T.Exp(x);
        if (u == T.One) return x;
        T um1 = u - T.One;
        if (um1 == -T.One) return um1;
        if (T.IsPositiveInfinity(u)) return u;
        return um1 * (x / T.Log(u));
    }

    public Vector128<T> Invoke(Vector128<T> x)
    {
        Vector128<T> u = SimdMath.Exp(x);
        Vector128<T> um1 = u - Vector128<T>.One;
        Vector128<T> y = um1 * (x / SimdMath.Log(u));
        y = Vector128.ConditionalSelect(Vector128.Equals(u, Vector128.Create(T.PositiveInfinity)), u, y);
        y = Vector128.ConditionalSelect(Vector128.Equals(um1, Vector128.Create(-T.One)), um1, y);
        return Vector128.ConditionalSelect(Vector128.Equals(u, Vector128<T>.One), x, y);
    }

    public Vector256<T> Invoke(Vector256<T> x)
    {
        Vector256<T> u = SimdMath.Exp(x);
        Vector256<T> um1 = u - Vector256<T>.One;
        Vector256<T> y = um1 * (x / SimdMath.Log(u));
        y = Vector256.ConditionalSelect(Vector256.Equals(u, Vector256.Create(T.PositiveInfinity)), u, y);
        y = Vector256.ConditionalSelect(Vector256.Equals(um1, Vector256.Create(-T.One)), um1, y);
        return Vector256.ConditionalSelect(Vector256.Equals(u, Vector256<T>.One), x, y);
    }

    public Vector512<T> Invoke(Vector512<T> x)
    {
        Vector512<T> u = SimdMath.Exp(x);
        Vector512<T> um1 = u - Vector512<T>.One;
        Vector512<T> y = um1 * (x / SimdMath.Log(u));
        y = Vector512.ConditionalSelect(Vector512.Equals(u, Vector512.Create(T.PositiveInfinity)), u, y);
        y = Vector512.ConditionalSelect(Vector512.Equals(um1, Vector512.Create(-T.One)), um1, y);
        return Vector512.ConditionalSelect(Vector512.Equals(u, Vector512<T>.One), x, y);
    }
}
