using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// A comparison given as a scalar test and as 128-bit, 256-bit and 512-bit lane masks (all ones where it holds).
/// T is float, double, long or byte (bool tensors are compared as their bytes, false &lt; true).
/// </summary>
internal interface IVectorPredicate<T> where T : unmanaged
{
    static abstract bool Invoke(T a, T b);
    static abstract Vector128<T> Invoke(Vector128<T> a, Vector128<T> b);
    static abstract Vector256<T> Invoke(Vector256<T> a, Vector256<T> b);
    static abstract Vector512<T> Invoke(Vector512<T> a, Vector512<T> b);
}

// NaN compares false except under Ne, as IEEE and PyTorch.

internal readonly struct GtPredicate<T> : IVectorPredicate<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a > b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.GreaterThan(a, b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThan(a, b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.GreaterThan(a, b);
}

internal readonly struct GePredicate<T> : IVectorPredicate<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a >= b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.GreaterThanOrEqual(a, b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.GreaterThanOrEqual(a, b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.GreaterThanOrEqual(a, b);
}

internal readonly struct LtPredicate<T> : IVectorPredicate<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a < b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.LessThan(a, b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.LessThan(a, b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.LessThan(a, b);
}

internal readonly struct LePredicate<T> : IVectorPredicate<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a <= b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.LessThanOrEqual(a, b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.LessThanOrEqual(a, b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.LessThanOrEqual(a, b);
}

internal readonly struct EqPredicate<T> : IVectorPredicate<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a == b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.Equals(a, b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.Equals(a, b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.Equals(a, b);
}

internal readonly struct NePredicate<T> : IVectorPredicate<T> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a != b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => ~Vector128.Equals(a, b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => ~Vector256.Equals(a, b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => ~Vector512.Equals(a, b);
}

/// <summary>
/// y[i] = P(a[i], b[i]) as bytes 1/0 (the bytes of a bool tensor). The vector paths compare
/// sizeof(T) vectors of T and narrow their lane masks to one vector of bytes, so one store writes
/// 16, 32 or 64 results whatever the width of T.
/// </summary>
internal static class PredicateKernel
{
    /// <summary>
    /// y[i] = P(a[i], b[i]); a and b are as long as y, or one of them holds a single value that every
    /// element is compared with.
    /// </summary>
    public static void Run<T, TP>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<byte> y)
        where T : unmanaged where TP : IVectorPredicate<T>
    {
        int n = y.Length;
        if (n == 0) return;
        bool aScalar = a.Length != n, bScalar = b.Length != n;
        if ((aScalar && a.Length != 1) || (bScalar && b.Length != 1))
            throw new ArgumentException($"Predicate kernel: operands of {a.Length} and {b.Length} elements for {n} results");
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref byte yr = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            Vector512<T> va = Vector512.Create(ar), vb = Vector512.Create(br);
            for (; i <= n - Vector512<byte>.Count; i += Vector512<byte>.Count)
                (Mask512<T, TP>(ref ar, ref br, i, aScalar, bScalar, va, vb) & Vector512<byte>.One).StoreUnsafe(ref yr, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
        {
            Vector256<T> va = Vector256.Create(ar), vb = Vector256.Create(br);
            for (; i <= n - Vector256<byte>.Count; i += Vector256<byte>.Count)
                (Mask256<T, TP>(ref ar, ref br, i, aScalar, bScalar, va, vb) & Vector256<byte>.One).StoreUnsafe(ref yr, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
        {
            Vector128<T> va = Vector128.Create(ar), vb = Vector128.Create(br);
            for (; i <= n - Vector128<byte>.Count; i += Vector128<byte>.Count)
                (Mask128<T, TP>(ref ar, ref br, i, aScalar, bScalar, va, vb) & Vector128<byte>.One).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref yr, i) = TP.Invoke(aScalar ? ar : Unsafe.Add(ref ar, i), bScalar ? br : Unsafe.Add(ref br, i)) ? (byte)1 : (byte)0;
    }

    /// <summary>
    /// y[i] = P(a[i], b[i]) over <paramref name="shape"/>; a and b are whole storages read at offsets with
    /// (broadcast) strides, y is contiguous. Rows with unit or zero inner strides use <see cref="Run{T, TP}(ReadOnlySpan{T}, ReadOnlySpan{T}, Span{byte})"/>.
    /// </summary>
    public static void Run<T, TP>(ReadOnlySpan<T> a, int offsetA, ReadOnlySpan<int> stridesA,
                                  ReadOnlySpan<T> b, int offsetB, ReadOnlySpan<int> stridesB,
                                  Span<byte> y, ReadOnlySpan<int> shape)
        where T : unmanaged where TP : IVectorPredicate<T>
    {
        if (y.Length == 0) return;
        var rows = new StridedRows(shape, stridesA, offsetA, stridesB, offsetB, stackalloc int[StridedRows.ScratchLength(shape.Length)]);
        int inner = rows.Inner, ia = rows.Step0, ib = rows.Step1;
        for (int oy = 0; oy < y.Length; oy += inner, rows.Advance())
        {
            Span<byte> yRow = y.Slice(oy, inner);
            int oa = rows.Offset0, ob = rows.Offset1;
            if ((ia == 1 || ia == 0) && (ib == 1 || ib == 0) && inner > 1)
                Run<T, TP>(a.Slice(oa, ia == 1 ? inner : 1), b.Slice(ob, ib == 1 ? inner : 1), yRow);
            else
                for (int i = 0; i < inner; i++) yRow[i] = TP.Invoke(a[oa + i * ia], b[ob + i * ib]) ? (byte)1 : (byte)0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Load128<T>(ref T r, int i, bool scalar, Vector128<T> broadcast) where T : unmanaged
        => scalar ? broadcast : Vector128.LoadUnsafe(ref r, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Load256<T>(ref T r, int i, bool scalar, Vector256<T> broadcast) where T : unmanaged
        => scalar ? broadcast : Vector256.LoadUnsafe(ref r, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Load512<T>(ref T r, int i, bool scalar, Vector512<T> broadcast) where T : unmanaged
        => scalar ? broadcast : Vector512.LoadUnsafe(ref r, (nuint)i);

    /// <summary>The lane masks of the 16 comparisons from element <paramref name="i"/>, one byte each (0xFF or 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Mask128<T, TP>(ref T a, ref T b, int i, bool aScalar, bool bScalar, Vector128<T> va, Vector128<T> vb)
        where T : unmanaged where TP : IVectorPredicate<T>
    {
        int w = Vector128<T>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Vector128<T> M(ref T x, ref T y, int k) => TP.Invoke(Load128(ref x, k, aScalar, va), Load128(ref y, k, bScalar, vb));
        if (Unsafe.SizeOf<T>() == 1)
            return M(ref a, ref b, i).AsByte();
        if (Unsafe.SizeOf<T>() == 4)
        {
            Vector128<short> lo = Vector128.Narrow(M(ref a, ref b, i).AsInt32(), M(ref a, ref b, i + w).AsInt32());
            Vector128<short> hi = Vector128.Narrow(M(ref a, ref b, i + 2 * w).AsInt32(), M(ref a, ref b, i + 3 * w).AsInt32());
            return Vector128.Narrow(lo, hi).AsByte();
        }
        // 8-byte elements: eight masks of two lanes narrow to int, short, then byte lanes.
        Vector128<int> q0 = Vector128.Narrow(M(ref a, ref b, i).AsInt64(), M(ref a, ref b, i + w).AsInt64());
        Vector128<int> q1 = Vector128.Narrow(M(ref a, ref b, i + 2 * w).AsInt64(), M(ref a, ref b, i + 3 * w).AsInt64());
        Vector128<int> q2 = Vector128.Narrow(M(ref a, ref b, i + 4 * w).AsInt64(), M(ref a, ref b, i + 5 * w).AsInt64());
        Vector128<int> q3 = Vector128.Narrow(M(ref a, ref b, i + 6 * w).AsInt64(), M(ref a, ref b, i + 7 * w).AsInt64());
        return Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).AsByte();
    }

    /// <summary>The lane masks of the 32 comparisons from element <paramref name="i"/>, one byte each (0xFF or 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Mask256<T, TP>(ref T a, ref T b, int i, bool aScalar, bool bScalar, Vector256<T> va, Vector256<T> vb)
        where T : unmanaged where TP : IVectorPredicate<T>
    {
        int w = Vector256<T>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Vector256<T> M(ref T x, ref T y, int k) => TP.Invoke(Load256(ref x, k, aScalar, va), Load256(ref y, k, bScalar, vb));
        if (Unsafe.SizeOf<T>() == 1)
            return M(ref a, ref b, i).AsByte();
        if (Unsafe.SizeOf<T>() == 4)
        {
            Vector256<short> lo = Vector256.Narrow(M(ref a, ref b, i).AsInt32(), M(ref a, ref b, i + w).AsInt32());
            Vector256<short> hi = Vector256.Narrow(M(ref a, ref b, i + 2 * w).AsInt32(), M(ref a, ref b, i + 3 * w).AsInt32());
            return Vector256.Narrow(lo, hi).AsByte();
        }
        // 8-byte elements: eight masks of four lanes narrow to int, short, then byte lanes.
        Vector256<int> q0 = Vector256.Narrow(M(ref a, ref b, i).AsInt64(), M(ref a, ref b, i + w).AsInt64());
        Vector256<int> q1 = Vector256.Narrow(M(ref a, ref b, i + 2 * w).AsInt64(), M(ref a, ref b, i + 3 * w).AsInt64());
        Vector256<int> q2 = Vector256.Narrow(M(ref a, ref b, i + 4 * w).AsInt64(), M(ref a, ref b, i + 5 * w).AsInt64());
        Vector256<int> q3 = Vector256.Narrow(M(ref a, ref b, i + 6 * w).AsInt64(), M(ref a, ref b, i + 7 * w).AsInt64());
        return Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).AsByte();
    }

    /// <summary>The lane masks of the 64 comparisons from element <paramref name="i"/>, one byte each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Mask512<T, TP>(ref T a, ref T b, int i, bool aScalar, bool bScalar, Vector512<T> va, Vector512<T> vb)
        where T : unmanaged where TP : IVectorPredicate<T>
    {
        int w = Vector512<T>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        Vector512<T> M(ref T x, ref T y, int k) => TP.Invoke(Load512(ref x, k, aScalar, va), Load512(ref y, k, bScalar, vb));
        if (Unsafe.SizeOf<T>() == 1)
            return M(ref a, ref b, i).AsByte();
        if (Unsafe.SizeOf<T>() == 4)
        {
            Vector512<short> lo = Vector512.Narrow(M(ref a, ref b, i).AsInt32(), M(ref a, ref b, i + w).AsInt32());
            Vector512<short> hi = Vector512.Narrow(M(ref a, ref b, i + 2 * w).AsInt32(), M(ref a, ref b, i + 3 * w).AsInt32());
            return Vector512.Narrow(lo, hi).AsByte();
        }
        Vector512<int> q0 = Vector512.Narrow(M(ref a, ref b, i).AsInt64(), M(ref a, ref b, i + w).AsInt64());
        Vector512<int> q1 = Vector512.Narrow(M(ref a, ref b, i + 2 * w).AsInt64(), M(ref a, ref b, i + 3 * w).AsInt64());
        Vector512<int> q2 = Vector512.Narrow(M(ref a, ref b, i + 4 * w).AsInt64(), M(ref a, ref b, i + 5 * w).AsInt64());
        Vector512<int> q3 = Vector512.Narrow(M(ref a, ref b, i + 6 * w).AsInt64(), M(ref a, ref b, i + 7 * w).AsInt64());
        return Vector512.Narrow(Vector512.Narrow(q0, q1), Vector512.Narrow(q2, q3)).AsByte();
    }
}
