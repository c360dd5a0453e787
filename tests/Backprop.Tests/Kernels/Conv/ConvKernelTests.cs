using Backprop.Kernels;

namespace Backprop.Tests.Kernels;

[Trait("Category", "Kernels")]
public class ConvKernelTests
{
    private const int MaxWidth = 3 * 16 + 1; // three Vector512<float> widths + 1

    private static float[] Values(int n, int seed)
    {
        var g = new Generator((ulong)seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)g.NextNormal();
        return v;
    }

    private static float ScalarTap(float[] x, int c, in Window2d g, int ki, int kj, int oh, int ow)
    {
        int ih = oh * g.SH - g.PH + ki * g.DH, iw = ow * g.SW - g.PW + kj * g.DW;
        return ih < 0 || ih >= g.H || iw < 0 || iw >= g.W ? 0f : x[(c * g.H + ih) * g.W + iw];
    }

    public static TheoryData<int, int, int, int> Windows => new()
    {
        // kernel, stride, padding, dilation (same in both directions)
        { 3, 1, 1, 1 }, { 3, 2, 1, 1 }, { 2, 1, 0, 2 }, { 3, 3, 2, 1 }, { 1, 1, 0, 1 }, { 4, 2, 3, 2 },
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public void Unfold_And_FoldAdd_MatchScalarReference_EveryWidth(int k, int s, int p, int d)
    {
        int eff = d * (k - 1) + 1;
        for (int w = Math.Max(1, eff - 2 * p); w <= MaxWidth; w++)
        {
            int h = Math.Max(1, eff - 2 * p) + 2, channels = 2;
            int oh = (h + 2 * p - eff) / s + 1, ow = (w + 2 * p - eff) / s + 1;
            var g = new Window2d(h, w, k, k, s, s, p, p, d, d, oh, ow);
            float[] x = Values(channels * h * w, w);
            int rows = channels * k * k, l = oh * ow;
            var col = new float[rows * l];
            col.AsSpan().Fill(float.NaN); // every entry must be written
            Im2Col.Unfold<float>(x, channels, g, col);
            for (int c = 0, r = 0; c < channels; c++)
                for (int ki = 0; ki < k; ki++)
                    for (int kj = 0; kj < k; kj++, r++)
                        for (int o = 0; o < l; o++)
                            Assert.Equal(ScalarTap(x, c, g, ki, kj, o / ow, o % ow), col[r * l + o]);

            // FoldAdd is the adjoint: <Unfold(x), col2> == <x, FoldAdd(col2)>, and it accumulates.
            float[] col2 = Values(rows * l, w + 1000);
            var dx = new float[x.Length];
            dx.AsSpan().Fill(1f);
            Im2Col.FoldAdd<float>(col2, channels, g, dx);
            var expected = new double[x.Length];
            for (int c = 0, r = 0; c < channels; c++)
                for (int ki = 0; ki < k; ki++)
                    for (int kj = 0; kj < k; kj++, r++)
                        for (int o = 0; o < l; o++)
                        {
                            int ih = (o / ow) * s - p + ki * d, iw = (o % ow) * s - p + kj * d;
                            if (ih >= 0 && ih < h && iw >= 0 && iw < w) expected[(c * h + ih) * w + iw] += col2[r * l + o];
                        }
            for (int i = 0; i < x.Length; i++)
                Assert.True(Math.Abs(1 + expected[i] - dx[i]) < 1e-4, $"width {w}, element {i}: expected {1 + expected[i]}, got {dx[i]}");
        }
    }

    [Fact]
    public void ValidRange_MatchesBruteForce()
    {
        for (int size = 1; size < 12; size++)
            for (int stride = 1; stride < 4; stride++)
                for (int pad = 0; pad < 4; pad++)
                    for (int off = 0; off < 7; off++)
                    {
                        int outSize = size + 2 * pad; // more outputs than needed: the range must clip
                        Window2d.ValidRange(size, outSize, stride, pad, off, out int lo, out int hi);
                        for (int o = 0; o < outSize; o++)
                        {
                            int i = o * stride - pad + off;
                            Assert.Equal(i >= 0 && i < size, o >= lo && o < hi);
                        }
                    }
    }

    [Fact]
    public void AvgPool_AdjointOfForward_EveryWidth()
    {
        for (int w = 2; w <= MaxWidth; w++)
        {
            var g = new Window2d(3, w, 2, 3, 1, 2, 1, 1, 1, 1, 4, (w + 2 - 3) / 2 + 1);
            float[] x = Values(3 * w, w), dy = Values(g.OH * g.OW, w + 7);
            var y = new float[g.OH * g.OW];
            var dx = new float[x.Length];
            PoolKernels.AvgForward<float>(x, 1, g, false, y);
            PoolKernels.AvgBackwardAdd<float>(dy, 1, g, false, dx);
            double lhs = 0, rhs = 0;
            for (int i = 0; i < y.Length; i++) lhs += (double)y[i] * dy[i];
            for (int i = 0; i < x.Length; i++) rhs += (double)x[i] * dx[i];
            Assert.True(Math.Abs(lhs - rhs) < 1e-4, $"width {w}: <Ax, dy> = {lhs}, <x, Aᵀdy> = {rhs}");
        }
    }
}
