using Backprop.Kernels.Norm;
using Backprop.Tensors;

namespace Backprop.Tests.Kernels.Norm;

[Trait("Category", "Kernels")]
public class NormKernelTests
{
    private const int MaxLength = 3 * 16 + 1; // three Vector512<float> widths + 1

    private static double[] Values(int n, int seed)
    {
        var g = new Generator((ulong)seed);
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = 2 * g.NextNormal() + 0.5;
        return v;
    }

    [Fact]
    public void LayerNormRows_MatchesScalarReference_EveryLength()
    {
        for (int d = 1; d <= MaxLength; d++)
        {
            const int rows = 3;
            double[] x = Values(rows * d, d), w = Values(d, d + 100), b = Values(d, d + 200);
            var y = new double[rows * d];
            var mean = new double[rows];
            var rstd = new double[rows];
            NormKernels.LayerNormRows<double>(x, rows, d, w, b, 1e-5, y, mean, rstd);
            var yf = new float[rows * d];
            var meanF = new float[rows];
            var rstdF = new float[rows];
            NormKernels.LayerNormRows<float>(Array.ConvertAll(x, v => (float)v), rows, d, Array.ConvertAll(w, v => (float)v),
                Array.ConvertAll(b, v => (float)v), 1e-5f, yf, meanF, rstdF);
            for (int r = 0; r < rows; r++)
            {
                double m = 0, v = 0;
                for (int i = 0; i < d; i++) m += x[r * d + i];
                m /= d;
                for (int i = 0; i < d; i++) v += (x[r * d + i] - m) * (x[r * d + i] - m);
                double rs = 1 / Math.Sqrt(v / d + 1e-5);
                Assert.Equal(m, mean[r], 1e-12);
                Assert.Equal(rs, rstd[r], 1e-10);
                for (int i = 0; i < d; i++)
                {
                    double expected = (x[r * d + i] - m) * rs * w[i] + b[i];
                    Assert.Equal(expected, y[r * d + i], 1e-10);
                    Assert.True(Math.Abs(expected - yf[r * d + i]) < 1e-4, $"float32, d {d}: expected {expected}, got {yf[r * d + i]}");
                }
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ChannelMeanVarAndAffine_MatchScalarReference_EveryLength(bool perPixel)
    {
        for (int len = 0; len <= MaxLength; len++)
        {
            // perPixel: [n, c, s] with s = len; otherwise [n, c] with c = len (the channel-vectorised path).
            int n = 3, c = perPixel ? 2 : len, s = perPixel ? len : 1;
            double[] x = Values(n * c * s, len);
            var mean = new double[c];
            var var = new double[c];
            var scratch = new double[x.Length];
            NormKernels.ChannelMeanVar<double>(x, n, c, s, mean, var, scratch);
            double[] scale = Values(c, 7), shift = Values(c, 8);
            var y = new double[x.Length];
            NormKernels.ChannelAffine<double>(x, n, c, s, scale, shift, y);
            for (int ch = 0; ch < c && s > 0; ch++)
            {
                double m = 0, v = 0;
                for (int i = 0; i < n; i++) for (int j = 0; j < s; j++) m += x[(i * c + ch) * s + j];
                m /= n * s;
                for (int i = 0; i < n; i++) for (int j = 0; j < s; j++) v += Math.Pow(x[(i * c + ch) * s + j] - m, 2);
                Assert.Equal(m, mean[ch], 1e-12);
                Assert.Equal(v / (n * s), var[ch], 1e-12);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < s; j++)
                    {
                        int at = (i * c + ch) * s + j;
                        Assert.Equal(x[at] * scale[ch] + shift[ch], y[at], 1e-12);
                    }
            }
        }
    }

    [Fact]
    public void LayerNormBackwardRows_MatchesScalarReference_EveryLength()
    {
        for (int d = 1; d <= MaxLength; d++)
        {
            const int rows = 2;
            double[] x = Values(rows * d, d), w = Values(d, d + 1), dy = Values(rows * d, d + 2);
            var y = new double[rows * d];
            var mean = new double[rows];
            var rstd = new double[rows];
            NormKernels.LayerNormRows<double>(x, rows, d, w, default, 1e-5, y, mean, rstd);
            var dx = new double[rows * d];
            var dw = new double[d];
            var db = new double[d];
            NormKernels.LayerNormBackwardRows<double>(dy, x, rows, d, w, mean, rstd, dx, dw, db);
            var edw = new double[d];
            var edb = new double[d];
            for (int r = 0; r < rows; r++)
            {
                double sg = 0, sgx = 0;
                for (int i = 0; i < d; i++)
                {
                    double xh = (x[r * d + i] - mean[r]) * rstd[r], g = dy[r * d + i] * w[i];
                    sg += g;
                    sgx += g * xh;
                    edw[i] += dy[r * d + i] * xh;
                    edb[i] += dy[r * d + i];
                }
                for (int i = 0; i < d; i++)
                {
                    double xh = (x[r * d + i] - mean[r]) * rstd[r], g = dy[r * d + i] * w[i];
                    Assert.Equal(rstd[r] * (g - sg / d - xh * sgx / d), dx[r * d + i], 1e-10);
                }
            }
            for (int i = 0; i < d; i++)
            {
                Assert.Equal(edw[i], dw[i], 1e-10);
                Assert.Equal(edb[i], db[i], 1e-10);
            }
        }
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void BatchNormBackward_MatchesScalarReference_EveryLength(bool perPixel, bool training)
    {
        for (int len = 1; len <= MaxLength; len++)
        {
            int n = 3, c = perPixel ? 2 : len, s = perPixel ? len : 1, count = n * s;
            double[] x = Values(n * c * s, len), dy = Values(n * c * s, len + 5), w = Values(c, 3);
            double[] mean = Values(c, 4), rstd = Array.ConvertAll(Values(c, 6), v => 0.5 + Math.Abs(v));
            var dx = new double[x.Length];
            var dw = new double[c];
            var db = new double[c];
            NormKernels.BatchNormBackward<double>(dy, x, n, c, s, w, mean, rstd, training, dx, dw, db, new double[5 * c]);
            for (int ch = 0; ch < c; ch++)
            {
                double sdy = 0, sdyx = 0;
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < s; j++)
                    {
                        int at = (i * c + ch) * s + j;
                        sdy += dy[at];
                        sdyx += dy[at] * (x[at] - mean[ch]) * rstd[ch];
                    }
                Assert.Equal(sdyx, dw[ch], 1e-10);
                Assert.Equal(sdy, db[ch], 1e-10);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < s; j++)
                    {
                        int at = (i * c + ch) * s + j;
                        double xh = (x[at] - mean[ch]) * rstd[ch];
                        double expected = training ? w[ch] * rstd[ch] * (dy[at] - sdy / count - xh * sdyx / count) : w[ch] * rstd[ch] * dy[at];
                        Assert.Equal(expected, dx[at], 1e-10);
                    }
            }
        }
    }
}
