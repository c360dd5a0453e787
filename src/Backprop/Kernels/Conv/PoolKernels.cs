using System.Numerics;

namespace Backprop.Kernels;

/// <summary>
/// 2-D pooling over a stack of planes ([planes, H, W] in, [planes, OH, OW] out, contiguous).
/// Max pooling records the flat in-plane index (h·W + w) of each output's argmax.
/// </summary>
internal static class PoolKernels
{
    /// <summary>Max over each window (padding counts as −∞; a NaN wins, as in PyTorch); idx gets the argmax or −1 for an empty window.</summary>
    public static void MaxForward<T>(ReadOnlySpan<T> x, int planes, in Window2d g, Span<T> y, Span<int> idx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = g.H * g.W, outPlane = g.OH * g.OW;
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> xp = x.Slice(p * plane, plane);
            Span<T> yp = y.Slice(p * outPlane, outPlane);
            Span<int> ip = idx.Slice(p * outPlane, outPlane);
            for (int oh = 0; oh < g.OH; oh++)
            {
                int h0 = oh * g.SH - g.PH;
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int w0 = ow * g.SW - g.PW;
                    T best = T.NegativeInfinity;
                    int bestIdx = -1;
                    for (int i = 0; i < g.KH; i++)
                    {
                        int ih = h0 + i * g.DH;
                        if ((uint)ih >= (uint)g.H) continue;
                        int rowBase = ih * g.W;
                        for (int j = 0; j < g.KW; j++)
                        {
                            int iw = w0 + j * g.DW;
                            if ((uint)iw >= (uint)g.W) continue;
                            T v = xp[rowBase + iw];
                            if (bestIdx < 0 || v > best || T.IsNaN(v))
                            {
                                best = v;
                                bestIdx = rowBase + iw;
                            }
                        }
                    }
                    yp[oh * g.OW + ow] = best;
                    ip[oh * g.OW + ow] = bestIdx;
                }
            }
        }
    }

    /// <summary>y[p, o] = x[p, idx[p, o]] (0 where idx is −1).</summary>
    public static void Gather<T>(ReadOnlySpan<T> x, int planes, int inPlane, ReadOnlySpan<int> idx, int outPlane, Span<T> y)
        where T : unmanaged, INumber<T>
    {
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> xp = x.Slice(p * inPlane, inPlane);
            ReadOnlySpan<int> ip = idx.Slice(p * outPlane, outPlane);
            Span<T> yp = y.Slice(p * outPlane, outPlane);
            for (int o = 0; o < outPlane; o++)
                yp[o] = ip[o] < 0 ? T.Zero : xp[ip[o]];
        }
    }

    /// <summary>dx[p, idx[p, o]] += dy[p, o] (entries with idx −1 are dropped).</summary>
    public static void ScatterAdd<T>(ReadOnlySpan<T> dy, int planes, int outPlane, ReadOnlySpan<int> idx, int inPlane, Span<T> dx)
        where T : unmanaged, INumber<T>
    {
        for (int p = 0; p < planes; p++)
        {
            Span<T> xp = dx.Slice(p * inPlane, inPlane);
            ReadOnlySpan<int> ip = idx.Slice(p * outPlane, outPlane);
            ReadOnlySpan<T> yp = dy.Slice(p * outPlane, outPlane);
            for (int o = 0; o < outPlane; o++)
                if (ip[o] >= 0) xp[ip[o]] += yp[o];
        }
    }

    /// <summary>
    /// Window bounds for average pooling (no dilation), PyTorch rules: the divisor counts the
    /// window clipped to the padded input when countIncludePad, else only the real pixels.
    /// </summary>
    private static void AvgWindow(in Window2d g, int oh, int ow, bool countIncludePad,
                                  out int h0, out int h1, out int w0, out int w1, out int divisor)
    {
        h0 = oh * g.SH - g.PH;
        w0 = ow * g.SW - g.PW;
        h1 = Math.Min(h0 + g.KH, g.H + g.PH);
        w1 = Math.Min(w0 + g.KW, g.W + g.PW);
        int padded = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0);
        w0 = Math.Max(w0, 0);
        h1 = Math.Min(h1, g.H);
        w1 = Math.Min(w1, g.W);
        divisor = countIncludePad ? padded : (h1 - h0) * (w1 - w0);
    }

    /// <summary>Mean over each window; an empty window gives 0.</summary>
    public static void AvgForward<T>(ReadOnlySpan<T> x, int planes, in Window2d g, bool countIncludePad, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = g.H * g.W, outPlane = g.OH * g.OW;
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> xp = x.Slice(p * plane, plane);
            Span<T> yp = y.Slice(p * outPlane, outPlane);
            for (int oh = 0; oh < g.OH; oh++)
            {
                for (int ow = 0; ow < g.OW; ow++)
                {
                    AvgWindow(g, oh, ow, countIncludePad, out int h0, out int h1, out int w0, out int w1, out int divisor);
                    if (h0 >= h1 || w0 >= w1)
                    {
                        yp[oh * g.OW + ow] = T.Zero;
                        continue;
                    }
                    T sum = T.Zero;
                    for (int ih = h0; ih < h1; ih++)
                    {
                        ReadOnlySpan<T> row = xp.Slice(ih * g.W + w0, w1 - w0);
                        sum += System.Numerics.Tensors.TensorPrimitives.Sum(row);
                    }
                    yp[oh * g.OW + ow] = sum / T.CreateTruncating(divisor);
                }
            }
        }
    }

    /// <summary>Adjoint of <see cref="AvgForward"/>: dx[window] += dy / divisor.</summary>
    public static void AvgBackwardAdd<T>(ReadOnlySpan<T> dy, int planes, in Window2d g, bool countIncludePad, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = g.H * g.W, outPlane = g.OH * g.OW;
        for (int p = 0; p < planes; p++)
        {
            Span<T> xp = dx.Slice(p * plane, plane);
            ReadOnlySpan<T> yp = dy.Slice(p * outPlane, outPlane);
            for (int oh = 0; oh < g.OH; oh++)
            {
                for (int ow = 0; ow < g.OW; ow++)
                {
                    AvgWindow(g, oh, ow, countIncludePad, out int h0, out int h1, out int w0, out int w1, out int divisor);
                    if (h0 >= h1 || w0 >= w1) continue;
                    T share = yp[oh * g.OW + ow] / T.CreateTruncating(divisor);
                    for (int ih = h0; ih < h1; ih++)
                    {
                        Span<T> row = xp.Slice(ih * g.W + w0, w1 - w0);
                        System.Numerics.Tensors.TensorPrimitives.Add(row, share, row);
                    }
                }
            }
        }
    }
}
