using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;
using Backprop.Threading;

namespace Backprop.Kernels.Norm;

/// <summary>Fused normalisation kernels: per-row (layer norm) and per-channel (batch norm) statistics and affine maps.</summary>
internal static class NormKernels
{
    /// <summary>Layer norms of at least this many elements split their rows (backward: also columns) over the threads.</summary>
    public const int ParallelMinElements = 1 << 15;

    /// <summary>
    /// Layer norm over rows of length d: y = (x − mean)·rstd·w + b, rstd = 1/√(var + eps) with the
    /// biased variance. w and b may be empty (no affine); mean and rstd receive one value per row.
    /// Rows are independent, so splitting them over the threads changes no result.
    /// </summary>
    public static unsafe void LayerNormRows<T>(ReadOnlySpan<T> x, int rows, int d, ReadOnlySpan<T> w, ReadOnlySpan<T> b, T eps,
                                               Span<T> y, Span<T> mean, Span<T> rstd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if ((long)rows * d < ParallelMinElements || Parallelism.ThreadCount == 1 || rows < 2)
        {
            LayerNormRange(x, 0, rows, d, w, b, eps, y, mean, rstd);
            return;
        }
        fixed (T* px = x, pw = w, pb = b, py = y, pm = mean, pr = rstd)
        {
            var body = new ForwardBody<T>
            {
                X = px, W = pw, B = pb, Y = py, Mean = pm, Rstd = pr, Rows = rows, D = d, Eps = eps,
                HasW = !w.IsEmpty, HasB = !b.IsEmpty,
            };
            Parallelism.ParallelFor(rows, 1, ref body, Parallelism.BalancedChunks);
        }
    }

    private static void LayerNormRange<T>(ReadOnlySpan<T> x, int start, int end, int d, ReadOnlySpan<T> w, ReadOnlySpan<T> b, T eps,
                                          Span<T> y, Span<T> mean, Span<T> rstd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T n = T.CreateChecked(d);
        for (int r = start; r < end; r++)
        {
            ReadOnlySpan<T> xr = x.Slice(r * d, d);
            Span<T> yr = y.Slice(r * d, d);
            T m = TensorPrimitives.Sum(xr) / n;
            TensorPrimitives.Subtract(xr, m, yr);
            T rs = T.One / T.Sqrt(TensorPrimitives.SumOfSquares<T>(yr) / n + eps);
            TensorPrimitives.Multiply(yr, rs, yr);
            if (!w.IsEmpty && !b.IsEmpty) TensorPrimitives.MultiplyAdd(yr, w, b, yr);
            else if (!w.IsEmpty) TensorPrimitives.Multiply(yr, w, yr);
            else if (!b.IsEmpty) TensorPrimitives.Add(yr, b, yr);
            mean[r] = m;
            rstd[r] = rs;
        }
    }

    private unsafe struct ForwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, W, B, Y, Mean, Rstd;
        public int Rows, D;
        public T Eps;
        public bool HasW, HasB;

        public readonly void Invoke(int start, int end)
            => LayerNormRange(new ReadOnlySpan<T>(X, Rows * D), start, end, D, HasW ? new ReadOnlySpan<T>(W, D) : default,
                              HasB ? new ReadOnlySpan<T>(B, D) : default, Eps, new Span<T>(Y, Rows * D), new Span<T>(Mean, Rows), new Span<T>(Rstd, Rows));
    }

    /// <summary>
    /// Per-channel mean and biased variance of x laid out as [n, c, s], two-pass for accuracy.
    /// <paramref name="scratch"/> (length ≥ n·c·s) receives x − mean and may be the output buffer.
    /// </summary>
    public static void ChannelMeanVar<T>(ReadOnlySpan<T> x, int n, int c, int s, Span<T> mean, Span<T> var, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T count = T.CreateChecked((long)n * s);
        if (s == 1)
        {
            // [n, c]: accumulate whole rows so the channel axis is the vector axis.
            mean.Clear();
            var.Clear();
            for (int i = 0; i < n; i++) TensorPrimitives.Add(mean, x.Slice(i * c, c), mean);
            TensorPrimitives.Divide(mean, count, mean);
            for (int i = 0; i < n; i++)
            {
                Span<T> d = scratch.Slice(i * c, c);
                TensorPrimitives.Subtract(x.Slice(i * c, c), mean, d);
                TensorPrimitives.MultiplyAdd(d, d, var, var);
            }
            TensorPrimitives.Divide(var, count, var);
            return;
        }
        for (int ch = 0; ch < c; ch++)
        {
            T sum = T.Zero;
            for (int i = 0; i < n; i++) sum += TensorPrimitives.Sum(x.Slice((i * c + ch) * s, s));
            T m = sum / count;
            T sq = T.Zero;
            for (int i = 0; i < n; i++)
            {
                Span<T> d = scratch.Slice((i * c + ch) * s, s);
                TensorPrimitives.Subtract(x.Slice((i * c + ch) * s, s), m, d);
                sq += TensorPrimitives.SumOfSquares<T>(d);
            }
            mean[ch] = m;
            var[ch] = sq / count;
        }
    }

    /// <summary>y[i, ch, :] = x[i, ch, :]·scale[ch] + shift[ch] for x laid out as [n, c, s].</summary>
    public static void ChannelAffine<T>(ReadOnlySpan<T> x, int n, int c, int s, ReadOnlySpan<T> scale, ReadOnlySpan<T> shift, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (s == 1)
        {
            for (int i = 0; i < n; i++)
                TensorPrimitives.MultiplyAdd(x.Slice(i * c, c), scale, shift, y.Slice(i * c, c));
            return;
        }
        for (int i = 0; i < n; i++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                Span<T> yr = y.Slice((i * c + ch) * s, s);
                TensorPrimitives.Multiply(x.Slice((i * c + ch) * s, s), scale[ch], yr);
                TensorPrimitives.Add(yr, shift[ch], yr);
            }
        }
    }

    /// <summary>
    /// Layer-norm backward over rows of length d, with x̂ = (x − mean)·rstd and g = dy·w:
    /// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), dw = Σ_rows dy·x̂, db = Σ_rows dy (all written).
    /// Empty w means no affine weight; empty dx/dw/db are skipped. dx is split over the threads by rows,
    /// dw and db by columns, each column still summed over the rows in order, so no result depends
    /// on the number of threads.
    /// </summary>
    public static unsafe void LayerNormBackwardRows<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int d, ReadOnlySpan<T> w,
                                                       ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool parallel = (long)rows * d >= ParallelMinElements && Parallelism.ThreadCount > 1;
        fixed (T* pdy = dy, px = x, pw = w, pm = mean, pr = rstd, pdx = dx, pdw = dw, pdb = db)
        {
            var body = new BackwardBody<T>
            {
                Dy = pdy, X = px, W = pw, Mean = pm, Rstd = pr, Dx = pdx, Dw = pdw, Db = pdb, Rows = rows, D = d,
                HasW = !w.IsEmpty, HasDx = !dx.IsEmpty, HasDw = !dw.IsEmpty, HasDb = !db.IsEmpty,
            };
            if (body.HasDx)
            {
                if (parallel && rows > 1) Parallelism.ParallelFor(rows, 1, ref body, Parallelism.BalancedChunks);
                else body.Invoke(0, rows);
            }
            if (body.HasDw || body.HasDb)
            {
                var columns = new ColumnSumsBody<T> { Grads = body };
                if (parallel) Parallelism.ParallelFor(d, 16, ref columns); // 16 columns: whole cache lines of float
                else columns.Invoke(0, d);
            }
        }
    }

    /// <summary>dx for rows [start, end).</summary>
    private unsafe struct BackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, X, W, Mean, Rstd, Dx, Dw, Db;
        public int Rows, D;
        public bool HasW, HasDx, HasDw, HasDb;

        public readonly void Invoke(int start, int end)
        {
            if (SimdWidths.Has512 && D >= Vector512<T>.Count) InputGrad<Width512<T>, Vector512<T>>(start, end);
            else if (SimdWidths.Has256 && D >= Vector256<T>.Count) InputGrad<Width256<T>, Vector256<T>>(start, end);
            else if (SimdWidths.Has128 && D >= Vector128<T>.Count) InputGrad<Width128<T>, Vector128<T>>(start, end);
            else InputGrad<WidthScalar<T>, T>(start, end);
        }

        /// <summary>
        /// Two passes over each row, no scratch: the first sums g and g·x̂, the second writes dx; x̂ and g
        /// are recomputed in the second (two multiplies are cheaper than storing and reloading a row).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void InputGrad<TW, TV>(int start, int end) where TW : struct, ISimdWidth<T, TV> where TV : struct
        {
            int d = D, w = TW.Count;
            T n = T.CreateChecked(d);
            for (int r = start; r < end; r++)
            {
                T* x = X + (nint)r * d, dy = Dy + (nint)r * d, dx = Dx + (nint)r * d;
                T mean = Mean[r], rstd = Rstd[r];
                TV vMean = TW.Splat(mean), vRstd = TW.Splat(rstd), sumG = TW.Zero, sumGx = TW.Zero;
                int j = 0;
                for (; j + w <= d; j += w)
                {
                    TV xhat = TW.Mul(TW.Sub(TW.Load(x + j), vMean), vRstd);
                    TV g = HasW ? TW.Mul(TW.Load(dy + j), TW.Load(W + j)) : TW.Load(dy + j);
                    sumG = TW.Add(sumG, g);
                    sumGx = TW.MulAdd(g, xhat, sumGx);
                }
                T sg = TW.Sum(sumG), sgx = TW.Sum(sumGx);
                for (; j < d; j++)
                {
                    T g = HasW ? dy[j] * W[j] : dy[j];
                    sg += g;
                    sgx += g * ((x[j] - mean) * rstd);
                }
                T meanG = sg / n, meanGx = sgx / n;
                // dx = rstd·(g − x̂·mean(g·x̂) − mean(g))
                TV vMeanG = TW.Splat(meanG), vMeanGx = TW.Splat(meanGx);
                for (j = 0; j + w <= d; j += w)
                {
                    TV xhat = TW.Mul(TW.Sub(TW.Load(x + j), vMean), vRstd);
                    TV g = HasW ? TW.Mul(TW.Load(dy + j), TW.Load(W + j)) : TW.Load(dy + j);
                    TW.Store(dx + j, TW.Mul(TW.Sub(TW.Sub(g, TW.Mul(xhat, vMeanGx)), vMeanG), vRstd));
                }
                for (; j < d; j++)
                {
                    T g = HasW ? dy[j] * W[j] : dy[j];
                    dx[j] = (g - (x[j] - mean) * rstd * meanGx - meanG) * rstd;
                }
            }
        }
    }

    /// <summary>dw and db for columns [start, end), summed over the rows in order.</summary>
    private unsafe struct ColumnSumsBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public BackwardBody<T> Grads;

        public readonly void Invoke(int start, int end)
        {
            int width = end - start;
            if (SimdWidths.Has512 && width >= Vector512<T>.Count) Sums<Width512<T>, Vector512<T>>(start, end);
            else if (SimdWidths.Has256 && width >= Vector256<T>.Count) Sums<Width256<T>, Vector256<T>>(start, end);
            else if (SimdWidths.Has128 && width >= Vector128<T>.Count) Sums<Width128<T>, Vector128<T>>(start, end);
            else Sums<WidthScalar<T>, T>(start, end);
        }

        /// <summary>Row by row, the columns' running sums kept in dw and db (a few cache lines, in L1).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Sums<TW, TV>(int start, int end) where TW : struct, ISimdWidth<T, TV> where TV : struct
        {
            BackwardBody<T> q = Grads;
            int d = q.D, width = end - start, w = TW.Count;
            T* dw = q.HasDw ? q.Dw + start : null, db = q.HasDb ? q.Db + start : null;
            if (dw != null) new Span<T>(dw, width).Clear();
            if (db != null) new Span<T>(db, width).Clear();
            for (int r = 0; r < q.Rows; r++)
            {
                T* dy = q.Dy + (nint)r * d + start, x = q.X + (nint)r * d + start;
                T mean = q.Mean[r], rstd = q.Rstd[r];
                TV vMean = TW.Splat(mean), vRstd = TW.Splat(rstd);
                int j = 0;
                for (; j + w <= width; j += w)
                {
                    TV vdy = TW.Load(dy + j);
                    if (dw != null) TW.Store(dw + j, TW.MulAdd(vdy, TW.Mul(TW.Sub(TW.Load(x + j), vMean), vRstd), TW.Load(dw + j)));
                    if (db != null) TW.Store(db + j, TW.Add(TW.Load(db + j), vdy));
                }
                for (; j < width; j++)
                {
                    if (dw != null) dw[j] += dy[j] * ((x[j] - mean) * rstd);
                    if (db != null) db[j] += dy[j];
                }
            }
        }
    }

    /// <summary>
    /// Batch-norm backward for x laid out as [n, c, s], with x̂ = (x − mean)·rstd and per-channel
    /// sums over n and s: dw = Σ dy·x̂ and db = Σ dy (written when non-empty), and dx (written when
    /// non-empty) = w·rstd·(dy − Σdy/count − x̂·Σdy·x̂/count) in training, w·rstd·dy in eval.
    /// w empty means weight 1. scratch needs 5·c elements.
    /// </summary>
    public static void BatchNormBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int n, int c, int s, ReadOnlySpan<T> w,
                                            ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, bool training,
                                            Span<T> dx, Span<T> dw, Span<T> db, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> sumDy = scratch[..c], sumDyX = scratch.Slice(c, c);
        Span<T> k1 = scratch.Slice(2 * c, c), k2 = scratch.Slice(3 * c, c), k3 = scratch.Slice(4 * c, c);
        sumDy.Clear();
        sumDyX.Clear();
        if (s == 1)
        {
            for (int i = 0; i < n; i++)
            {
                TensorPrimitives.Add(sumDy, dy.Slice(i * c, c), sumDy);
                TensorPrimitives.MultiplyAdd(dy.Slice(i * c, c), x.Slice(i * c, c), sumDyX, sumDyX);
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
                for (int ch = 0; ch < c; ch++)
                {
                    int at = (i * c + ch) * s;
                    sumDy[ch] += TensorPrimitives.Sum(dy.Slice(at, s));
                    sumDyX[ch] += TensorPrimitives.Dot(dy.Slice(at, s), x.Slice(at, s));
                }
        }
        T count = T.CreateChecked((long)n * s);
        for (int ch = 0; ch < c; ch++)
        {
            T sdxh = rstd[ch] * (sumDyX[ch] - mean[ch] * sumDy[ch]); // Σ dy·x̂
            if (!dw.IsEmpty) dw[ch] = sdxh;
            if (!db.IsEmpty) db[ch] = sumDy[ch];
            // dx = k1·dy + k2·x + k3 per channel
            T a = (w.IsEmpty ? T.One : w[ch]) * rstd[ch];
            k1[ch] = a;
            if (training)
            {
                T b = a * rstd[ch] * sdxh / count;
                k2[ch] = -b;
                k3[ch] = b * mean[ch] - a * sumDy[ch] / count;
            }
            else
            {
                k2[ch] = T.Zero;
                k3[ch] = T.Zero;
            }
        }
        if (dx.IsEmpty) return;
        if (s == 1)
        {
            for (int i = 0; i < n; i++)
            {
                Span<T> dxr = dx.Slice(i * c, c);
                TensorPrimitives.Multiply(dy.Slice(i * c, c), k1, dxr);
                TensorPrimitives.MultiplyAdd(x.Slice(i * c, c), k2, dxr, dxr);
                TensorPrimitives.Add(dxr, k3, dxr);
            }
            return;
        }
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
            {
                int at = (i * c + ch) * s;
                Span<T> dxr = dx.Slice(at, s);
                TensorPrimitives.Multiply(dy.Slice(at, s), k1[ch], dxr);
                TensorPrimitives.MultiplyAdd(x.Slice(at, s), k2[ch], dxr, dxr);
                TensorPrimitives.Add(dxr, k3[ch], dxr);
            }
    }
}
