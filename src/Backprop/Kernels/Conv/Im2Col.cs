using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

/// <summary>Geometry of a 2-D sliding window (convolution or pooling) over one [H, W] plane.</summary>
internal readonly record struct Window2d(
    int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW)
{
    /// <summary>
    /// Output positions o in [lo, hi) whose input coordinate o·stride − pad + offset lies inside
    /// [0, size); offset is the kernel tap's displacement (k·dilation).
    /// </summary>
    public static void ValidRange(int size, int outSize, int stride, int pad, int offset, out int lo, out int hi)
    {
        // o·s − p + off ≥ 0  ⇔  o ≥ ceil((p − off) / s)
        int start = pad - offset;
        lo = start <= 0 ? 0 : (start + stride - 1) / stride;
        // o·s − p + off ≤ size − 1  ⇔  o ≤ floor((size − 1 + p − off) / s)
        int end = size - 1 + pad - offset;
        hi = end < 0 ? 0 : Math.Min(outSize, end / stride + 1);
        if (lo > hi) lo = hi;
    }
}

/// <summary>
/// im2col / col2im for one image: unfolds a [C, H, W] plane stack into a [C·KH·KW, OH·OW]
/// matrix (row r = (c·KH + i)·KW + j) so a convolution becomes one GEMM, and folds it back.
/// </summary>
internal static class Im2Col
{
    /// <summary>Unfolds <paramref name="x"/> ([channels, H, W], contiguous) into <paramref name="col"/>.</summary>
    public static void Unfold<T>(ReadOnlySpan<T> x, int channels, in Window2d g, Span<T> col)
        where T : unmanaged, INumber<T>
    {
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
                    Span<T> dst = col.Slice(row * l, l);
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

    /// <summary>Folds <paramref name="col"/> back, adding every column entry into its source pixel of <paramref name="dx"/>.</summary>
    public static void FoldAdd<T>(ReadOnlySpan<T> col, int channels, in Window2d g, Span<T> dx)
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
                    ReadOnlySpan<T> src = col.Slice(row * l, l);
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
}
