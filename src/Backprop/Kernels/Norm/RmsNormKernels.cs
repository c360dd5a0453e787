using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Threading;

namespace Backprop.Kernels.Norm;

/// <summary>
/// Root-mean-square normalisation over rows of length d: y = x·rstd·w with rstd = 1/√(mean(x²) + eps)
/// (no centring, no bias). Rows, and in the backward the weight gradient's columns, are split over the
/// threads; each column is still summed over the rows in order, so no result depends on the thread count.
/// </summary>
internal static unsafe class RmsNormKernels
{
    /// <summary>y = x·rstd·w per row (w empty: no weight); rstd gets one value per row. Every element of y is written.</summary>
    /// <exception cref="ArgumentException">The buffers do not fit rows × d.</exception>
    public static void Forward<T>(ReadOnlySpan<T> x, int rows, int d, ReadOnlySpan<T> w, T eps, Span<T> y, Span<T> rstd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long total = (long)rows * d;
        if (x.Length < total || y.Length < total || rstd.Length < rows || !w.IsEmpty && w.Length < d)
            throw new ArgumentException($"RmsNorm: buffers do not fit {rows} rows of {d}");
        fixed (T* px = x, pw = w, py = y, pr = rstd)
        {
            var body = new ForwardBody<T> { X = px, W = pw, Y = py, Rstd = pr, D = d, Eps = eps, HasW = !w.IsEmpty };
            if (total < NormKernels.ParallelMinElements || rows < 2) body.Invoke(0, rows);
            else Parallelism.ParallelFor(rows, 1, ref body);
        }
    }

    private struct ForwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, W, Y, Rstd;
        public int D;
        public T Eps;
        public bool HasW;

        public readonly void Invoke(int start, int end)
        {
            T count = T.CreateTruncating(D);
            for (int r = start; r < end; r++)
            {
                var xr = new ReadOnlySpan<T>(X + (nint)r * D, D);
                var yr = new Span<T>(Y + (nint)r * D, D);
                T rs = T.One / T.Sqrt(TensorPrimitives.SumOfSquares(xr) / count + Eps);
                Rstd[r] = rs;
                TensorPrimitives.Multiply(xr, rs, yr);
                if (HasW) TensorPrimitives.Multiply(yr, new ReadOnlySpan<T>(W, D), yr);
            }
        }
    }

    /// <summary>
    /// Gradients of <see cref="Forward{T}"/> for dy, with x̂ = x·rstd and g = dy·w: dx = rstd·(g − x̂·mean(g·x̂))
    /// per row, dw = Σ_rows dy·x̂. Outputs are written (empty ones skipped).
    /// </summary>
    /// <exception cref="ArgumentException">The buffers do not fit rows × d.</exception>
    public static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int d, ReadOnlySpan<T> w, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long total = (long)rows * d;
        if (dy.Length < total || x.Length < total || rstd.Length < rows || !w.IsEmpty && w.Length < d || !dx.IsEmpty && dx.Length < total || !dw.IsEmpty && dw.Length < d)
            throw new ArgumentException($"RmsNorm backward: buffers do not fit {rows} rows of {d}");
        bool parallel = total >= NormKernels.ParallelMinElements;
        fixed (T* pdy = dy, px = x, pw = w, pr = rstd, pdx = dx, pdw = dw)
        {
            if (!dx.IsEmpty)
            {
                var body = new InputGradBody<T> { Dy = pdy, X = px, W = pw, Rstd = pr, Dx = pdx, D = d, HasW = !w.IsEmpty };
                if (parallel && rows > 1) Parallelism.ParallelFor(rows, 1, ref body);
                else body.Invoke(0, rows);
            }
            if (!dw.IsEmpty)
            {
                var columns = new WeightGradBody<T> { Dy = pdy, X = px, Rstd = pr, Dw = pdw, Rows = rows, D = d };
                if (parallel) Parallelism.ParallelFor(d, 16, ref columns); // 16 columns: whole cache lines of float
                else columns.Invoke(0, d);
            }
        }
    }

    private struct InputGradBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, X, W, Rstd, Dx;
        public int D;
        public bool HasW;

        public readonly void Invoke(int start, int end)
        {
            T count = T.CreateTruncating(D);
            T[] scratch = HasW ? ArrayPool<T>.Shared.Rent(D) : [];
            try
            {
                for (int r = start; r < end; r++)
                {
                    var dyr = new ReadOnlySpan<T>(Dy + (nint)r * D, D);
                    var xr = new ReadOnlySpan<T>(X + (nint)r * D, D);
                    ReadOnlySpan<T> g = dyr;
                    if (HasW)
                    {
                        Span<T> gw = scratch.AsSpan(0, D);
                        TensorPrimitives.Multiply(dyr, new ReadOnlySpan<T>(W, D), gw);
                        g = gw;
                    }
                    T rs = Rstd[r];
                    // dx = rstd·g − x·rstd³·Σ(g·x)/d
                    T k = -rs * rs * rs * TensorPrimitives.Dot(g, xr) / count;
                    var dxr = new Span<T>(Dx + (nint)r * D, D);
                    TensorPrimitives.Multiply(g, rs, dxr);
                    TensorPrimitives.MultiplyAdd(xr, k, dxr, dxr);
                }
            }
            finally
            {
                if (HasW) ArrayPool<T>.Shared.Return(scratch);
            }
        }
    }

    private struct WeightGradBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, X, Rstd, Dw;
        public int Rows, D;

        public readonly void Invoke(int start, int end)
        {
            int width = end - start;
            T[] scratch = ArrayPool<T>.Shared.Rent(width);
            try
            {
                Span<T> xhat = scratch.AsSpan(0, width), dw = new(Dw + start, width);
                dw.Clear();
                for (int r = 0; r < Rows; r++)
                {
                    TensorPrimitives.Multiply(new ReadOnlySpan<T>(X + (nint)r * D + start, width), Rstd[r], xhat);
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(Dy + (nint)r * D + start, width), xhat, dw, dw);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
            }
        }
    }
}
