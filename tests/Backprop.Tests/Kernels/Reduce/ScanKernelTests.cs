using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Tests.Kernels.Reduce;

/// <summary>
/// The running-sum kernel against its element-by-element reference (every row length 0..40 around the 2-, 4- and
/// 8-lane blocks and a long one, forward and reversed, contiguous or strided by inner, float32/float64/int64), and the product
/// kernels against direct products, zeros included.
/// </summary>
[Trait("Category", "Kernels")]
public class ScanKernelTests
{
    private static double[] Data(int length, int seed, bool zeros = false)
    {
        var g = new Generator((ulong)seed);
        var d = new double[length];
        for (int i = 0; i < length; i++) d[i] = zeros && i % 5 == 2 ? 0 : Math.Round(3 * g.NextNormal(), 3);
        return d;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CumSum_MatchesReference(bool reverse)
    {
        // inner 13: the float32 accumulator's 8- and 4-float blocks plus a tail; n 1001: long rows at every width
        foreach (int inner in new[] { 1, 3, 13 })
            foreach (int n in Enumerable.Range(0, 41).Append(1001))
            {
                int outer = 2, count = outer * n * inner;
                double[] d = Data(count, n + 100 * inner);
                // int64 and float32 (double accumulator, rounded once per element) must be exact; float64 reorders within a 4-lane block.
                long[] l = Array.ConvertAll(d, v => (long)Math.Round(v * 1000));
                long[] ly = new long[count], lr = new long[count];
                CumSumKernel.Run<long>(l, outer, n, inner, ly, reverse);
                CumSumKernel.Reference<long>(l, outer, n, inner, lr, reverse);
                Assert.Equal(lr, ly);
                float[] f = Array.ConvertAll(d, v => (float)v);
                float[] fy = new float[count], fr = new float[count];
                CumSumKernel.Run<float>(f, outer, n, inner, fy, reverse);
                CumSumKernel.Reference<float>(f, outer, n, inner, fr, reverse);
                for (int i = 0; i < count; i++) Assert.True(fr[i] == fy[i] || Math.Abs(fr[i] - fy[i]) <= 1e-6 * Math.Abs(fr[i]), $"float n {n} inner {inner} i {i}: {fr[i]} vs {fy[i]}");
                double[] dy = new double[count], dr = new double[count];
                CumSumKernel.Run<double>(d, outer, n, inner, dy, reverse);
                CumSumKernel.Reference<double>(d, outer, n, inner, dr, reverse);
                for (int i = 0; i < count; i++) Assert.True(Math.Abs(dr[i] - dy[i]) <= 1e-12 * (1 + Math.Abs(dr[i])), $"double n {n} inner {inner} i {i}: {dr[i]} vs {dy[i]}");
            }
    }

    private static void Near(double expected, double actual)
        => Assert.True(Math.Abs(expected - actual) <= 1e-9 * (1 + Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void ProductKernels_MatchDirectProducts_WithZeros()
    {
        foreach (int inner in new[] { 1, 3 })
            for (int n = 0; n <= 9; n++)
            {
                int outer = 2, count = outer * n * inner;
                double[] x = Data(count, 7 * n + inner, zeros: true);
                double[] dyRows = Data(outer * inner, n + 50);
                var prod = new double[outer * inner];
                ProdKernels.Prod<double>(x, outer, n, inner, prod);
                var dx = new double[count];
                ProdKernels.ProdBackward<double>(x, dyRows, outer, n, inner, dx);
                var cum = new double[count];
                ProdKernels.CumProd<double>(x, outer, n, inner, cum);
                double[] dyFull = Data(count, n + 70);
                var dcum = new double[count];
                ProdKernels.CumProdBackward<double>(x, dyFull, outer, n, inner, dcum);
                for (int o = 0; o < outer; o++)
                    for (int i = 0; i < inner; i++)
                    {
                        double p = 1;
                        for (int r = 0; r < n; r++)
                        {
                            p *= x[(o * n + r) * inner + i];
                            Near(p, cum[(o * n + r) * inner + i]);
                        }
                        Near(p, prod[o * inner + i]);
                        for (int r = 0; r < n; r++)
                        {
                            double others = 1, chain = 0;
                            for (int s = 0; s < n; s++) if (s != r) others *= x[(o * n + s) * inner + i];
                            Near(dyRows[o * inner + i] * others, dx[(o * n + r) * inner + i]);
                            for (int j = r; j < n; j++)
                            {
                                double term = dyFull[(o * n + j) * inner + i];
                                for (int s = 0; s <= j; s++) if (s != r) term *= x[(o * n + s) * inner + i];
                                chain += term;
                            }
                            Near(chain, dcum[(o * n + r) * inner + i]);
                        }
                    }
            }
    }
}
