namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Copies for torch.flip and torch.roll. Flip is a strided copy whose flipped dims have negated strides (the
/// caller starts at their last element); a row read backwards is copied whole and reversed in place, which
/// the BCL does with vector shuffles. Roll along one dim of a contiguous [outer, n, inner] block is two block
/// copies per outer index.
/// </summary>
internal static class FlipRollKernels
{
    /// <summary>
    /// dst (contiguous, row-major over <paramref name="shape"/>) = the elements of src at
    /// offset + Σ index[d]·strides[d]; strides may be negative.
    /// </summary>
    public static void Flip<T>(T[] src, int offset, ReadOnlySpan<int> strides, ReadOnlySpan<int> shape, Span<T> dst) where T : unmanaged
    {
        if (dst.Length == 0) return;
        var rows = new StridedRows(shape, strides, offset, [], 0, stackalloc int[StridedRows.ScratchLength(shape.Length)]);
        int inner = rows.Inner, step = rows.Step0;
        for (int oy = 0; oy < dst.Length; oy += inner, rows.Advance())
        {
            Span<T> row = dst.Slice(oy, inner);
            int o = rows.Offset0;
            if (step == 1) src.AsSpan(o, inner).CopyTo(row);
            else if (step == -1)
            {
                src.AsSpan(o - inner + 1, inner).CopyTo(row);
                row.Reverse();
            }
            else for (int i = 0; i < inner; i++) row[i] = src[o + i * step];
        }
    }

    /// <summary>y[o, (r + shift) mod n, i] = x[o, r, i] for a contiguous [outer, n, inner] block; 0 ≤ shift &lt; n.</summary>
    public static void Roll<T>(ReadOnlySpan<T> x, int outer, int n, int inner, int shift, Span<T> y) where T : unmanaged
    {
        int block = n * inner, tail = shift * inner, head = block - tail;
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<T> xb = x.Slice(o * block, block);
            Span<T> yb = y.Slice(o * block, block);
            xb[..head].CopyTo(yb[tail..]);
            xb[head..].CopyTo(yb[..tail]);
        }
    }
}
