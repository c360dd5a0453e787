using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>An element-wise function given at four widths: scalar, 128-bit, 256-bit and 512-bit vectors.</summary>
internal interface IVectorUnary<T> where T : unmanaged
{
    T Invoke(T x);
    Vector128<T> Invoke(Vector128<T> x);
    Vector256<T> Invoke(Vector256<T> x);
    Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>An element-wise function of two operands given at four widths.</summary>
internal interface IVectorBinary<T> where T : unmanaged
{
    T Invoke(T a, T b);
    Vector128<T> Invoke(Vector128<T> a, Vector128<T> b);
    Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);
    Vector512<T> Invoke(Vector512<T> a, Vector512<T> b);
}

/// <summary>
/// Drives <see cref="IVectorUnary{T}"/> / <see cref="IVectorBinary{T}"/> ops over spans: 512-bit
/// blocks, then 256-bit blocks, then 128-bit blocks, then a scalar tail (the whole span when intrinsics are off;
/// only the 128-bit blocks on ARM64, WebAssembly and x86 without AVX).
/// The destination may be the same span as an input (in place); partial overlaps are not allowed.
/// </summary>
internal static class VectorLoop
{
    public static void Unary<T, TOp>(TOp op, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged where TOp : struct, IVectorUnary<T>
    {
        CheckLength(x.Length, y.Length);
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                op.Invoke(Vector512.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                op.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                op.Invoke(Vector128.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref xr, i));
    }

    public static void Binary<T, TOp>(TOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged where TOp : struct, IVectorBinary<T>
    {
        CheckLength(a.Length, y.Length);
        CheckLength(b.Length, y.Length);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int n = y.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), Vector512.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                op.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                op.Invoke(Vector128.LoadUnsafe(ref ar, (nuint)i), Vector128.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref ar, i), Unsafe.Add(ref br, i));
    }

    public static void Binary<T, TOp>(TOp op, ReadOnlySpan<T> a, T b, Span<T> y)
        where T : unmanaged where TOp : struct, IVectorBinary<T>
    {
        CheckLength(a.Length, y.Length);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int n = y.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            Vector512<T> vb = Vector512.Create(b);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                op.Invoke(Vector512.LoadUnsafe(ref ar, (nuint)i), vb).StoreUnsafe(ref yr, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            Vector256<T> vb = Vector256.Create(b);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                op.Invoke(Vector256.LoadUnsafe(ref ar, (nuint)i), vb).StoreUnsafe(ref yr, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            Vector128<T> vb = Vector128.Create(b);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                op.Invoke(Vector128.LoadUnsafe(ref ar, (nuint)i), vb).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref ar, i), b);
    }

    public static void Binary<T, TOp>(TOp op, T a, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged where TOp : struct, IVectorBinary<T>
    {
        CheckLength(b.Length, y.Length);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T yr = ref MemoryMarshal.GetReference(y);
        int n = y.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            Vector512<T> va = Vector512.Create(a);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                op.Invoke(va, Vector512.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            Vector256<T> va = Vector256.Create(a);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                op.Invoke(va, Vector256.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            Vector128<T> va = Vector128.Create(a);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                op.Invoke(va, Vector128.LoadUnsafe(ref br, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref yr, i) = op.Invoke(a, Unsafe.Add(ref br, i));
    }

    private static void CheckLength(int input, int output)
    {
        if (input != output)
            throw new ArgumentException($"Element-wise kernel: input has {input} elements but the destination has {output}");
    }
}

/// <summary>Adapts a stateless <see cref="IVectorBinary{T}"/> to the broadcasting <see cref="IBinaryOp{T}"/> driver.</summary>
internal readonly struct VectorBinaryOp<T, TOp> : IBinaryOp<T>
    where T : unmanaged, INumber<T> where TOp : struct, IVectorBinary<T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => VectorLoop.Binary(default(TOp), a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => VectorLoop.Binary(default(TOp), a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => VectorLoop.Binary(default(TOp), a, b, y);
    public static T Apply(T a, T b) => default(TOp).Invoke(a, b);
}
