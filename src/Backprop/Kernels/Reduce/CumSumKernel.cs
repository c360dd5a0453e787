using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Reduce;

/// <summary>
/// Running sums along the middle axis of a contiguous [outer, n, inner] block: y[o, r, i] = Σ_{s ≤ r} x[o, s, i],
/// or Σ_{s ≥ r} when reversed (the gradient of a cumulative sum). Float32 accumulates in double, as PyTorch's
/// CPU kernel does. Along a contiguous last dim (inner = 1) the row is scanned four 64-bit lanes at a time
/// (two with 128-bit vectors only): an in-register prefix sum (two shift-and-add steps, one for two lanes) plus
/// the carry from the previous block, so the carry's dependency chain is one add per block instead of one per
/// element. That changes the order of the additions within a block (a float64 result may differ from a
/// sequential sum in the last bit; int64 is exact).
/// </summary>
internal static class CumSumKernel
{
    /// <summary>Cumulative sum over the middle axis; x and y have outer·n·inner elements (y may not alias x).</summary>
    public static void Run<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> y, bool reverse) where T : unmanaged, INumber<T>
    {
        if (outer == 0 || n == 0 || inner == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
                Row(x.Slice(o * n, n), y.Slice(o * n, n), reverse);
            return;
        }
        double[]? acc = typeof(T) == typeof(float) ? ArrayPool<double>.Shared.Rent(inner) : null;
        try
        {
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> xb = x.Slice(o * n * inner, n * inner);
                Span<T> yb = y.Slice(o * n * inner, n * inner);
                if (acc is not null) acc.AsSpan(0, inner).Clear();
                for (int k = 0; k < n; k++)
                {
                    int r = reverse ? n - 1 - k : k;
                    ReadOnlySpan<T> xr = xb.Slice(r * inner, inner);
                    Span<T> yr = yb.Slice(r * inner, inner);
                    if (acc is not null)
                        AddWidened(MemoryMarshal.Cast<T, float>(xr), acc.AsSpan(0, inner), MemoryMarshal.Cast<T, float>(yr));
                    else if (k == 0)
                        xr.CopyTo(yr);
                    else
                        TensorPrimitives.Add(yb.Slice((reverse ? r + 1 : r - 1) * inner, inner), xr, yr);
                }
            }
        }
        finally
        {
            if (acc is not null) ArrayPool<double>.Shared.Return(acc);
        }
    }

    /// <summary>Scalar reference: the same sums added one element at a time in order (double accumulator for float).</summary>
    public static void Reference<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> y, bool reverse) where T : unmanaged, INumber<T>
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double sumD = 0;
                T sum = T.Zero;
                for (int k = 0; k < n; k++)
                {
                    int at = (o * n + (reverse ? n - 1 - k : k)) * inner + i;
                    if (typeof(T) == typeof(float)) { sumD += double.CreateTruncating(x[at]); y[at] = T.CreateTruncating(sumD); }
                    else { sum += x[at]; y[at] = sum; }
                }
            }
    }

    /// <summary>acc += x (in double); y = acc rounded to float.</summary>
    private static void AddWidened(ReadOnlySpan<float> x, Span<double> acc, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float yr = ref MemoryMarshal.GetReference(y);
            ref double ar = ref MemoryMarshal.GetReference(acc);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)i));
                lo += Vector256.LoadUnsafe(ref ar, (nuint)i);
                hi += Vector256.LoadUnsafe(ref ar, (nuint)(i + 4));
                lo.StoreUnsafe(ref ar, (nuint)i);
                hi.StoreUnsafe(ref ar, (nuint)(i + 4));
                Vector256.Narrow(lo, hi).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float yr = ref MemoryMarshal.GetReference(y);
            ref double ar = ref MemoryMarshal.GetReference(acc);
            for (; i <= x.Length - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, (nuint)i));
                lo += Vector128.LoadUnsafe(ref ar, (nuint)i);
                hi += Vector128.LoadUnsafe(ref ar, (nuint)(i + 2));
                lo.StoreUnsafe(ref ar, (nuint)i);
                hi.StoreUnsafe(ref ar, (nuint)(i + 2));
                Vector128.Narrow(lo, hi).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < x.Length; i++)
        {
            acc[i] += x[i];
            y[i] = (float)acc[i];
        }
    }

    private static void Row<T>(ReadOnlySpan<T> x, Span<T> y, bool reverse) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
        {
            if (reverse) RowFloatReverse(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
            else RowFloat(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        }
        else if (reverse) Row64Reverse(x, y);
        else Row64(x, y);
    }

    // ---- float64 / int64 rows: 4 lanes per block (2 with 128-bit vectors) ----

    private static void Row64<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, INumber<T>
    {
        int n = x.Length, i = 0;
        T carry = T.Zero;
        if (Vector256.IsHardwareAccelerated && Vector256<T>.Count == 4)
        {
            ref T xr = ref MemoryMarshal.GetReference(x);
            ref T yr = ref MemoryMarshal.GetReference(y);
            Vector256<T> c = Vector256<T>.Zero;
            for (; i <= n - 4; i += 4)
            {
                Vector256<T> v = PrefixSum(Vector256.LoadUnsafe(ref xr, (nuint)i)) + c;
                v.StoreUnsafe(ref yr, (nuint)i);
                c = Lane3(v);
            }
            carry = c.GetElement(0);
        }
        else if (Vector128.IsHardwareAccelerated && Vector128<T>.Count == 2)
        {
            ref T xr = ref MemoryMarshal.GetReference(x);
            ref T yr = ref MemoryMarshal.GetReference(y);
            Vector128<T> c = Vector128<T>.Zero;
            for (; i <= n - 2; i += 2)
            {
                Vector128<T> v = PrefixSum(Vector128.LoadUnsafe(ref xr, (nuint)i)) + c;
                v.StoreUnsafe(ref yr, (nuint)i);
                c = Lane1(v);
            }
            carry = c.GetElement(0);
        }
        for (; i < n; i++)
        {
            carry += x[i];
            y[i] = carry;
        }
    }

    private static void Row64Reverse<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, INumber<T>
    {
        int n = x.Length, i = n - 1;
        int lanes = Vector256.IsHardwareAccelerated && Vector256<T>.Count == 4 ? 4 : Vector128.IsHardwareAccelerated && Vector128<T>.Count == 2 ? 2 : 0;
        int blocks = lanes > 0 ? n - n % lanes : 0; // [0, blocks) in whole vectors, the rest one by one from the end
        T carry = T.Zero;
        for (; i >= blocks; i--)
        {
            carry += x[i];
            y[i] = carry;
        }
        if (blocks > 0 && lanes == 4)
        {
            ref T xr = ref MemoryMarshal.GetReference(x);
            ref T yr = ref MemoryMarshal.GetReference(y);
            Vector256<T> c = Vector256.Create(carry);
            for (int b = blocks - 4; b >= 0; b -= 4)
            {
                Vector256<T> v = SuffixSum(Vector256.LoadUnsafe(ref xr, (nuint)b)) + c;
                v.StoreUnsafe(ref yr, (nuint)b);
                c = Lane0(v);
            }
        }
        else if (blocks > 0)
        {
            ref T xr = ref MemoryMarshal.GetReference(x);
            ref T yr = ref MemoryMarshal.GetReference(y);
            Vector128<T> c = Vector128.Create(carry);
            for (int b = blocks - 2; b >= 0; b -= 2)
            {
                Vector128<T> v = SuffixSum(Vector128.LoadUnsafe(ref xr, (nuint)b)) + c;
                v.StoreUnsafe(ref yr, (nuint)b);
                c = Lane0(v);
            }
        }
    }

    // ---- float32 rows: 8 floats (4 with 128-bit vectors) widened to two double vectors ----

    private static void RowFloat(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        double carry = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float yr = ref MemoryMarshal.GetReference(y);
            Vector256<double> c = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)i));
                lo = PrefixSum(lo) + c;
                c = Lane3(lo);
                hi = PrefixSum(hi) + c;
                c = Lane3(hi);
                Vector256.Narrow(lo, hi).StoreUnsafe(ref yr, (nuint)i);
            }
            carry = c.GetElement(0);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float yr = ref MemoryMarshal.GetReference(y);
            Vector128<double> c = Vector128<double>.Zero;
            for (; i <= n - 4; i += 4)
            {
                (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, (nuint)i));
                lo = PrefixSum(lo) + c;
                c = Lane1(lo);
                hi = PrefixSum(hi) + c;
                c = Lane1(hi);
                Vector128.Narrow(lo, hi).StoreUnsafe(ref yr, (nuint)i);
            }
            carry = c.GetElement(0);
        }
        for (; i < n; i++)
        {
            carry += x[i];
            y[i] = (float)carry;
        }
    }

    private static void RowFloatReverse(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = n - 1;
        int lanes = Vector256.IsHardwareAccelerated ? 8 : Vector128.IsHardwareAccelerated ? 4 : 0;
        int blocks = lanes > 0 ? n - n % lanes : 0;
        double carry = 0;
        for (; i >= blocks; i--)
        {
            carry += x[i];
            y[i] = (float)carry;
        }
        if (blocks > 0 && lanes == 8)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float yr = ref MemoryMarshal.GetReference(y);
            Vector256<double> c = Vector256.Create(carry);
            for (int b = blocks - 8; b >= 0; b -= 8)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, (nuint)b));
                hi = SuffixSum(hi) + c;
                c = Lane0(hi);
                lo = SuffixSum(lo) + c;
                c = Lane0(lo);
                Vector256.Narrow(lo, hi).StoreUnsafe(ref yr, (nuint)b);
            }
        }
        else if (blocks > 0)
        {
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float yr = ref MemoryMarshal.GetReference(y);
            Vector128<double> c = Vector128.Create(carry);
            for (int b = blocks - 4; b >= 0; b -= 4)
            {
                (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, (nuint)b));
                hi = SuffixSum(hi) + c;
                c = Lane0(hi);
                lo = SuffixSum(lo) + c;
                c = Lane0(lo);
                Vector128.Narrow(lo, hi).StoreUnsafe(ref yr, (nuint)b);
            }
        }
    }

    // ---- in-register scans of four 64-bit lanes ----

    /// <summary>[a, b, c, d] → [a, a+b, a+b+c, a+b+c+d].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> PrefixSum<T>(Vector256<T> v) where T : unmanaged
    {
        // Lanes move as 64-bit patterns; the masks zero the lanes shifted in.
        v += (Vector256.Shuffle(v.AsUInt64(), Vector256.Create(0UL, 0, 1, 2)) & Vector256.Create(0UL, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue)).As<ulong, T>();
        v += (Vector256.Shuffle(v.AsUInt64(), Vector256.Create(0UL, 0, 0, 1)) & Vector256.Create(0UL, 0, ulong.MaxValue, ulong.MaxValue)).As<ulong, T>();
        return v;
    }

    /// <summary>[a, b, c, d] → [a+b+c+d, b+c+d, c+d, d].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> SuffixSum<T>(Vector256<T> v) where T : unmanaged
    {
        v += (Vector256.Shuffle(v.AsUInt64(), Vector256.Create(1UL, 2, 3, 3)) & Vector256.Create(ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, 0UL)).As<ulong, T>();
        v += (Vector256.Shuffle(v.AsUInt64(), Vector256.Create(2UL, 3, 3, 3)) & Vector256.Create(ulong.MaxValue, ulong.MaxValue, 0UL, 0UL)).As<ulong, T>();
        return v;
    }

    /// <summary>The last lane in all four (the carry into the next block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Lane3<T>(Vector256<T> v) where T : unmanaged
        => Vector256.Shuffle(v.AsUInt64(), Vector256.Create(3UL, 3, 3, 3)).As<ulong, T>();

    /// <summary>The first lane in all four (the carry of a reversed scan).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Lane0<T>(Vector256<T> v) where T : unmanaged
        => Vector256.Shuffle(v.AsUInt64(), Vector256<ulong>.Zero).As<ulong, T>();

    // ---- the same on two 64-bit lanes (128-bit vectors) ----

    /// <summary>[a, b] → [a, a+b].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> PrefixSum<T>(Vector128<T> v) where T : unmanaged
        => v + (Vector128.Shuffle(v.AsUInt64(), Vector128<ulong>.Zero) & Vector128.Create(0UL, ulong.MaxValue)).As<ulong, T>();

    /// <summary>[a, b] → [a+b, b].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> SuffixSum<T>(Vector128<T> v) where T : unmanaged
        => v + (Vector128.Shuffle(v.AsUInt64(), Vector128.Create(1UL, 1)) & Vector128.Create(ulong.MaxValue, 0UL)).As<ulong, T>();

    /// <summary>The last lane in both (the carry into the next block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Lane1<T>(Vector128<T> v) where T : unmanaged
        => Vector128.Shuffle(v.AsUInt64(), Vector128.Create(1UL, 1)).As<ulong, T>();

    /// <summary>The first lane in both (the carry of a reversed scan).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Lane0<T>(Vector128<T> v) where T : unmanaged
        => Vector128.Shuffle(v.AsUInt64(), Vector128<ulong>.Zero).As<ulong, T>();
}
