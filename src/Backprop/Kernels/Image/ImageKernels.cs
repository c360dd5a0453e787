using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Image;

/// <summary>How a coordinate outside an image maps back into it (torchvision's padding modes).</summary>
internal enum Border
{
    /// <summary>Outside is a constant fill value (no source pixel).</summary>
    Constant,
    /// <summary>The nearest edge pixel: aaa|abcd|ddd.</summary>
    Edge,
    /// <summary>Mirrored without repeating the edge: dcb|abcd|cba.</summary>
    Reflect,
    /// <summary>Mirrored repeating the edge: cba|abcd|dcb.</summary>
    Symmetric,
}

/// <summary>
/// Image kernels on planes of [height, width] elements (row-major, one plane after another): remapping
/// rows and columns (crop, pad, flip), affine resampling (nearest or bilinear, as <c>grid_sample</c> with
/// <c>align_corners=False</c>), per-plane normalisation and the byte-to-float conversion of decoded pixels.
/// Spans in, spans out; nothing here knows a tensor.
/// </summary>
internal static class ImageKernels
{
    /// <summary>
    /// The source index for position <paramref name="i"/> of an axis of length <paramref name="n"/> under
    /// <paramref name="border"/>, or −1 when the position is outside and the border is constant.
    /// </summary>
    public static int BorderIndex(long i, int n, Border border)
    {
        if ((ulong)i < (ulong)n) return (int)i;
        if (n == 0) return -1;
        switch (border)
        {
            case Border.Edge:
                return i < 0 ? 0 : n - 1;
            case Border.Reflect:
            {
                if (n == 1) return 0;
                long period = 2L * n - 2;
                long k = ((i % period) + period) % period;
                return (int)(k < n ? k : period - k);
            }
            case Border.Symmetric:
            {
                long period = 2L * n;
                long k = ((i % period) + period) % period;
                return (int)(k < n ? k : period - 1 - k);
            }
            default:
                return -1;
        }
    }

    /// <summary>
    /// dst[p, y, x] = src[p, rows[y], columns[x]], or <paramref name="fill"/> where either index is −1; for
    /// <paramref name="planes"/> planes of h×w source and rows.Length×columns.Length destination elements.
    /// Runs of consecutive source columns are copied as blocks.
    /// </summary>
    public static void Remap<T>(ReadOnlySpan<T> src, int planes, int h, int w, Span<T> dst, ReadOnlySpan<int> rows, ReadOnlySpan<int> columns, T fill)
        where T : unmanaged
    {
        int oh = rows.Length, ow = columns.Length;
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<T> plane = src.Slice(p * h * w, h * w);
            Span<T> output = dst.Slice(p * oh * ow, oh * ow);
            for (int y = 0; y < oh; y++)
            {
                Span<T> outRow = output.Slice(y * ow, ow);
                if (rows[y] < 0)
                {
                    outRow.Fill(fill);
                    continue;
                }
                ReadOnlySpan<T> inRow = plane.Slice(rows[y] * w, w);
                int x = 0;
                while (x < ow)
                {
                    int c = columns[x];
                    if (c < 0)
                    {
                        outRow[x++] = fill;
                        continue;
                    }
                    int run = 1;
                    while (x + run < ow && columns[x + run] == c + run) run++;
                    inRow.Slice(c, run).CopyTo(outRow.Slice(x, run));
                    x += run;
                }
            }
        }
    }

    /// <summary>Mirrors every row of <paramref name="planes"/> planes of h×w elements: dst[p, y, x] = src[p, y, w − 1 − x].</summary>
    public static void FlipRows<T>(ReadOnlySpan<T> src, int planes, int h, int w, Span<T> dst) where T : unmanaged
    {
        int rows = planes * h;
        for (int r = 0; r < rows; r++)
        {
            Span<T> row = dst.Slice(r * w, w);
            src.Slice(r * w, w).CopyTo(row);
            row.Reverse();
        }
    }

    /// <summary>
    /// Resamples <paramref name="planes"/> planes of h×w elements through an inverse affine map, as torchvision's
    /// tensor <c>affine</c>/<c>rotate</c> (<c>grid_sample</c>, <c>align_corners=False</c>, zero padding, then the
    /// fill through a mask). Output pixel (x, y), in coordinates centred on the image (u = x − (w − 1)/2,
    /// v = y − (h − 1)/2), reads the input at (m0·u + m1·v + m2, m3·u + m4·v + m5) in the same centred
    /// coordinates. Nearest rounds half to even and takes <paramref name="fill"/> outside the image. Bilinear sums
    /// the four neighbours inside the image times their weights (v) and the weights inside (s), and gives
    /// v·s + (1 − s)·fill: torchvision's blend of the zero-padded sample with the sampled mask, which dims a
    /// one-pixel border where the image meets the outside. Without <paramref name="blend"/> (torchvision's
    /// functional <c>fill=None</c>) bilinear gives v alone and nearest 0 outside.
    /// </summary>
    public static void Affine<T>(ReadOnlySpan<T> src, int planes, int h, int w, Span<T> dst, ReadOnlySpan<double> m, bool bilinear, T fill, bool blend = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double cx = (w - 1) * 0.5, cy = (h - 1) * 0.5;
        int n = h * w;
        for (int y = 0; y < h; y++)
        {
            double v = y - cy;
            for (int x = 0; x < w; x++)
            {
                double u = x - cx;
                double sx = m[0] * u + m[1] * v + m[2] + cx;
                double sy = m[3] * u + m[4] * v + m[5] + cy;
                int o = y * w + x;
                if (!bilinear)
                {
                    double rx = Math.Round(sx), ry = Math.Round(sy); // nearbyint: half to even
                    bool inside = rx >= 0 && rx < w && ry >= 0 && ry < h;
                    int s = inside ? (int)ry * w + (int)rx : 0;
                    T outside = blend ? fill : T.Zero;
                    for (int p = 0; p < planes; p++)
                        dst[p * n + o] = inside ? src[p * n + s] : outside;
                    continue;
                }
                double fx = Math.Floor(sx), fy = Math.Floor(sy);
                double ax = sx - fx, ay = sy - fy;
                long x0 = (long)fx, y0 = (long)fy;
                bool x0In = x0 >= 0 && x0 < w, x1In = x0 + 1 >= 0 && x0 + 1 < w;
                bool y0In = y0 >= 0 && y0 < h, y1In = y0 + 1 >= 0 && y0 + 1 < h;
                double w00 = x0In && y0In ? (1 - ax) * (1 - ay) : 0;
                double w01 = x1In && y0In ? ax * (1 - ay) : 0;
                double w10 = x0In && y1In ? (1 - ax) * ay : 0;
                double w11 = x1In && y1In ? ax * ay : 0;
                double mask = w00 + w01 + w10 + w11;
                int i00 = (int)Math.Clamp(y0, 0, h - 1) * w + (int)Math.Clamp(x0, 0, w - 1);
                int i01 = (int)Math.Clamp(y0, 0, h - 1) * w + (int)Math.Clamp(x0 + 1, 0, w - 1);
                int i10 = (int)Math.Clamp(y0 + 1, 0, h - 1) * w + (int)Math.Clamp(x0, 0, w - 1);
                int i11 = (int)Math.Clamp(y0 + 1, 0, h - 1) * w + (int)Math.Clamp(x0 + 1, 0, w - 1);
                double fillPart = (1 - mask) * double.CreateTruncating(fill);
                if (!blend) (mask, fillPart) = (1, 0);
                for (int p = 0; p < planes; p++)
                {
                    int b = p * n;
                    double value = w00 * double.CreateTruncating(src[b + i00]) + w01 * double.CreateTruncating(src[b + i01])
                                 + w10 * double.CreateTruncating(src[b + i10]) + w11 * double.CreateTruncating(src[b + i11]);
                    dst[b + o] = T.CreateTruncating(value * mask + fillPart);
                }
            }
        }
    }

    /// <summary>y = (x − mean) / std over one plane (the order torchvision's <c>sub_(mean).div_(std)</c> rounds in).</summary>
    public static void Normalize<T>(ReadOnlySpan<T> x, Span<T> y, T mean, T std) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Subtract(x, mean, y);
        TensorPrimitives.Divide<T>(y, std, y);
    }

    /// <summary>
    /// Interleaved bytes [pixels, channels] (a decoded image's rows, height·width pixels) to float planes
    /// [channels, pixels] scaled to [0, 1]: dst[c·pixels + p] = src[p·channels + c] / 255, as torchvision's ToTensor.
    /// </summary>
    public static void BytesToPlanes(ReadOnlySpan<byte> src, int pixels, int channels, Span<float> dst)
    {
        if (channels == 1)
        {
            for (int p = 0; p < pixels; p++) dst[p] = src[p] / 255f;
            return;
        }
        for (int c = 0; c < channels; c++)
        {
            Span<float> plane = dst.Slice(c * pixels, pixels);
            for (int p = 0, s = c; p < pixels; p++, s += channels) plane[p] = src[s] / 255f;
        }
    }
}
