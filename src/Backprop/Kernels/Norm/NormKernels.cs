using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Norm;

/// <summary>Fused normalisation kernels: per-row (layer norm) and per-channel (batch norm) statistics and affine maps.</summary>
internal static class NormKernels
{
    /// <summary>
    /// Layer norm over rows of length d: y = (x − mean)·rstd·w + b, rstd = 1/√(var + eps) with the
    /// biased variance. w and b may be empty (no affine); mean and rstd receive one value per row.
    /// </summary>
    public static void LayerNormRows<T>(ReadOnlySpan<T> x, int rows, int d, ReadOnlySpan<T> w, ReadOnlySpan<T> b, T eps,
                                        Span<T> y, Span<T> mean, Span<T> rstd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T n = T.CreateChecked(d);
        for (int r = 0; r < rows; r++)
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
    /// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) (written), dw += Σ_rows dy·x̂, db += Σ_rows dy.
    /// Empty w means no affine weight; empty dx/dw/db are skipped. scratch needs 2·d elements.
    /// </summary>
    public static void LayerNormBackwardRows<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, int d, ReadOnlySpan<T> w,
                                                ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw, Span<T> db, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T n = T.CreateChecked(d);
        Span<T> xhat = scratch[..d], g = scratch.Slice(d, d);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> dyr = dy.Slice(r * d, d);
            TensorPrimitives.Subtract(x.Slice(r * d, d), mean[r], xhat);
            TensorPrimitives.Multiply(xhat, rstd[r], xhat);
            if (!dw.IsEmpty) TensorPrimitives.MultiplyAdd(dyr, xhat, dw, dw);
            if (!db.IsEmpty) TensorPrimitives.Add(db, dyr, db);
            if (dx.IsEmpty) continue;
            ReadOnlySpan<T> gr = dyr;
            if (!w.IsEmpty)
            {
                TensorPrimitives.Multiply(dyr, w, g);
                gr = g;
            }
            T meanG = TensorPrimitives.Sum(gr) / n;
            T meanGx = TensorPrimitives.Dot(gr, xhat) / n;
            Span<T> dxr = dx.Slice(r * d, d);
            TensorPrimitives.MultiplyAdd(xhat, -meanGx, gr, dxr); // g − x̂·mean(g·x̂)
            TensorPrimitives.Subtract(dxr, meanG, dxr);
            TensorPrimitives.Multiply(dxr, rstd[r], dxr);
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
