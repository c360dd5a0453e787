using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>
/// Max or min with its index along the middle axis of a contiguous [outer, n, inner] block.
/// Ties go to the first occurrence; NaN beats every number (it propagates, as in PyTorch).
/// </summary>
internal static class ArgReduceKernel
{
    /// <summary>
    /// values[o, i] = max_r (or min_r) x[o, r, i] and indices[o, i] = the first r reaching it.
    /// n must be at least 1; values and indices have outer·inner elements.
    /// </summary>
    public static void Run<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> values, Span<long> indices, bool min)
        where T : unmanaged, INumber<T>
    {
        if (outer == 0 || inner == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> row = x.Slice(o * n, n);
                // SIMD search for the extreme value, then the first position equal to it
                // (Equals treats NaN as equal to NaN and −0 as equal to +0).
                T best = min ? TensorPrimitives.Min(row) : TensorPrimitives.Max(row);
                values[o] = best;
                indices[o] = IndexOfEqual(row, best);
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<T> block = x.Slice(o * n * inner, n * inner);
            Span<T> v = values.Slice(o * inner, inner);
            Span<long> idx = indices.Slice(o * inner, inner);
            block[..inner].CopyTo(v);
            idx.Clear();
            // Row by row keeps memory access sequential.
            for (int r = 1; r < n; r++)
            {
                ReadOnlySpan<T> row = block.Slice(r * inner, inner);
                for (int i = 0; i < inner; i++)
                {
                    T c = row[i], b = v[i];
                    if (Beats(c, b, min)) { v[i] = c; idx[i] = r; }
                }
            }
        }
    }

    /// <summary>Scalar reference: same contract as <see cref="Run{T}"/>, one element at a time.</summary>
    public static void Reference<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> values, Span<long> indices, bool min)
        where T : unmanaged, INumber<T>
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                T best = x[o * n * inner + i];
                long at = 0;
                for (int r = 1; r < n; r++)
                {
                    T c = x[(o * n + r) * inner + i];
                    if (Beats(c, best, min)) { best = c; at = r; }
                }
                values[o * inner + i] = best;
                indices[o * inner + i] = at;
            }
    }

    private static bool Beats<T>(T candidate, T best, bool min) where T : unmanaged, INumber<T>
    {
        if (T.IsNaN(best)) return false;
        if (T.IsNaN(candidate)) return true;
        return min ? candidate < best : candidate > best;
    }

    private static long IndexOfEqual<T>(ReadOnlySpan<T> row, T value) where T : unmanaged, INumber<T>
    {
        for (int i = 0; i < row.Length; i++)
            if (row[i].Equals(value)) return i;
        return 0;
    }

    /// <summary>
    /// Fills mask (same length as x) with 1/count where x equals the extreme value and 0
    /// elsewhere: the gradient of a full max/min shared equally among tied elements.
    /// </summary>
    public static void TieMask<T, TMask>(ReadOnlySpan<T> x, T value, Span<TMask> mask)
        where T : unmanaged, INumber<T> where TMask : unmanaged, IFloatingPointIeee754<TMask>
    {
        int count = 0;
        for (int i = 0; i < x.Length; i++)
            if (x[i] == value) count++;
        TMask share = count == 0 ? TMask.Zero : TMask.One / TMask.CreateTruncating(count);
        for (int i = 0; i < x.Length; i++)
            mask[i] = x[i] == value ? share : TMask.Zero;
    }

    /// <summary>
    /// Writes a one-hot [outer, n, inner] mask: 1 at (o, indices[o, i], i), 0 elsewhere; the
    /// gradient routing of max/min along a dim.
    /// </summary>
    public static void OneHot<T>(ReadOnlySpan<long> indices, int outer, int n, int inner, Span<T> mask)
        where T : unmanaged, INumber<T>
    {
        mask.Clear();
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                long r = indices[o * inner + i];
                if ((ulong)r < (ulong)n) mask[(o * n + (int)r) * inner + i] = T.One;
            }
    }
}
