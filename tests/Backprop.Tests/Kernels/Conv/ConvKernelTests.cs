using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Tests.Kernels.Conv;

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
            int h = Math.Max(1, eff - 2 * p) + 2;
            int oh = (h + 2 * p - eff) / s + 1, ow = (w + 2 * p - eff) / s + 1;
            CheckUnfoldAndFold(new Window2d(h, w, k, k, s, s, p, p, d, d, oh, ow), channels: 2, seed: w);
        }
    }

    /// <summary>"Same" stride-1 windows take the whole-plane shift path; asymmetric and tall/flat ones too.</summary>
    [Theory]
    [InlineData(5, 5, 2, 2, 1, 1)] [InlineData(3, 5, 1, 2, 1, 1)] [InlineData(5, 3, 0, 1, 1, 1)]
    [InlineData(3, 3, 2, 2, 2, 2)] [InlineData(1, 5, 0, 4, 1, 2)] [InlineData(4, 2, 1, 0, 1, 1)]
    public void Unfold_And_FoldAdd_ShiftPath_MatchScalarReference(int kh, int kw, int ph, int pw, int dh, int dw)
    {
        for (int w = 1; w <= MaxWidth; w += 3)
            for (int h = 1; h <= 9; h += 2)
            {
                int oh = h + 2 * ph - dh * (kh - 1), ow = w + 2 * pw - dw * (kw - 1);
                if (oh < 1 || ow < 1) continue;
                CheckUnfoldAndFold(new Window2d(h, w, kh, kw, 1, 1, ph, pw, dh, dw, oh, ow), channels: 3, seed: 31 * w + h);
            }
    }

    private static void CheckUnfoldAndFold(in Window2d g, int channels, int seed)
    {
        int h = g.H, w = g.W, oh = g.OH, ow = g.OW;
        float[] x = Values(channels * h * w, seed);
        int rows = channels * g.KH * g.KW, l = oh * ow;
        var col = new float[rows * l];
        col.AsSpan().Fill(float.NaN); // every entry must be written
        Im2Col.Unfold<float>(x, channels, g, col);
        for (int c = 0, r = 0; c < channels; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++, r++)
                    for (int o = 0; o < l; o++)
                        Assert.Equal(ScalarTap(x, c, g, ki, kj, o / ow, o % ow), col[r * l + o]);

        // FoldAdd is the adjoint: <Unfold(x), col2> == <x, FoldAdd(col2)>, and it accumulates.
        float[] col2 = Values(rows * l, seed + 1000);
        var expected = new double[x.Length];
        for (int c = 0, r = 0; c < channels; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++, r++)
                    for (int o = 0; o < l; o++)
                    {
                        int ih = (o / ow) * g.SH - g.PH + ki * g.DH, iw = (o % ow) * g.SW - g.PW + kj * g.DW;
                        if (ih >= 0 && ih < h && iw >= 0 && iw < w) expected[(c * h + ih) * w + iw] += col2[r * l + o];
                    }
        var dx = new float[x.Length];
        dx.AsSpan().Fill(1f);
        Im2Col.FoldAdd<float>(col2, channels, g, dx);
        var dx2 = new float[x.Length];
        dx2.AsSpan().Fill(1f);
        Im2Col.FoldAddDestructive<float>((float[])col2.Clone(), channels, g, dx2);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(1 + expected[i] - dx[i]) < 1e-4, $"{g}, element {i}: expected {1 + expected[i]}, got {dx[i]}");
            Assert.True(Math.Abs(1 + expected[i] - dx2[i]) < 1e-4, $"{g}, element {i} (destructive): expected {1 + expected[i]}, got {dx2[i]}");
        }
    }

    /// <summary>Scan order a, b, c, d of a 2×2 window: the first maximum wins, a NaN beats everything and a later NaN beats an earlier one.</summary>
    private static (float Value, int Index) ScanMax(float[] x, int plane, int w, int oh, int ow)
    {
        float best = float.NegativeInfinity;
        int bestIdx = -1;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                int k = (2 * oh + i) * w + 2 * ow + j;
                float v = x[plane + k];
                if (bestIdx < 0 || v > best || float.IsNaN(v)) (best, bestIdx) = (v, k);
            }
        return (best, bestIdx);
    }

    [Fact]
    public void MaxPool2x2_MatchesScan_TiesNaNsAndEveryWidth()
    {
        for (int w = 2; w <= MaxWidth; w++)
            foreach (int h in new[] { 2, 3, 5, 8 })
            {
                const int planes = 3;
                int oh = h / 2, ow = w / 2;
                var g = new Window2d(h, w, 2, 2, 2, 2, 0, 0, 1, 1, oh, ow);
                var gen = new Generator((ulong)(w * 16 + h));
                var x = new float[planes * h * w];
                for (int i = 0; i < x.Length; i++)
                {
                    // small integers make ties common (as zeros after ReLU), with a few NaNs and infinities
                    double u = gen.NextDouble();
                    x[i] = u < 0.05 ? float.NaN : u < 0.08 ? float.NegativeInfinity : u < 0.1 ? float.PositiveInfinity : (float)Math.Floor(gen.NextDouble() * 3);
                }
                var y = new float[planes * oh * ow];
                var idx = new int[y.Length];
                PoolKernels.MaxForward<float>(x, planes, g, y, idx);
                var yd = new double[y.Length];
                var idxd = new int[y.Length];
                PoolKernels.MaxForward<double>(Array.ConvertAll(x, v => (double)v), planes, g, yd, idxd);
                for (int p = 0, o = 0; p < planes; p++)
                    for (int i = 0; i < oh; i++)
                        for (int j = 0; j < ow; j++, o++)
                        {
                            var (v, k) = ScanMax(x, p * h * w, w, i, j);
                            Assert.True(k == idx[o] && v.Equals(y[o]), $"h {h}, w {w}, output {o}: expected {v} at {k}, got {y[o]} at {idx[o]}");
                            Assert.True(k == idxd[o] && ((double)v).Equals(yd[o]), $"double: h {h}, w {w}, output {o}: expected {v} at {k}, got {yd[o]} at {idxd[o]}");
                        }
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
            PoolKernels.AvgForward<float>(x, 1, g, false, 0, y);
            PoolKernels.AvgBackwardAdd<float>(dy, 1, g, false, 0, dx);
            double lhs = 0, rhs = 0;
            for (int i = 0; i < y.Length; i++) lhs += (double)y[i] * dy[i];
            for (int i = 0; i < x.Length; i++) rhs += (double)x[i] * dx[i];
            Assert.True(Math.Abs(lhs - rhs) < 1e-4, $"width {w}: <Ax, dy> = {lhs}, <x, Aᵀdy> = {rhs}");
        }
    }
}
