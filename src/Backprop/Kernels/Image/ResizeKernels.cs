using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Image;

/// <summary>
/// The taps of a one-dimensional resampling from n to m positions: output i is the weighted sum of the inputs
/// <see cref="Start"/>[i] … <see cref="Start"/>[i] + <see cref="Count"/>[i] − 1 with the weights
/// <see cref="Weights"/>[i·<see cref="Width"/> …] (summing to 1).
/// </summary>
internal sealed class ResampleTaps
{
    /// <summary>The first input of every output.</summary>
    public required int[] Start { get; init; }

    /// <summary>How many inputs every output reads.</summary>
    public required int[] Count { get; init; }

    /// <summary>Weights, <see cref="Width"/> per output (the unused tail is 0).</summary>
    public required double[] Weights { get; init; }

    /// <summary>The most inputs any output reads.</summary>
    public required int Width { get; init; }

    /// <summary>Output positions.</summary>
    public int Outputs => Start.Length;

    /// <summary>
    /// PyTorch's <c>interpolate(mode="nearest")</c>: input floor(i·n/m) (the scale in float32, as PyTorch's
    /// <c>nearest_idx</c>), clamped to n − 1.
    /// </summary>
    public static ResampleTaps Nearest(int n, int m)
    {
        var start = new int[m];
        float scale = (float)n / m;
        for (int i = 0; i < m; i++)
            start[i] = n == m ? i : Math.Min((int)MathF.Floor(i * scale), n - 1);
        var ones = new double[m];
        Array.Fill(ones, 1.0);
        var count = new int[m];
        Array.Fill(count, 1);
        return new ResampleTaps { Start = start, Count = count, Weights = ones, Width = 1 };
    }

    /// <summary>
    /// PyTorch's <c>interpolate(mode="bilinear", align_corners=False)</c> along one axis: source position
    /// (i + 0.5)·n/m − 0.5 clamped below at 0, its two neighbours weighted linearly (the upper one clamped to n − 1).
    /// </summary>
    public static ResampleTaps Linear(int n, int m)
    {
        var start = new int[m];
        var count = new int[m];
        var weights = new double[2 * m];
        double scale = (double)n / m;
        for (int i = 0; i < m; i++)
        {
            double src = Math.Max(scale * (i + 0.5) - 0.5, 0);
            int i0 = (int)src;
            double l1 = src - i0;
            start[i] = i0;
            if (i0 < n - 1)
            {
                count[i] = 2;
                weights[2 * i] = 1 - l1;
                weights[2 * i + 1] = l1;
            }
            else
            {
                count[i] = 1;
                weights[2 * i] = 1;
            }
        }
        return new ResampleTaps { Start = start, Count = count, Weights = weights, Width = 2 };
    }

    /// <summary>
    /// PyTorch's <c>interpolate(mode="bilinear", antialias=True)</c> along one axis, which is PIL's bilinear
    /// resize: a triangle filter stretched by the scale when shrinking (support max(n/m, 1)), centred at
    /// (i + 0.5)·n/m, its weights at the inputs it covers normalised to sum to 1 (so the edges need no padding).
    /// Enlarging, it gives the same numbers as <see cref="Linear"/>.
    /// </summary>
    public static ResampleTaps Antialiased(int n, int m)
    {
        double scale = (double)n / m;
        double support = scale >= 1 ? scale : 1.0;
        double inverse = scale >= 1 ? 1 / scale : 1.0;
        int width = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[m];
        var count = new int[m];
        var weights = new double[width * m];
        for (int i = 0; i < m; i++)
        {
            double center = scale * (i + 0.5);
            // PyTorch truncates toward zero here (static_cast<int64_t>), as PIL does.
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xsize = Math.Min((int)(center + support + 0.5), n) - xmin;
            xsize = Math.Clamp(xsize, 0, width);
            double total = 0;
            for (int j = 0; j < xsize; j++)
            {
                double t = Math.Abs((j + xmin - center + 0.5) * inverse);
                double wj = t < 1 ? 1 - t : 0;
                weights[i * width + j] = wj;
                total += wj;
            }
            if (total != 0)
                for (int j = 0; j < xsize; j++) weights[i * width + j] /= total;
            start[i] = xmin;
            count[i] = xsize;
        }
        return new ResampleTaps { Start = start, Count = count, Weights = weights, Width = width };
    }
}

/// <summary>
/// Separable image resizing on planes of [h, w] elements (row-major, one plane after another), as PyTorch's
/// separable <c>_upsample_*_aa</c> kernels: rows first (along the contiguous axis), then columns, an axis whose
/// size does not change being skipped. Spans in, spans out; the intermediate [h, ow] plane is rented.
/// </summary>
internal static class ResizeKernels
{
    /// <summary>
    /// dst[p] (oh × ow) = src[p] (h × w) resampled with <paramref name="rows"/> (h → oh) and <paramref name="columns"/> (w → ow)
    /// for <paramref name="planes"/> planes.
    /// </summary>
    public static void Resize<T>(ReadOnlySpan<T> src, int planes, int h, int w, Span<T> dst, ResampleTaps rows, ResampleTaps columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int oh = rows.Outputs, ow = columns.Outputs;
        if (oh == 0 || ow == 0 || planes == 0) return;
        bool resizeColumns = ow != w, resizeRows = oh != h;
        T[] scratch = ArrayPool<T>.Shared.Rent(h * ow);
        T[] columnWeights = ArrayPool<T>.Shared.Rent(columns.Weights.Length);
        try
        {
            for (int k = 0; k < columns.Weights.Length; k++) columnWeights[k] = T.CreateTruncating(columns.Weights[k]);
            for (int p = 0; p < planes; p++)
            {
                ReadOnlySpan<T> plane = src.Slice(p * h * w, h * w);
                Span<T> output = dst.Slice(p * oh * ow, oh * ow);
                // Along the rows: [h, w] -> [h, ow] (into the output directly when the rows keep their count).
                Span<T> wide = resizeRows ? scratch.AsSpan(0, h * ow) : output;
                if (resizeColumns)
                    for (int y = 0; y < h; y++)
                        ResampleRow(plane.Slice(y * w, w), wide.Slice(y * ow, ow), columns, columnWeights);
                else
                    plane.CopyTo(wide);
                if (!resizeRows) continue;
                // Along the columns: [h, ow] -> [oh, ow], a weighted sum of whole rows.
                for (int y = 0; y < oh; y++)
                {
                    Span<T> outRow = output.Slice(y * ow, ow);
                    int first = rows.Start[y], taps = rows.Count[y];
                    if (taps == 0)
                    {
                        outRow.Clear();
                        continue;
                    }
                    TensorPrimitives.Multiply(wide.Slice(first * ow, ow), T.CreateTruncating(rows.Weights[y * rows.Width]), outRow);
                    for (int k = 1; k < taps; k++)
                        TensorPrimitives.MultiplyAdd(wide.Slice((first + k) * ow, ow), T.CreateTruncating(rows.Weights[y * rows.Width + k]), outRow, outRow);
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(columnWeights);
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    private static void ResampleRow<T>(ReadOnlySpan<T> input, Span<T> output, ResampleTaps taps, ReadOnlySpan<T> weights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = taps.Width;
        for (int x = 0; x < output.Length; x++)
        {
            int first = taps.Start[x], count = taps.Count[x];
            ReadOnlySpan<T> w = weights.Slice(x * width, count);
            ReadOnlySpan<T> v = input.Slice(first, count);
            T sum = T.Zero;
            for (int k = 0; k < count; k++) sum += w[k] * v[k];
            output[x] = sum;
        }
    }
}
