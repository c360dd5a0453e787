using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Exp and log for generic float/double vectors (the BCL has them per element type only). Float exp is
/// <see cref="FloatExp"/>; double keeps the BCL's. Also the exact square the 128-bit paths take where they cannot count on FMA.
/// </summary>
internal static class SimdMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp<T>(Vector512<T> x) where T : unmanaged
        => typeof(T) == typeof(float) ? FloatExp.Exp(x.AsSingle()).As<float, T>() : Vector512.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Exp<T>(Vector256<T> x) where T : unmanaged
        => typeof(T) == typeof(float) ? FloatExp.Exp(x.AsSingle()).As<float, T>() : Vector256.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Exp<T>(Vector128<T> x) where T : unmanaged
        => typeof(T) == typeof(float) ? FloatExp.Exp(x.AsSingle()).As<float, T>() : Vector128.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log<T>(Vector512<T> x) where T : unmanaged
        => typeof(T) == typeof(float) ? Vector512.Log(x.AsSingle()).As<float, T>() : Vector512.Log(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log<T>(Vector256<T> x) where T : unmanaged
        => typeof(T) == typeof(float) ? Vector256.Log(x.AsSingle()).As<float, T>() : Vector256.Log(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Log<T>(Vector128<T> x) where T : unmanaged
        => typeof(T) == typeof(float) ? Vector128.Log(x.AsSingle()).As<float, T>() : Vector128.Log(x.AsDouble()).As<double, T>();

    /// <summary>
    /// ln(1 + v) for v ≥ 0 from a plain log: w = 1 + v rounds, and the correction
    /// ((w − 1) − v)/w puts back what the rounding lost (exact enough for softplus).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Log1P<T>(Vector512<T> v) where T : unmanaged
    {
        Vector512<T> w = Vector512<T>.One + v;
        return Log(w) - ((w - Vector512<T>.One) - v) / w;
    }

    /// <inheritdoc cref="Log1P{T}(Vector512{T})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Log1P<T>(Vector256<T> v) where T : unmanaged
    {
        Vector256<T> w = Vector256<T>.One + v;
        return Log(w) - ((w - Vector256<T>.One) - v) / w;
    }

    /// <inheritdoc cref="Log1P{T}(Vector512{T})"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Log1P<T>(Vector128<T> v) where T : unmanaged
    {
        Vector128<T> w = Vector128<T>.One + v;
        return Log(w) - ((w - Vector128<T>.One) - v) / w;
    }

    /// <summary>
    /// lo = a·a − hi exactly, for hi = a·a rounded, without a fused multiply-add: Dekker's product of a's Veltkamp
    /// halves (a = ah + al, each product of halves exact). The 128-bit paths need it where
    /// <see cref="Vector128.MultiplyAddEstimate(Vector128{double}, Vector128{double}, Vector128{double})"/> does not
    /// fuse (SSE-only x86, WebAssembly), which would make FMA(a, a, −hi) 0. |a| stays far below overflow (the callers clamp it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> SquareError<T>(Vector128<T> a, Vector128<T> hi) where T : unmanaged
    {
        // 2^⌈p/2⌉ + 1 for p = 24 (float) and 53 (double) significand bits.
        Vector128<T> splitter = typeof(T) == typeof(float) ? Vector128.Create(4097f).As<float, T>() : Vector128.Create(134217729.0).As<double, T>();
        Vector128<T> p = a * splitter;
        Vector128<T> ah = p - (p - a), al = a - ah;
        return ((ah * ah - hi) + (ah + ah) * al) + al * al;
    }

    /// <inheritdoc cref="Log1P{T}(Vector512{T})"/>
    public static T Log1P<T>(T v) where T : IFloatingPointIeee754<T>
    {
        T w = T.One + v;
        return T.Log(w) - ((w - T.One) - v) / w;
    }
}
