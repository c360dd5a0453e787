using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// A B operand that is never stored: B(p, j) = Src[RowOff[p] + ColOff[j]]. The GEMM driver packs its
/// panels straight from <see cref="Src"/> instead of from a row-major matrix, so a convolution can
/// multiply by im2col(x) read from the (padded) image without unfolding it first (implicit GEMM).
/// </summary>
internal readonly unsafe struct GemmGatherB<T>(T* src, int* rowOff, int* colOff) where T : unmanaged
{
    public T* Src { get; } = src;
    /// <summary>Offset of depth row p (k values).</summary>
    public int* RowOff { get; } = rowOff;
    /// <summary>Offset of column j (n values).</summary>
    public int* ColOff { get; } = colOff;

    /// <summary>Whether this is a real source (the default value means "B is an ordinary matrix").</summary>
    public bool IsSet => Src != null;

    /// <summary>
    /// Packs the kc×nc block of B at depth p0, column j0 into NR-column panels (k-major, zero past nc),
    /// as <see cref="GemmPacking.PackB{T}"/> does for a stored B.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(int p0, int kc, int j0, int nc, T* dst, int nr)
    {
        int* rows = RowOff + p0;
        int* runAt = stackalloc int[nr];
        int* runLen = stackalloc int[nr];
        for (int jr = 0; jr < nc; jr += nr, dst += (nint)nr * kc)
        {
            int count = Math.Min(nr, nc - jr);
            int* cols = ColOff + j0 + jr;
            // Columns at consecutive offsets (a row of an image) are copied as runs.
            int runs = 0;
            for (int i = 0; i < count; i++)
            {
                if (i == 0 || cols[i] != cols[i - 1] + 1) runAt[runs++] = i;
                runLen[runs - 1] = i - runAt[runs - 1] + 1;
            }
            if ((Vector256.IsHardwareAccelerated || Vector128.IsHardwareAccelerated) && runs * 4 <= count)
            {
                PackRuns(Src, rows, cols, kc, dst, nr, count, runAt, runLen, runs);
                continue;
            }
            T* d = dst;
            for (int p = 0; p < kc; p++, d += nr)
            {
                T* s = Src + rows[p];
                int i = 0;
                for (; i < count; i++) d[i] = s[cols[i]];
                for (; i < nr; i++) d[i] = default;
            }
        }
    }

    /// <summary>
    /// One panel from runs of consecutive source values: each run is copied 256 bits at a time (128 where only those
    /// vectors are accelerated), the last vector overlapping the one before.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRuns(T* src, int* rows, int* cols, int kc, T* dst, int nr, int count, int* runAt, int* runLen, int runs)
    {
        bool wide = Vector256.IsHardwareAccelerated;
        int w = wide ? Vector256<T>.Count : Vector128<T>.Count;
        for (int p = 0; p < kc; p++, dst += nr)
        {
            T* s = src + rows[p];
            for (int r = 0; r < runs; r++)
            {
                int at = runAt[r], len = runLen[r];
                T* rs = s + cols[at];
                T* rd = dst + at;
                if (len >= w)
                {
                    int q = 0;
                    for (; q + w <= len; q += w) Copy(rs + q, rd + q, wide);
                    if (q < len) Copy(rs + len - w, rd + len - w, wide);
                }
                else
                    for (int q = 0; q < len; q++) rd[q] = rs[q];
            }
            for (int i = count; i < nr; i++) dst[i] = default;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(T* from, T* to, bool wide)
    {
        if (wide) Vector256.Store(Vector256.Load(from), to);
        else Vector128.Store(Vector128.Load(from), to);
    }
}
