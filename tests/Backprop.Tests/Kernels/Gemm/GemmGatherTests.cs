using Backprop.Kernels.Conv;
using Backprop.Kernels.Gemm;
using Backprop.Threading;

namespace Backprop.Tests.Kernels.Gemm;

/// <summary>
/// The GEMM whose B is packed from an offset description (implicit GEMM), against the same product
/// with B stored, and the implicit im2col description against <see cref="Im2Col.Unfold{T}(ReadOnlySpan{T}, int, in Window2d, Span{T}, int)"/>.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public unsafe class GemmGatherTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 0, 0, 0 }, { 0, 5, 3 }, { 4, 0, 3 }, { 3, 4, 0 },
        { 1, 1, 1 }, { 1, 33, 7 }, { 9, 1, 5 }, { 2, 3, 4 }, { 7, 15, 9 }, { 8, 32, 8 }, { 8, 64, 300 },
        { 9, 33, 17 }, { 17, 65, 129 }, { 25, 50, 257 }, { 6, 16, 513 }, { 32, 784, 25 },
        { 64, 784, 800 }, { 129, 70, 300 }, { 3, 1025, 6 }, { 40, 2100, 20 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GatheredB_MatchesStoredB(int m, int n, int k)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.ThreadCount = threads;
                foreach (bool ta in new[] { false, true })
                    foreach (int run in new[] { 0, 3, 9, 14 })
                    {
                        Check<float>(ta, m, n, k, m * 31 + n * 7 + k, threads, run);
                        Check<double>(ta, m, n, k, m * 31 + n * 7 + k + 1, threads, run);
                    }
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    private static void Check<T>(bool transA, int m, int n, int k, int seed, int threads, int run) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        int srcLen = 50 + 3 * (k + n) + 2 * n;
        T[] src = Rand<T>(rng, srcLen), a = Rand<T>(rng, Math.Max(1, m * k)), c0 = Rand<T>(rng, Math.Max(1, m * n));
        int[] rowOff = new int[Math.Max(1, k)], colOff = new int[Math.Max(1, n)];
        for (int p = 0; p < k; p++) rowOff[p] = rng.Next(0, 2 * k + 1);
        // run 0: scattered columns; otherwise runs of that many consecutive offsets (image rows), with gaps
        for (int j = 0; j < n; j++) colOff[j] = run == 0 ? rng.Next(0, n + 50) : j / run * (run + 2) + j % run;
        T[] b = new T[Math.Max(1, k * n)];
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++) b[p * n + j] = src[rowOff[p] + colOff[j]];
        T[] expected = (T[])c0.Clone(), actual = (T[])c0.Clone();
        T alpha = T.CreateTruncating(1.5), beta = T.CreateTruncating(0.5);
        int lda = transA ? m : k;
        fixed (T* pa = a, pb = b, pe = expected, pc = actual, ps = src)
        fixed (int* pr = rowOff, pcol = colOff)
        {
            GemmKernel.Multiply(transA, false, m, n, k, alpha, pa, lda, pb, n, beta, pe, n, parallel: false);
            GemmKernel.MultiplyGathered(transA, m, n, k, alpha, pa, lda, new GemmGatherB<T>(ps, pr, pcol), beta, pc, n, parallel: true);
        }
        // Same panels, same kernel calls: bit-identical to the stored product (which takes a GEMV for one row or column).
        for (int i = 0; i < m * n && m > 1 && n > 1; i++)
            Assert.True(expected[i].Equals(actual[i]), $"{typeof(T).Name} transA={transA} {m}×{n}×{k} threads={threads}: C[{i}] = {actual[i]}, expected {expected[i]}");
        // And close to a plain triple loop.
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += double.CreateTruncating(transA ? a[p * m + i] : a[i * k + p]) * double.CreateTruncating(b[p * n + j]);
                double want = 1.5 * s + 0.5 * double.CreateTruncating(c0[i * n + j]);
                Assert.True(Math.Abs(double.CreateTruncating(actual[i * n + j]) - want) <= 1e-4 * (1 + Math.Abs(want)) * Math.Max(1, k / 16.0));
            }
    }

    private static T[] Rand<T>(Random rng, int count) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var x = new T[count];
        for (int i = 0; i < count; i++) x[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        return x;
    }

    public static TheoryData<int, int, int, int, int, int, int, int, int> Geometries => new()
    {
        // c, h, w, kh, kw, stride, pad, dilation, images
        { 1, 28, 28, 5, 5, 1, 2, 1, 1 },
        { 3, 14, 14, 5, 5, 1, 2, 1, 4 },
        { 2, 7, 5, 3, 2, 2, 1, 1, 3 },
        { 1, 1, 1, 1, 1, 1, 0, 1, 2 },
        { 2, 6, 9, 3, 3, 1, 0, 2, 2 },
        { 3, 5, 4, 2, 3, 3, 2, 1, 1 },
        { 1, 4, 4, 5, 5, 1, 2, 1, 5 },
        { 2, 9, 8, 3, 3, 2, 1, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ImplicitColumns_MatchUnfold(int c, int h, int w, int kh, int kw, int stride, int pad, int dil, int images)
    {
        int effH = dil * (kh - 1) + 1, effW = dil * (kw - 1) + 1;
        int oh = (h + 2 * pad - effH) / stride + 1, ow = (w + 2 * pad - effW) / stride + 1;
        var g = new Window2d(h, w, kh, kw, stride, stride, pad, pad, dil, dil, oh, ow);
        const int groups = 2, n = 6;
        int cTotal = c * groups, plane = h * w, l = oh * ow, k = c * kh * kw;
        var rng = new Random(c * 1000 + h * 10 + images);
        float[] x = Rand<float>(rng, n * cTotal * plane);
        // One workspace per thread: kept as is for the geometry (and any smaller block), set up again for another one.
        var unfold = ImplicitColumns<float>.ForThread(g, c, images);
        Assert.Same(unfold, ImplicitColumns<float>.ForThread(g, c, Math.Max(1, images - 1)));
        fixed (float* px = x)
            foreach (int nb in new[] { images, Math.Max(1, images - 1), images })
                for (int img0 = 0; img0 + nb <= n; img0 += nb)
                    for (int grp = 0; grp < groups; grp++)
                    {
                        int ld = nb * l;
                        var expected = new float[k * ld];
                        for (int i = 0; i < nb; i++)
                            Im2Col.Unfold<float>(x.AsSpan(((img0 + i) * cTotal + grp * c) * plane, c * plane), c, g, expected.AsSpan(i * l), ld);
                        GemmGatherB<float> cols = ImplicitColumns<float>.ForThread(g, c, nb).Columns(px, cTotal, img0, nb, grp);
                        for (int p = 0; p < k; p++)
                            for (int j = 0; j < ld; j++)
                                Assert.Equal(expected[p * ld + j], cols.Src[cols.RowOff[p] + cols.ColOff[j]]);
                    }
    }
}
