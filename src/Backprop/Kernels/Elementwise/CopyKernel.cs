namespace Backprop.Kernels;

/// <summary>Copies strided elements into a contiguous destination, row by row.</summary>
internal static class CopyKernel
{
    public static void Run<T>(T[] src, int offset, ReadOnlySpan<int> strides, ReadOnlySpan<int> shape, Span<T> dst)
        where T : unmanaged
    {
        if (dst.Length == 0) return;
        int rank = Math.Max(shape.Length, 1);
        Span<int> dims = stackalloc int[rank];
        Span<int> ss = stackalloc int[rank];
        Span<int> sd = stackalloc int[rank];
        Span<int> unused = stackalloc int[rank];
        if (shape.Length == 0) { dims[0] = 1; ss[0] = 0; }
        else { shape.CopyTo(dims); strides.CopyTo(ss); }
        int s = 1;
        for (int d = rank - 1; d >= 0; d--) { sd[d] = s; s *= dims[d]; unused[d] = 0; }
        rank = StridedLayout.Coalesce(dims, ss, sd, unused);

        int inner = dims[rank - 1], step = ss[rank - 1];
        int rows = dst.Length / inner;
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int o = offset, oy = 0;
        for (int r = 0; r < rows; r++)
        {
            Span<T> row = dst.Slice(oy, inner);
            if (step == 1) src.AsSpan(o, inner).CopyTo(row);
            else if (step == 0) row.Fill(src[o]);
            else for (int i = 0; i < inner; i++) row[i] = src[o + i * step];
            oy += inner;
            for (int d = rank - 2; d >= 0; d--)
            {
                o += ss[d];
                if (++counter[d] < dims[d]) break;
                o -= ss[d] * dims[d];
                counter[d] = 0;
            }
        }
    }

    /// <summary>Writes a contiguous source into strided destination positions (the inverse of <see cref="Run"/>).</summary>
    public static void Scatter<T>(ReadOnlySpan<T> src, T[] dst, int offset, ReadOnlySpan<int> strides, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        if (src.Length == 0) return;
        int rank = Math.Max(shape.Length, 1);
        Span<int> dims = stackalloc int[rank];
        Span<int> sd = stackalloc int[rank];
        Span<int> ss = stackalloc int[rank];
        Span<int> unused = stackalloc int[rank];
        if (shape.Length == 0) { dims[0] = 1; sd[0] = 0; }
        else { shape.CopyTo(dims); strides.CopyTo(sd); }
        int s = 1;
        for (int d = rank - 1; d >= 0; d--) { ss[d] = s; s *= dims[d]; unused[d] = 0; }
        rank = StridedLayout.Coalesce(dims, sd, ss, unused);

        int inner = dims[rank - 1], step = sd[rank - 1];
        int rows = src.Length / inner;
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int o = offset, os = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> row = src.Slice(os, inner);
            if (step == 1) row.CopyTo(dst.AsSpan(o, inner));
            else for (int i = 0; i < inner; i++) dst[o + i * step] = row[i];
            os += inner;
            for (int d = rank - 2; d >= 0; d--)
            {
                o += sd[d];
                if (++counter[d] < dims[d]) break;
                o -= sd[d] * dims[d];
                counter[d] = 0;
            }
        }
    }
}
