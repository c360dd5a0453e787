using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Threading;

namespace Backprop.Kernels.Conv;

/// <summary>
/// Adaptive 2-D pooling over a stack of planes ([planes, H, W] in, [planes, OH, OW] out, contiguous):
/// output (i, j) covers rows [⌊i·H/OH⌋, ⌈(i + 1)·H/OH⌉) and columns [⌊j·W/OW⌋, ⌈(j + 1)·W/OW⌉), PyTorch's
/// start/end index formula, so windows may overlap by one when the sizes do not divide. Planes are
/// independent and split over the threads, so no result depends on the thread count.
/// </summary>
internal static unsafe class AdaptivePoolKernels
{
    /// <summary>Below this many input elements per range the threads would cost more than they save.</summary>
    private const int MinInputsPerRange = 32768;

    /// <summary>The first input index of window <paramref name="i"/> of <paramref name="outSize"/> over <paramref name="size"/>: ⌊i·size/outSize⌋.</summary>
    public static int Start(int i, int size, int outSize) => (int)((long)i * size / outSize);

    /// <summary>One past the last input index of window <paramref name="i"/>: ⌈(i + 1)·size/outSize⌉.</summary>
    public static int End(int i, int size, int outSize) => (int)(((long)(i + 1) * size + outSize - 1) / outSize);

    private static int Grain(int h, int w) => Math.Max(1, MinInputsPerRange / Math.Max(h * w, 1));

    private static void Check(long planes, int h, int w, int oh, int ow, int x, int y, string op)
    {
        if (h <= 0 || w <= 0 || oh <= 0 || ow <= 0 || planes * h * w > x || planes * oh * ow > y)
            throw new ArgumentException($"{op}: buffers of {x} and {y} elements do not fit {planes} planes of [{h}, {w}] -> [{oh}, {ow}]");
    }

    /// <summary>y = the mean of each window (every element of y is written).</summary>
    public static void AvgForward<T>(ReadOnlySpan<T> x, int planes, int h, int w, int oh, int ow, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(planes, h, w, oh, ow, x.Length, y.Length, "AdaptiveAvgPool2d");
        fixed (T* px = x, py = y)
        {
            var body = new AvgBody<T> { X = px, Y = py, H = h, W = w, OH = oh, OW = ow };
            Parallelism.ParallelFor(planes, Grain(h, w), ref body);
        }
    }

    /// <summary>dx[window] += dy / (window size): the adjoint of <see cref="AvgForward{T}"/>.</summary>
    public static void AvgBackwardAdd<T>(ReadOnlySpan<T> dy, int planes, int h, int w, int oh, int ow, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(planes, h, w, oh, ow, dx.Length, dy.Length, "AdaptiveAvgPool2d backward");
        fixed (T* pdy = dy, pdx = dx)
        {
            var body = new AvgBackBody<T> { Dy = pdy, Dx = pdx, H = h, W = w, OH = oh, OW = ow };
            Parallelism.ParallelFor(planes, Grain(h, w), ref body);
        }
    }

    /// <summary>
    /// y = the max of each window and idx its in-plane index h·W + w (the first maximum, or the last NaN,
    /// as in PyTorch). Every element of y and idx is written.
    /// </summary>
    public static void MaxForward<T>(ReadOnlySpan<T> x, int planes, int h, int w, int oh, int ow, Span<T> y, Span<int> idx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(planes, h, w, oh, ow, x.Length, Math.Min(y.Length, idx.Length), "AdaptiveMaxPool2d");
        fixed (T* px = x, py = y)
        fixed (int* pi = idx)
        {
            var body = new MaxBody<T> { X = px, Y = py, Idx = pi, H = h, W = w, OH = oh, OW = ow };
            Parallelism.ParallelFor(planes, Grain(h, w), ref body);
        }
    }

    /// <summary>Mean of each window of planes [p0, p1): whole-row windows are summed as one run.</summary>
    private static void AvgPlanes<T>(T* x, T* y, int p0, int p1, int h, int w, int oh, int ow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = p0; p < p1; p++)
        {
            T* xp = x + (nint)p * h * w;
            T* yp = y + (nint)p * oh * ow;
            for (int i = 0; i < oh; i++)
            {
                int h0 = Start(i, h, oh), h1 = End(i, h, oh);
                for (int j = 0; j < ow; j++)
                {
                    int w0 = Start(j, w, ow), w1 = End(j, w, ow);
                    T sum = T.Zero;
                    if (w0 == 0 && w1 == w)
                        sum = TensorPrimitives.Sum(new ReadOnlySpan<T>(xp + (nint)h0 * w, (h1 - h0) * w)); // full rows are contiguous
                    else
                        for (int r = h0; r < h1; r++)
                            sum += TensorPrimitives.Sum(new ReadOnlySpan<T>(xp + (nint)r * w + w0, w1 - w0));
                    yp[i * ow + j] = sum / T.CreateTruncating((h1 - h0) * (w1 - w0));
                }
            }
        }
    }

    private static void AvgBackPlanes<T>(T* dy, T* dx, int p0, int p1, int h, int w, int oh, int ow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = p0; p < p1; p++)
        {
            T* xp = dx + (nint)p * h * w;
            T* yp = dy + (nint)p * oh * ow;
            for (int i = 0; i < oh; i++)
            {
                int h0 = Start(i, h, oh), h1 = End(i, h, oh);
                for (int j = 0; j < ow; j++)
                {
                    int w0 = Start(j, w, ow), w1 = End(j, w, ow);
                    T share = yp[i * ow + j] / T.CreateTruncating((h1 - h0) * (w1 - w0));
                    if (w0 == 0 && w1 == w)
                    {
                        var run = new Span<T>(xp + (nint)h0 * w, (h1 - h0) * w);
                        TensorPrimitives.Add(run, share, run);
                        continue;
                    }
                    for (int r = h0; r < h1; r++)
                    {
                        var row = new Span<T>(xp + (nint)r * w + w0, w1 - w0);
                        TensorPrimitives.Add(row, share, row);
                    }
                }
            }
        }
    }

    private static void MaxPlanes<T>(T* x, T* y, int* idx, int p0, int p1, int h, int w, int oh, int ow) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int p = p0; p < p1; p++)
        {
            T* xp = x + (nint)p * h * w;
            nint o = (nint)p * oh * ow;
            for (int i = 0; i < oh; i++)
            {
                int h0 = Start(i, h, oh), h1 = End(i, h, oh);
                for (int j = 0; j < ow; j++, o++)
                {
                    int w0 = Start(j, w, ow), w1 = End(j, w, ow);
                    int best = h0 * w + w0;
                    T max = T.NegativeInfinity;
                    for (int r = h0; r < h1; r++)
                        for (int c = w0; c < w1; c++)
                        {
                            T v = xp[r * w + c];
                            if (v > max || T.IsNaN(v)) // PyTorch's scan: the first maximum, or the last NaN
                            {
                                max = v;
                                best = r * w + c;
                            }
                        }
                    y[o] = max;
                    idx[o] = best;
                }
            }
        }
    }

    private struct AvgBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public int H, W, OH, OW;

        public readonly void Invoke(int start, int end) => AvgPlanes(X, Y, start, end, H, W, OH, OW);
    }

    private struct AvgBackBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, Dx;
        public int H, W, OH, OW;

        public readonly void Invoke(int start, int end) => AvgBackPlanes(Dy, Dx, start, end, H, W, OH, OW);
    }

    private struct MaxBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public int* Idx;
        public int H, W, OH, OW;

        public readonly void Invoke(int start, int end) => MaxPlanes(X, Y, Idx, start, end, H, W, OH, OW);
    }
}
