using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>
/// Softmax, log-softmax and log-sum-exp along the middle axis of a contiguous [outer, n, inner]
/// block. Every row is shifted by its maximum first, so logits like ±1000 neither overflow nor
/// underflow into NaN.
/// </summary>
internal static class SoftmaxKernel
{
    /// <summary>Row-wise work of at least this many elements is split over the threads.</summary>
    public const int ParallelMinElements = 1 << 15;

    /// <summary>y = softmax (or log-softmax) of x over the middle axis; x and y have outer·n·inner elements.</summary>
    public static void Softmax<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> y, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n == 0 || outer == 0 || inner == 0) return;
        if (inner == 1)
        {
            RowsSplit<T>.Run(x, outer, n, y, log ? RowOp.LogSoftmax : RowOp.Softmax);
            return;
        }
        T[] rented = ArrayPool<T>.Shared.Rent(2 * inner);
        try
        {
            Span<T> max = rented.AsSpan(0, inner), sum = rented.AsSpan(inner, inner);
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> xb = x.Slice(o * n * inner, n * inner);
                Span<T> yb = y.Slice(o * n * inner, n * inner);
                ColumnMax(xb, n, inner, max);
                sum.Clear();
                for (int r = 0; r < n; r++)
                {
                    Span<T> yr = yb.Slice(r * inner, inner);
                    TensorPrimitives.Subtract(xb.Slice(r * inner, inner), max, yr);
                    TensorPrimitives.Exp(yr, yr);
                    TensorPrimitives.Add(sum, yr, sum);
                }
                if (log)
                {
                    TensorPrimitives.Log(sum, sum);
                    for (int r = 0; r < n; r++)
                    {
                        Span<T> yr = yb.Slice(r * inner, inner);
                        TensorPrimitives.Subtract(xb.Slice(r * inner, inner), max, yr);
                        TensorPrimitives.Subtract(yr, sum, yr);
                    }
                }
                else
                {
                    for (int r = 0; r < n; r++)
                    {
                        Span<T> yr = yb.Slice(r * inner, inner);
                        TensorPrimitives.Divide(yr, sum, yr);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>Softmax or log-softmax of one contiguous row (n ≥ 1).</summary>
    public static void SoftmaxRow<T>(ReadOnlySpan<T> x, Span<T> y, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        T sum = SumKernel.SumContiguous<T>(y);
        if (log)
        {
            // (x − max) − log Σ: subtracting in two steps keeps the small terms exact when max is large.
            TensorPrimitives.Subtract(x, max, y);
            TensorPrimitives.Subtract(y, T.Log(sum), y);
        }
        else
            TensorPrimitives.Divide(y, sum, y);
    }

    /// <summary>
    /// y[o, i] = log Σ_r exp(x[o, r, i]). An infinite maximum is not subtracted (as PyTorch), so
    /// all −∞ gives −∞ and any +∞ gives +∞; an empty axis gives −∞.
    /// </summary>
    public static void LogSumExp<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (outer == 0 || inner == 0) return;
        if (n == 0)
        {
            y[..(outer * inner)].Fill(T.NegativeInfinity);
            return;
        }
        if (inner == 1)
        {
            RowsSplit<T>.Run(x, outer, n, y, RowOp.LogSumExp);
            return;
        }
        T[] rented = ArrayPool<T>.Shared.Rent(3 * inner);
        try
        {
            Span<T> max = rented.AsSpan(0, inner), sum = rented.AsSpan(inner, inner), t = rented.AsSpan(2 * inner, inner);
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> xb = x.Slice(o * n * inner, n * inner);
                ColumnMax(xb, n, inner, max);
                for (int i = 0; i < inner; i++)
                    if (T.IsInfinity(max[i])) max[i] = T.Zero;
                sum.Clear();
                for (int r = 0; r < n; r++)
                {
                    TensorPrimitives.Subtract(xb.Slice(r * inner, inner), max, t);
                    TensorPrimitives.Exp(t, t);
                    TensorPrimitives.Add(sum, t, sum);
                }
                Span<T> yo = y.Slice(o * inner, inner);
                TensorPrimitives.Log(sum, yo);
                TensorPrimitives.Add(yo, max, yo);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>log Σ_k exp(row_k) of one contiguous row (n ≥ 1); tmp holds n elements.</summary>
    private static T LogSumExpRow<T>(ReadOnlySpan<T> row, Span<T> tmp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T shift = TensorPrimitives.Max(row);
        if (T.IsInfinity(shift)) shift = T.Zero;
        TensorPrimitives.Subtract(row, shift, tmp);
        TensorPrimitives.Exp(tmp, tmp);
        return T.Log(SumKernel.SumContiguous<T>(tmp)) + shift;
    }

    private enum RowOp { Softmax, LogSoftmax, LogSumExp }

    /// <summary>
    /// A row-wise op over [outer, n] rows, split over the threads when there are at least
    /// <see cref="ParallelMinElements"/> elements (a language model's 2048 × 128 logits); rows are
    /// independent, so the split changes no result.
    /// </summary>
    private unsafe struct RowsSplit<T> : Threading.IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, Y;
        public int N;
        public RowOp Op;

        public static void Run(ReadOnlySpan<T> x, int outer, int n, Span<T> y, RowOp op)
        {
            fixed (T* px = x, py = y)
            {
                var body = new RowsSplit<T> { X = px, Y = py, N = n, Op = op };
                if ((long)outer * n >= ParallelMinElements && outer > 1) Threading.Parallelism.ParallelFor(outer, 1, ref body, Threading.Parallelism.BalancedChunks);
                else body.Invoke(0, outer);
            }
        }

        public readonly void Invoke(int start, int end)
        {
            int n = N;
            if (Op != RowOp.LogSumExp)
            {
                for (int o = start; o < end; o++)
                    SoftmaxRow(new ReadOnlySpan<T>(X + (nint)o * n, n), new Span<T>(Y + (nint)o * n, n), Op == RowOp.LogSoftmax);
                return;
            }
            T[] rented = ArrayPool<T>.Shared.Rent(n);
            for (int o = start; o < end; o++)
                Y[o] = LogSumExpRow(new ReadOnlySpan<T>(X + (nint)o * n, n), rented.AsSpan(0, n));
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>max[i] = max_r block[r, i] for a contiguous [n, inner] block (n ≥ 1); NaN propagates.</summary>
    private static void ColumnMax<T>(ReadOnlySpan<T> block, int n, int inner, Span<T> max) where T : unmanaged, IFloatingPointIeee754<T>
    {
        block[..inner].CopyTo(max);
        for (int r = 1; r < n; r++)
            TensorPrimitives.Max(max, block.Slice(r * inner, inner), max);
    }
}
