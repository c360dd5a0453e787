using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

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
}
