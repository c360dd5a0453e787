using System.Numerics;
using Backprop.Threading;

namespace Backprop.Kernels.Conv;

/// <summary>
/// Runs the per-plane pooling kernels over ranges of planes on <see cref="Threading"/>'s threads.
/// Planes are independent, so the result does not depend on how they are shared out.
/// </summary>
internal static unsafe class PlaneParallel
{
    /// <summary>Below this many outputs per range the threads would cost more than they save.</summary>
    private const int MinOutputsPerRange = 16384;

    private static int Grain(int outPlane) => Math.Max(1, MinOutputsPerRange / Math.Max(outPlane, 1));

    /// <summary><see cref="PoolKernels.MaxForward"/> split over planes.</summary>
    public static void MaxForward<T>(ReadOnlySpan<T> x, int planes, in Window2d g, Span<T> y, Span<int> idx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int plane = g.H * g.W, outPlane = g.OH * g.OW;
        if ((long)planes * plane > x.Length || (long)planes * outPlane > y.Length || (long)planes * outPlane > idx.Length)
            throw new ArgumentException("MaxPool2d: buffers shorter than the planes");
        fixed (T* px = x)
        fixed (T* py = y)
        fixed (int* pi = idx)
        {
            var body = new MaxBody<T> { X = px, Y = py, Idx = pi, G = g };
            Parallelism.ParallelFor(planes, Grain(outPlane), ref body);
        }
    }

    /// <summary><see cref="PoolKernels.ScatterAdd"/> split over planes.</summary>
    public static void ScatterAdd<T>(ReadOnlySpan<T> dy, int planes, int outPlane, ReadOnlySpan<int> idx, int inPlane, Span<T> dx)
        where T : unmanaged, INumber<T>
    {
        if ((long)planes * outPlane > dy.Length || (long)planes * outPlane > idx.Length || (long)planes * inPlane > dx.Length)
            throw new ArgumentException("MaxPool2d backward: buffers shorter than the planes");
        fixed (T* pdy = dy)
        fixed (int* pi = idx)
        fixed (T* pdx = dx)
        {
            var body = new ScatterBody<T> { Dy = pdy, Idx = pi, Dx = pdx, InPlane = inPlane, OutPlane = outPlane };
            Parallelism.ParallelFor(planes, Grain(outPlane), ref body);
        }
    }

    private struct MaxBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public int* Idx;
        public Window2d G;

        public readonly void Invoke(int start, int end)
        {
            int plane = G.H * G.W, outPlane = G.OH * G.OW, count = end - start;
            PoolKernels.MaxForward(new ReadOnlySpan<T>(X + (nint)start * plane, count * plane), count, G,
                new Span<T>(Y + (nint)start * outPlane, count * outPlane), new Span<int>(Idx + (nint)start * outPlane, count * outPlane));
        }
    }

    private struct ScatterBody<T> : IRangeBody where T : unmanaged, INumber<T>
    {
        public T* Dy, Dx;
        public int* Idx;
        public int InPlane, OutPlane;

        public readonly void Invoke(int start, int end)
        {
            int count = end - start;
            PoolKernels.ScatterAdd(new ReadOnlySpan<T>(Dy + (nint)start * OutPlane, count * OutPlane), count, OutPlane,
                new ReadOnlySpan<int>(Idx + (nint)start * OutPlane, count * OutPlane), InPlane, new Span<T>(Dx + (nint)start * InPlane, count * InPlane));
        }
    }
}
