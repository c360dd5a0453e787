namespace Backprop.Kernels.Elementwise;

/// <summary>Copies strided elements into a contiguous destination, row by row.</summary>
internal static class CopyKernel
{
    public static void Run<T>(T[] src, int offset, ReadOnlySpan<int> strides, ReadOnlySpan<int> shape, Span<T> dst)
        where T : unmanaged
    {
        if (dst.Length == 0) return;
        var rows = new StridedRows(shape, strides, offset, [], 0, stackalloc int[StridedRows.ScratchLength(shape.Length)]);
        int inner = rows.Inner, step = rows.Step0;
        for (int oy = 0; oy < dst.Length; oy += inner, rows.Advance())
        {
            Span<T> row = dst.Slice(oy, inner);
            int o = rows.Offset0;
            if (step == 1) src.AsSpan(o, inner).CopyTo(row);
            else if (step == 0) row.Fill(src[o]);
            else for (int i = 0; i < inner; i++) row[i] = src[o + i * step];
        }
    }

    /// <summary>Writes a contiguous source into strided destination positions (the inverse of <see cref="Run"/>).</summary>
    public static void Scatter<T>(ReadOnlySpan<T> src, T[] dst, int offset, ReadOnlySpan<int> strides, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        if (src.Length == 0) return;
        var rows = new StridedRows(shape, strides, offset, [], 0, stackalloc int[StridedRows.ScratchLength(shape.Length)]);
        int inner = rows.Inner, step = rows.Step0;
        for (int os = 0; os < src.Length; os += inner, rows.Advance())
        {
            ReadOnlySpan<T> row = src.Slice(os, inner);
            int o = rows.Offset0;
            if (step == 1) row.CopyTo(dst.AsSpan(o, inner));
            else for (int i = 0; i < inner; i++) dst[o + i * step] = row[i];
        }
    }
}
