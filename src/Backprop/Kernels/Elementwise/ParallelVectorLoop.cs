using Backprop.Threading;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// <see cref="VectorLoop"/> split over the worker threads for long arrays. Each element depends only on
/// its own inputs, so the split changes no result; below <see cref="MinLength"/> elements one thread
/// is faster than waking another.
/// </summary>
internal static unsafe class ParallelVectorLoop
{
    /// <summary>Arrays shorter than this run on the calling thread.</summary>
    public const int MinLength = 1 << 16;

    // Ranges start on multiples of 64 elements (whole cache lines, whole vectors).
    private const int Grain = 64;

    /// <summary>y[i] = op(x[i]).</summary>
    public static void Unary<T, TOp>(TOp op, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged where TOp : struct, IVectorUnary<T>
    {
        if (x.Length < MinLength || Parallelism.ThreadCount == 1)
        {
            VectorLoop.Unary(op, x, y);
            return;
        }
        fixed (T* px = x, py = y)
        {
            var body = new UnaryBody<T, TOp>(op, px, py);
            Parallelism.ParallelFor(x.Length, Grain, ref body, Parallelism.BalancedChunks);
        }
    }

    /// <summary>y[i] = op(a[i], b[i]).</summary>
    public static void Binary<T, TOp>(TOp op, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged where TOp : struct, IVectorBinary<T>
    {
        if (a.Length < MinLength || Parallelism.ThreadCount == 1)
        {
            VectorLoop.Binary(op, a, b, y);
            return;
        }
        fixed (T* pa = a, pb = b, py = y)
        {
            var body = new BinaryBody<T, TOp>(op, pa, pb, py);
            Parallelism.ParallelFor(a.Length, Grain, ref body, Parallelism.BalancedChunks);
        }
    }

    private readonly struct UnaryBody<T, TOp>(TOp op, T* x, T* y) : IRangeBody where T : unmanaged where TOp : struct, IVectorUnary<T>
    {
        public void Invoke(int start, int end)
            => VectorLoop.Unary(op, new ReadOnlySpan<T>(x + start, end - start), new Span<T>(y + start, end - start));
    }

    private readonly struct BinaryBody<T, TOp>(TOp op, T* a, T* b, T* y) : IRangeBody where T : unmanaged where TOp : struct, IVectorBinary<T>
    {
        public void Invoke(int start, int end)
            => VectorLoop.Binary(op, new ReadOnlySpan<T>(a + start, end - start), new ReadOnlySpan<T>(b + start, end - start), new Span<T>(y + start, end - start));
    }
}
