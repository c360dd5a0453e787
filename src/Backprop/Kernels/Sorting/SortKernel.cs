using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using Backprop.Threading;

namespace Backprop.Kernels.Sorting;

/// <summary>
/// Sorts and top-k selection along the middle axis of a contiguous [outer, n, inner] block, for float, double,
/// long and bool (false &lt; true), returning values and int64 positions as torch.sort and torch.topk do.
/// </summary>
/// <remarks>
/// Each element becomes an <see cref="Entry"/>: a 64-bit key whose unsigned order is the value order (NaN above
/// +∞, as PyTorch places it; −0 and +0 equal) and, as tie-break, its position. Descending order flips the key's
/// bits, not the position, so equal values always keep their original order: every sort is stable, and the
/// sorted sequence is unique, so it does not depend on the algorithm or on the thread that sorts a slice.
/// Top-k with k small against n keeps a max-heap of the k best entries (n·log k) instead of sorting all n.
/// Slices run in parallel when there are many elements.
/// </remarks>
internal static unsafe class SortKernel
{
    /// <summary>A value's order key and its position along the sorted dim.</summary>
    internal struct Entry : IComparable<Entry>
    {
        public ulong Key;
        public int Index;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly int CompareTo(Entry other) => Key != other.Key ? (Key < other.Key ? -1 : 1) : Index.CompareTo(other.Index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly bool Before(Entry other) => Key < other.Key || (Key == other.Key && Index < other.Index);
    }

    private const ulong SignBit = 0x8000_0000_0000_0000;

    /// <summary>Elements below this many are sorted on the calling thread.</summary>
    private const int ParallelMin = 1 << 15;

    /// <summary>An unsigned key ordered as the value: NaN largest, −0 equal to +0; flipped for descending order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Key<T>(T value, bool descending) where T : unmanaged
    {
        ulong key;
        if (typeof(T) == typeof(long))
        {
            key = (ulong)Unsafe.As<T, long>(ref value) ^ SignBit;
        }
        else if (typeof(T) == typeof(bool))
        {
            key = Unsafe.As<T, byte>(ref value); // false (0) < true (1)
        }
        else
        {
            double v = typeof(T) == typeof(float) ? Unsafe.As<T, float>(ref value) : Unsafe.As<T, double>(ref value);
            if (double.IsNaN(v)) key = ulong.MaxValue;
            else
            {
                ulong bits = BitConverter.DoubleToUInt64Bits(v + 0.0); // −0 + 0 = +0
                key = (bits & SignBit) != 0 ? ~bits : bits | SignBit;
            }
        }
        return descending ? ~key : key;
    }

    /// <summary>
    /// values[o, j, i] and indices[o, j, i] = the j-th element of slice x[o, :, i] in sorted order and its position.
    /// All three spans have outer·n·inner elements.
    /// </summary>
    public static void Sort<T>(ReadOnlySpan<T> x, int outer, int n, int inner, bool descending, Span<T> values, Span<long> indices)
        where T : unmanaged
        => Select(x, outer, n, inner, n, descending, values, indices);

    /// <summary>
    /// The first k elements of each slice in sorted order (descending when <paramref name="largest"/>): values and
    /// indices have outer·k·inner elements. 0 ≤ k ≤ n.
    /// </summary>
    public static void TopK<T>(ReadOnlySpan<T> x, int outer, int n, int inner, int k, bool largest, Span<T> values, Span<long> indices)
        where T : unmanaged
        => Select(x, outer, n, inner, k, largest, values, indices);

    private static void Select<T>(ReadOnlySpan<T> x, int outer, int n, int inner, int k, bool descending, Span<T> values, Span<long> indices)
        where T : unmanaged
    {
        int slices = outer * inner;
        if (slices == 0 || k == 0) return;
        fixed (T* px = x, pv = values)
        fixed (long* pi = indices)
        {
            var body = new SliceBody<T>(px, pv, pi, n, inner, k, descending);
            if ((long)slices * n < ParallelMin || slices == 1 || Parallelism.ThreadCount == 1) body.Invoke(0, slices);
            else Parallelism.ParallelFor(slices, 1, ref body);
        }
    }

    private readonly struct SliceBody<T>(T* x, T* values, long* indices, int n, int inner, int k, bool descending) : IRangeBody where T : unmanaged
    {
        public void Invoke(int start, int end)
        {
            Entry[] scratch = ArrayPool<Entry>.Shared.Rent(n);
            try
            {
                for (int s = start; s < end; s++)
                {
                    int o = s / inner, i = s % inner;
                    T* src = x + (long)o * n * inner + i;
                    Span<Entry> e = scratch.AsSpan(0, n);
                    if (k < n / 4) Heap(src, n, inner, k, descending, e);
                    else Full(src, n, inner, descending, e);
                    T* dv = values + (long)o * k * inner + i;
                    long* di = indices + (long)o * k * inner + i;
                    for (int j = 0; j < k; j++)
                    {
                        int at = e[j].Index;
                        dv[(long)j * inner] = src[(long)at * inner];
                        di[(long)j * inner] = at;
                    }
                }
            }
            finally
            {
                ArrayPool<Entry>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>All n entries of a slice, sorted.</summary>
    private static void Full<T>(T* src, int n, int stride, bool descending, Span<Entry> e) where T : unmanaged
    {
        for (int r = 0; r < n; r++) e[r] = new Entry { Key = Key(src[(long)r * stride], descending), Index = r };
        e.Sort();
    }

    /// <summary>The k first entries of a slice in sorted order (in e[..k]), by a max-heap of the best k seen.</summary>
    private static void Heap<T>(T* src, int n, int stride, int k, bool descending, Span<Entry> e) where T : unmanaged
    {
        Span<Entry> heap = e[..k];
        for (int r = 0; r < k; r++)
        {
            heap[r] = new Entry { Key = Key(src[(long)r * stride], descending), Index = r };
            SiftUp(heap, r);
        }
        for (int r = k; r < n; r++)
        {
            var c = new Entry { Key = Key(src[(long)r * stride], descending), Index = r };
            if (!c.Before(heap[0])) continue;
            heap[0] = c;
            SiftDown(heap);
        }
        heap.Sort();
    }

    // Max-heap on Entry order: the root is the worst of the k kept.
    private static void SiftUp(Span<Entry> heap, int at)
    {
        while (at > 0)
        {
            int parent = (at - 1) / 2;
            if (!heap[parent].Before(heap[at])) return;
            (heap[parent], heap[at]) = (heap[at], heap[parent]);
            at = parent;
        }
    }

    private static void SiftDown(Span<Entry> heap)
    {
        int at = 0, count = heap.Length;
        while (true)
        {
            int left = 2 * at + 1, largest = at;
            if (left < count && heap[largest].Before(heap[left])) largest = left;
            if (left + 1 < count && heap[largest].Before(heap[left + 1])) largest = left + 1;
            if (largest == at) return;
            (heap[largest], heap[at]) = (heap[at], heap[largest]);
            at = largest;
        }
    }

    /// <summary>Scalar reference: insertion sort by (key, position), the definition the fast paths must match.</summary>
    public static void Reference<T>(ReadOnlySpan<T> x, int outer, int n, int inner, int k, bool descending, Span<T> values, Span<long> indices)
        where T : unmanaged
    {
        var e = new Entry[n];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                for (int r = 0; r < n; r++)
                {
                    var c = new Entry { Key = Key(x[(o * n + r) * inner + i], descending), Index = r };
                    int j = r;
                    for (; j > 0 && c.Before(e[j - 1]); j--) e[j] = e[j - 1];
                    e[j] = c;
                }
                for (int j = 0; j < k; j++)
                {
                    values[(o * k + j) * inner + i] = x[(o * n + e[j].Index) * inner + i];
                    indices[(o * k + j) * inner + i] = e[j].Index;
                }
            }
    }
}
