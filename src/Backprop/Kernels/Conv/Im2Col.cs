using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Kernels.Conv;

/// <summary>
/// im2col / col2im for one image: unfolds a [C, H, W] plane stack into a [C·KH·KW, OH·OW]
/// matrix (row r = (c·KH + i)·KW + j) so a convolution becomes one GEMM, and folds it back.
/// </summary>
internal static class Im2Col
{
    /// <summary>
    /// True when every column row is the input plane shifted by a constant offset: stride 1 and
    /// OW = W ("same" width), so consecutive output rows are consecutive input rows.
    /// </summary>
    private static bool IsShift(in Window2d g) => g.SH == 1 && g.SW == 1 && g.OW == g.W;

    /// <summary>Unfolds <paramref name="x"/> ([channels, H, W], contiguous) into <paramref name="col"/>.</summary>
    public static void Unfold<T>(ReadOnlySpan<T> x, int channels, in Window2d g, Span<T> col)
        where T : unmanaged, INumber<T>
        => Unfold(x, channels, g, col, g.OH * g.OW);

    /// <summary>
    /// Unfolds into rows <paramref name="ld"/> apart (≥ OH·OW), so several images can sit side by side
    /// in one [C·KH·KW, images·OH·OW] matrix: pass the slice starting at this image's column.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unfold<T>(ReadOnlySpan<T> x, int channels, in Window2d g, Span<T> col, int ld)
        where T : unmanaged, INumber<T>
    {
        if (IsShift(g))
        {
            UnfoldShift(x, channels, g, col, ld);
            return;
        }
        int plane = g.H * g.W, l = g.OH * g.OW;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<T> xc = x.Slice(c * plane, plane);
            for (int ki = 0; ki < g.KH; ki++)
            {
                Window2d.ValidRange(g.H, g.OH, g.SH, g.PH, ki * g.DH, out int ohLo, out int ohHi);
                for (int kj = 0; kj < g.KW; kj++, row++)
                {
                    Span<T> dst = col.Slice(row * ld, l);
                    Window2d.ValidRange(g.W, g.OW, g.SW, g.PW, kj * g.DW, out int owLo, out int owHi);
                    if (ohLo > 0) dst[..(ohLo * g.OW)].Clear();
                    if (ohHi < g.OH) dst[(ohHi * g.OW)..].Clear();
                    for (int oh = ohLo; oh < ohHi; oh++)
                    {
                        int ih = oh * g.SH - g.PH + ki * g.DH;
                        Span<T> d = dst.Slice(oh * g.OW, g.OW);
                        if (owLo > 0) d[..owLo].Clear();
                        if (owHi < g.OW) d[owHi..].Clear();
                        int iw0 = owLo * g.SW - g.PW + kj * g.DW;
                        ReadOnlySpan<T> src = xc.Slice(ih * g.W);
                        if (g.SW == 1)
                            src.Slice(iw0, owHi - owLo).CopyTo(d[owLo..owHi]);
                        else
                            for (int ow = owLo, iw = iw0; ow < owHi; ow++, iw += g.SW) d[ow] = src[iw];
                    }
                }
            }
        }
    }

    /// <summary>
    /// <c>Unfold</c> for <see cref="IsShift"/> geometry: each row is one contiguous copy of
    /// the plane shifted by (ki·DH − PH)·W + kj·DW − PW; rows that wrap around a plane edge and
    /// rows above/below the plane are then zeroed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnfoldShift<T>(ReadOnlySpan<T> x, int channels, in Window2d g, Span<T> col, int ld)
        where T : unmanaged, INumber<T>
    {
        int plane = g.H * g.W, l = g.OH * g.OW, ow = g.OW;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<T> xc = x.Slice(c * plane, plane);
            for (int ki = 0; ki < g.KH; ki++)
            {
                Window2d.ValidRange(g.H, g.OH, 1, g.PH, ki * g.DH, out int ohLo, out int ohHi);
                for (int kj = 0; kj < g.KW; kj++, row++)
                {
                    Span<T> dst = col.Slice(row * ld, l);
                    Window2d.ValidRange(g.W, ow, 1, g.PW, kj * g.DW, out int owLo, out int owHi);
                    int shift = (ki * g.DH - g.PH) * g.W + kj * g.DW - g.PW;
                    int lo = ohLo * ow, hi = ohHi * ow;
                    dst[..lo].Clear();
                    dst[hi..].Clear();
                    if (lo >= hi) continue;
                    if (owLo >= owHi)
                    {
                        dst[lo..hi].Clear();
                        continue;
                    }
                    // Clip to the plane; the clipped entries lie in the wrapped columns zeroed below.
                    int a = Math.Max(lo, -shift), b = Math.Min(hi, plane - shift);
                    xc.Slice(a + shift, b - a).CopyTo(dst[a..b]);
                    ZeroWrapped(dst, ohLo, ohHi, ow, owLo, owHi);
                }
            }
        }
    }

    /// <summary>Folds <paramref name="col"/> back, adding every column entry into its source pixel of <paramref name="dx"/>.</summary>
    public static void FoldAdd<T>(ReadOnlySpan<T> col, int channels, in Window2d g, Span<T> dx)
        where T : unmanaged, INumber<T>
        => FoldAdd(col, channels, g, dx, g.OH * g.OW);

    /// <summary>
    /// <see cref="FoldAdd{T}(ReadOnlySpan{T}, int, in Window2d, Span{T})"/> of a column matrix whose rows are
    /// <paramref name="ld"/> apart (≥ OH·OW): one image of several unfolded side by side.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FoldAdd<T>(ReadOnlySpan<T> col, int channels, in Window2d g, Span<T> dx, int ld)
        where T : unmanaged, INumber<T>
    {
        int plane = g.H * g.W, l = g.OH * g.OW;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            Span<T> xc = dx.Slice(c * plane, plane);
            for (int ki = 0; ki < g.KH; ki++)
            {
                Window2d.ValidRange(g.H, g.OH, g.SH, g.PH, ki * g.DH, out int ohLo, out int ohHi);
                for (int kj = 0; kj < g.KW; kj++, row++)
                {
                    ReadOnlySpan<T> src = col.Slice(row * ld, l);
                    Window2d.ValidRange(g.W, g.OW, g.SW, g.PW, kj * g.DW, out int owLo, out int owHi);
                    if (owLo >= owHi) continue;
                    for (int oh = ohLo; oh < ohHi; oh++)
                    {
                        int ih = oh * g.SH - g.PH + ki * g.DH;
                        ReadOnlySpan<T> s = src.Slice(oh * g.OW, g.OW);
                        int iw0 = owLo * g.SW - g.PW + kj * g.DW;
                        Span<T> d = xc.Slice(ih * g.W);
                        if (g.SW == 1)
                        {
                            Span<T> seg = d.Slice(iw0, owHi - owLo);
                            TensorPrimitives.Add(seg, s[owLo..owHi], seg);
                        }
                        else
                            for (int ow = owLo, iw = iw0; ow < owHi; ow++, iw += g.SW) d[iw] += s[ow];
                    }
                }
            }
        }
    }

    /// <summary>
    /// <c>FoldAdd</c> that may overwrite <paramref name="col"/> (scratch): for
    /// <see cref="IsShift"/> geometry the wrapped columns are zeroed in place so each row folds back
    /// with one contiguous add.
    /// </summary>
    public static void FoldAddDestructive<T>(Span<T> col, int channels, in Window2d g, Span<T> dx)
        where T : unmanaged, INumber<T>
        => FoldAddDestructive(col, channels, g, dx, g.OH * g.OW);

    /// <summary><see cref="FoldAddDestructive{T}(Span{T}, int, in Window2d, Span{T})"/> with column rows <paramref name="ld"/> apart (≥ OH·OW).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FoldAddDestructive<T>(Span<T> col, int channels, in Window2d g, Span<T> dx, int ld)
        where T : unmanaged, INumber<T>
    {
        if (!IsShift(g))
        {
            FoldAdd<T>(col, channels, g, dx, ld);
            return;
        }
        int plane = g.H * g.W, l = g.OH * g.OW, ow = g.OW;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            Span<T> xc = dx.Slice(c * plane, plane);
            for (int ki = 0; ki < g.KH; ki++)
            {
                Window2d.ValidRange(g.H, g.OH, 1, g.PH, ki * g.DH, out int ohLo, out int ohHi);
                for (int kj = 0; kj < g.KW; kj++, row++)
                {
                    Window2d.ValidRange(g.W, ow, 1, g.PW, kj * g.DW, out int owLo, out int owHi);
                    if (ohLo >= ohHi || owLo >= owHi) continue;
                    Span<T> src = col.Slice(row * ld, l);
                    int shift = (ki * g.DH - g.PH) * g.W + kj * g.DW - g.PW;
                    ZeroWrapped(src, ohLo, ohHi, ow, owLo, owHi);
                    int a = Math.Max(ohLo * ow, -shift), b = Math.Min(ohHi * ow, plane - shift);
                    Span<T> seg = xc.Slice(a + shift, b - a);
                    TensorPrimitives.Add(seg, src[a..b], seg);
                }
            }
        }
    }

    /// <summary>Zeroes columns [0, owLo) and [owHi, ow) of rows [ohLo, ohHi) of a row-major [·, ow] block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroWrapped<T>(Span<T> m, int ohLo, int ohHi, int ow, int owLo, int owHi)
        where T : unmanaged, INumber<T>
    {
        if (owLo == 0 && owHi == ow) return;
        if ((long)ohHi * ow > m.Length) throw new ArgumentException("Im2Col: block shorter than its rows");
        // The few padded columns per row are written one by one: a Clear call each costs more.
        ref T r = ref MemoryMarshal.GetReference(m);
        for (int oh = ohLo; oh < ohHi; oh++)
        {
            ref T rowStart = ref Unsafe.Add(ref r, oh * ow);
            for (int j = 0; j < owLo; j++) Unsafe.Add(ref rowStart, j) = T.Zero;
            for (int j = owHi; j < ow; j++) Unsafe.Add(ref rowStart, j) = T.Zero;
        }
    }
}
