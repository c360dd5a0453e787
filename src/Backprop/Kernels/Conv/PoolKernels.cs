using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Conv;

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
        if (g is { KH: 2, KW: 2, SH: 2, SW: 2, PH: 0, PW: 0, DH: 1, DW: 1 })
        {
            MaxForward2x2(x, planes, g, y, idx);
            return;
        }
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

    /// <summary>
    /// <see cref="MaxForward"/> for the common 2×2 window with stride 2 and no padding: every window
    /// lies inside the plane, so the taps a b / c d are read without bounds logic. The pairwise order
    /// (a vs b, c vs d, then the two winners) picks the same element as the scan a, b, c, d: the first
    /// maximum, or the last NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxForward2x2<T>(ReadOnlySpan<T> x, int planes, in Window2d g, Span<T> y, Span<int> idx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = g.W, plane = g.H * g.W, oh = g.OH, ow = g.OW, outPlane = oh * ow;
        if ((long)planes * plane > x.Length || (long)planes * outPlane > y.Length || (long)planes * outPlane > idx.Length || 2 * oh > g.H || 2 * ow > w)
            throw new ArgumentException("PoolKernels.MaxForward: buffers shorter than the planes");
        if (typeof(T) == typeof(float))
        {
            MaxForward2x2(MemoryMarshal.Cast<T, float>(x), planes, g, MemoryMarshal.Cast<T, float>(y), idx);
            return;
        }
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        ref int ri = ref MemoryMarshal.GetReference(idx);
        for (int p = 0; p < planes; p++)
        {
            ref T xp = ref Unsafe.Add(ref rx, (nint)p * plane);
            int o = p * outPlane;
            for (int i = 0; i < oh; i++)
            {
                int top = 2 * i * w;
                for (int j = 0; j < ow; j++, o++)
                {
                    int ia = top + 2 * j, ic = ia + w;
                    T a = Unsafe.Add(ref xp, ia), b = Unsafe.Add(ref xp, ia + 1);
                    T c = Unsafe.Add(ref xp, ic), d = Unsafe.Add(ref xp, ic + 1);
                    if (b > a || T.IsNaN(b)) { a = b; ia++; }
                    if (d > c || T.IsNaN(d)) { c = d; ic++; }
                    if (c > a || T.IsNaN(c)) { a = c; ia = ic; }
                    Unsafe.Add(ref ry, o) = a;
                    Unsafe.Add(ref ri, o) = ia;
                }
            }
        }
    }

    /// <summary>
    /// Float <see cref="MaxForward2x2{T}"/> without branches on the data (pooled activations are
    /// close to random, so compare-and-branch mispredicts about every other window): each choice is
    /// a bit mask applied to the value bits and the index.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxForward2x2(ReadOnlySpan<float> x, int planes, in Window2d g, Span<float> y, Span<int> idx)
    {
        int w = g.W, plane = g.H * g.W, oh = g.OH, ow = g.OW, outPlane = oh * ow;
        if (Vector128.IsHardwareAccelerated && ow >= 4)
        {
            MaxForward2x2Vector(x, planes, g, y, idx);
            return;
        }
        ref int rx = ref Unsafe.As<float, int>(ref MemoryMarshal.GetReference(x));
        ref int ry = ref Unsafe.As<float, int>(ref MemoryMarshal.GetReference(y));
        ref int ri = ref MemoryMarshal.GetReference(idx);
        for (int p = 0; p < planes; p++)
        {
            ref int xp = ref Unsafe.Add(ref rx, (nint)p * plane);
            int o = p * outPlane;
            for (int i = 0; i < oh; i++)
            {
                int top = 2 * i * w;
                for (int j = 0; j < ow; j++, o++)
                {
                    int ia = top + 2 * j, ic = ia + w;
                    int a = Unsafe.Add(ref xp, ia), b = Unsafe.Add(ref xp, ia + 1);
                    int c = Unsafe.Add(ref xp, ic), d = Unsafe.Add(ref xp, ic + 1);
                    int m = Takes(b, a);
                    a = (b & m) | (a & ~m);
                    ia += m & 1;
                    m = Takes(d, c);
                    c = (d & m) | (c & ~m);
                    ic += m & 1;
                    m = Takes(c, a);
                    Unsafe.Add(ref ry, o) = (c & m) | (a & ~m);
                    Unsafe.Add(ref ri, o) = (ic & m) | (ia & ~m);
                }
            }
        }
    }

    /// <summary>
    /// SSE form of the float 2×2 pool: per output row, 4 outputs at a time from two 8-float loads of
    /// each input row, split into even (a, c) and odd (b, d) taps by shuffles. A row's last partial
    /// group is recomputed overlapping the previous one (rows are only 7 or 14 long in LeNet).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaxForward2x2Vector(ReadOnlySpan<float> x, int planes, in Window2d g, Span<float> y, Span<int> idx)
    {
        const int V = 4;
        int w = g.W, plane = g.H * g.W, oh = g.OH, ow = g.OW, outPlane = oh * ow;
        Vector128<int> lane2 = Vector128.Create(0, 2, 4, 6), down = Vector128.Create(w);
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (int* pi = idx)
        {
            for (int p = 0; p < planes; p++)
            {
                float* xp = px + (nint)p * plane;
                for (int i = 0; i < oh; i++)
                {
                    float* top = xp + 2 * i * w, bottom = top + w;
                    float* yr = py + (nint)p * outPlane + i * ow;
                    int* ir = pi + (nint)p * outPlane + i * ow;
                    for (int j = 0; ; j += V)
                    {
                        if (j > ow - V) j = ow - V;
                        Vector128<float> t0 = Vector128.Load(top + 2 * j), t1 = Vector128.Load(top + 2 * j + V);
                        Vector128<float> b0 = Vector128.Load(bottom + 2 * j), b1 = Vector128.Load(bottom + 2 * j + V);
                        Vector128<float> a = LaneShuffles.Even(t0, t1), b = LaneShuffles.Odd(t0, t1);
                        Vector128<float> c = LaneShuffles.Even(b0, b1), d = LaneShuffles.Odd(b0, b1);
                        Vector128<int> ia = Vector128.Create(2 * i * w + 2 * j) + lane2, ic = ia + down;
                        Vector128<int> m = Takes(b, a);
                        a = Vector128.ConditionalSelect(m.AsSingle(), b, a);
                        ia -= m; // m is −1 where b wins: index + 1
                        m = Takes(d, c);
                        c = Vector128.ConditionalSelect(m.AsSingle(), d, c);
                        ic -= m;
                        m = Takes(c, a);
                        Vector128.ConditionalSelect(m.AsSingle(), c, a).Store(yr + j);
                        Vector128.ConditionalSelect(m, ic, ia).Store(ir + j);
                        if (j == ow - V) break;
                    }
                }
            }
        }
    }

    /// <summary>Lanes where v replaces the running best (v &gt; best, or v is NaN) are all ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Takes(Vector128<float> v, Vector128<float> best)
        => (Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v)).AsInt32();

    /// <summary>All ones when float v (as bits) replaces the running best: v &gt; best, or v is NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Takes(int vBits, int bestBits)
    {
        float v = BitConverter.Int32BitsToSingle(vBits), best = BitConverter.Int32BitsToSingle(bestBits);
        return -((v > best ? 1 : 0) | (float.IsNaN(v) ? 1 : 0));
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

    /// <summary>y[p, idx[p, o]] = x[p, o] into a zeroed y (max unpooling; a later duplicate index overwrites an earlier one).</summary>
    public static void ScatterAssign<T>(ReadOnlySpan<T> x, int planes, int inPlane, ReadOnlySpan<int> idx, int outPlane, Span<T> y)
        where T : unmanaged
    {
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> xp = x.Slice(p * inPlane, inPlane);
            ReadOnlySpan<int> ip = idx.Slice(p * inPlane, inPlane);
            Span<T> yp = y.Slice(p * outPlane, outPlane);
            for (int o = 0; o < inPlane; o++) yp[ip[o]] = xp[o];
        }
    }

    /// <summary>
    /// Window bounds for average pooling (no dilation), PyTorch rules: the divisor counts the
    /// window clipped to the padded input when countIncludePad, else only the real pixels;
    /// a nonzero <paramref name="divisorOverride"/> replaces it.
    /// </summary>
    private static void AvgWindow(in Window2d g, int oh, int ow, bool countIncludePad, int divisorOverride,
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
        divisor = divisorOverride != 0 ? divisorOverride : countIncludePad ? padded : (h1 - h0) * (w1 - w0);
    }

    /// <summary>Mean over each window (the sum divided by <paramref name="divisorOverride"/> when nonzero); an empty window gives 0.</summary>
    public static void AvgForward<T>(ReadOnlySpan<T> x, int planes, in Window2d g, bool countIncludePad, int divisorOverride, Span<T> y)
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
                    AvgWindow(g, oh, ow, countIncludePad, divisorOverride, out int h0, out int h1, out int w0, out int w1, out int divisor);
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
    public static void AvgBackwardAdd<T>(ReadOnlySpan<T> dy, int planes, in Window2d g, bool countIncludePad, int divisorOverride, Span<T> dx)
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
                    AvgWindow(g, oh, ow, countIncludePad, divisorOverride, out int h0, out int h1, out int w0, out int w1, out int divisor);
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
