using Backprop.Tensors;

namespace Backprop.Tests.Support;

/// <summary>Naive reference implementations for convolution tests (direct loops, float64).</summary>
internal static class ConvReference
{
    /// <summary>
    /// Direct 2-D cross-correlation: x [N, C, H, W], w [O, C/groups, KH, KW], b [O] or null;
    /// returns the [N, O, OH, OW] values row-major.
    /// </summary>
    public static double[] Conv2d(double[] x, int[] xs, double[] w, int[] ws, double[]? b,
                                  int sh, int sw, int ph, int pw, int dh, int dw, int groups, out int[] ys)
    {
        int n = xs[0], c = xs[1], h = xs[2], wd = xs[3];
        int o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
        int og = o / groups;
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
        int ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        ys = [n, o, oh, ow];
        var y = new double[n * o * oh * ow];
        for (int i = 0; i < n; i++)
        for (int oc = 0; oc < o; oc++)
        {
            int grp = oc / og;
            for (int yh = 0; yh < oh; yh++)
            for (int yw = 0; yw < ow; yw++)
            {
                double acc = b?[oc] ?? 0;
                for (int ic = 0; ic < cg; ic++)
                for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++)
                {
                    int ih = yh * sh - ph + u * dh, iw = yw * sw - pw + v * dw;
                    if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                    int cin = grp * cg + ic;
                    acc += x[((i * c + cin) * h + ih) * wd + iw] * w[((oc * cg + ic) * kh + u) * kw + v];
                }
                y[((i * o + oc) * oh + yh) * ow + yw] = acc;
            }
        }
        return y;
    }

    /// <summary>
    /// Gradients of <see cref="Conv2d"/> by direct loops: given dy [N, O, OH, OW], returns dx [N, C, H, W],
    /// dw [O, C/groups, KH, KW] and db [O], each row-major.
    /// </summary>
    public static (double[] Dx, double[] Dw, double[] Db) Conv2dBackward(double[] x, int[] xs, double[] w, int[] ws, double[] dy,
                                                                         int sh, int sw, int ph, int pw, int dh, int dw, int groups)
    {
        int n = xs[0], c = xs[1], h = xs[2], wd = xs[3];
        int o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
        int og = o / groups;
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
        int ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        var gx = new double[x.Length];
        var gw = new double[w.Length];
        var gb = new double[o];
        for (int i = 0; i < n; i++)
        for (int oc = 0; oc < o; oc++)
        {
            int grp = oc / og;
            for (int yh = 0; yh < oh; yh++)
            for (int yw = 0; yw < ow; yw++)
            {
                double g = dy[((i * o + oc) * oh + yh) * ow + yw];
                gb[oc] += g;
                for (int ic = 0; ic < cg; ic++)
                for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++)
                {
                    int ih = yh * sh - ph + u * dh, iw = yw * sw - pw + v * dw;
                    if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                    int xi = ((i * c + grp * cg + ic) * h + ih) * wd + iw, wi = ((oc * cg + ic) * kh + u) * kw + v;
                    gx[xi] += g * w[wi];
                    gw[wi] += g * x[xi];
                }
            }
        }
        return (gx, gw, gb);
    }

    /// <summary>Deterministic test values scale·sin(a·i + b), i = 0, 1, ...; the same formula produced the PyTorch literals.</summary>
    public static Tensor Seq(int[] shape, double a, double b, double scale = 1.0, DType dtype = DType.Float64)
    {
        int n = 1;
        foreach (int s in shape) n *= s;
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = scale * Math.Sin(a * i + b);
        Tensor t = Tensor.FromArray(v, new Shape(shape));
        return dtype == DType.Float64 ? t : t.To(dtype);
    }
}
