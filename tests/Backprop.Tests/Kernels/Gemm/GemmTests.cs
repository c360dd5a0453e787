using Backprop.Kernels.Gemm;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Gemm;

[Trait("Category", "Kernels")]
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class GemmTests
{
    // Tiles are 8×32 / 6×16 / 6×8 / 4×4, KC = 256 (float) / 128 (double), MC = 192 / 144 / 128,
    // NC = 2048 / 1024: the sizes below cross each of these boundaries and hit every edge tile.
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 0, 0, 0 }, { 0, 5, 3 }, { 4, 0, 3 }, { 3, 4, 0 },
        { 1, 1, 1 }, { 1, 1, 7 }, { 1, 33, 1 }, { 9, 1, 5 }, { 1, 40, 300 },
        { 2, 3, 4 }, { 5, 7, 3 }, { 7, 15, 9 }, { 8, 32, 8 }, { 9, 33, 17 }, { 13, 31, 30 },
        { 17, 65, 129 }, { 24, 48, 256 }, { 25, 50, 257 }, { 6, 16, 513 },
        { 129, 17, 33 }, { 193, 70, 20 }, { 200, 9, 130 }, { 3, 1025, 6 }, { 2, 2049, 5 }, { 4, 2100, 3 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float32_AllTransposes_MatchReference(int m, int n, int k)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                Check<float>(ta, tb, m, n, k, 1, 0, pad: 0, seed: m * 31 + n * 7 + k);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float64_AllTransposes_MatchReference(int m, int n, int k)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                Check<double>(ta, tb, m, n, k, 1, 0, pad: 0, seed: m * 31 + n * 7 + k);
    }

    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(0.5, -2.0)]
    [InlineData(-1.5, 0.25)]
    [InlineData(0.0, 3.0)]
    [InlineData(2.0, 0.0)]
    public void AlphaBeta_AndSubMatrixStrides(double alpha, double beta)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                Check<float>(ta, tb, 19, 37, 21, alpha, beta, pad: 3, seed: 5);
                Check<float>(ta, tb, 1, 37, 21, alpha, beta, pad: 3, seed: 9);   // one row: GEMV path
                Check<float>(ta, tb, 19, 1, 21, alpha, beta, pad: 2, seed: 10);  // one column
                Check<double>(ta, tb, 1, 1, 40, alpha, beta, pad: 1, seed: 14);
                Check<float>(ta, tb, 70, 90, 300, alpha, beta, pad: 11, seed: 6);
                Check<double>(ta, tb, 19, 37, 21, alpha, beta, pad: 3, seed: 7);
                Check<double>(ta, tb, 30, 20, 140, alpha, beta, pad: 5, seed: 8);
            }
    }

    [Fact]
    public void BetaZero_IgnoresNaNInC()
    {
        float[] a = [1, 2, 3, 4], b = [5, 6, 7, 8];
        float[] c = [float.NaN, float.NaN, float.NaN, float.NaN];
        GemmKernel.Multiply(false, false, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal([19f, 22f, 43f, 50f], c);
    }

    [Fact]
    public void ZeroDepth_ScalesC()
    {
        double[] c = [1, 2, 3, 4];
        GemmKernel.Multiply(false, false, 2, 2, 0, 1.0, ReadOnlySpan<double>.Empty, 0, ReadOnlySpan<double>.Empty, 2, 3.0, c, 2);
        Assert.Equal([3.0, 6, 9, 12], c);
    }

    [Fact]
    public void ShortSpan_ThrowsNamingOperand()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            GemmKernel.Multiply(false, false, 3, 3, 3, 1f, new float[8], 3, new float[9], 3, 0f, new float[9], 3));
        Assert.Contains("A", e.Message);
        Assert.Contains("9", e.Message);
        Assert.Throws<ArgumentException>(() =>
            GemmKernel.Multiply(false, true, 2, 2, 3, 1f, new float[6], 2, new float[6], 3, 0f, new float[4], 2));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Threaded_MatchesReference(int threads)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = threads;
            // Both above GemmKernel.ParallelThreshold; the first splits N, the second M.
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    Check<float>(ta, tb, 65, 290, 70, 1, 0, pad: 0, seed: 11);
                    Check<float>(ta, tb, 301, 40, 100, 0.5, 2, pad: 2, seed: 12);
                    Check<double>(ta, tb, 120, 130, 80, 1, 1, pad: 1, seed: 13);
                }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Threaded_SeveralDepthAndColumnBlocks_MatchesReference(int threads)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = threads;
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    // k over KC: several packed-B blocks, so the two shared buffers alternate.
                    Check<float>(ta, tb, 150, 90, 600, 1, 0, pad: 1, seed: 21);
                    Check<double>(ta, tb, 70, 50, 300, 0.5, 1, pad: 0, seed: 22);
                    // n over NC: a second column block.
                    Check<float>(ta, tb, 40, 2100, 20, 1, 0.5, pad: 0, seed: 23);
                    // Too few rows to share: split over columns instead.
                    Check<float>(ta, tb, 12, 3000, 50, 1, 0, pad: 2, seed: 24);
                    // Fewer row tiles than threads for some members.
                    Check<float>(ta, tb, 17, 40, 2000, 1, 0, pad: 0, seed: 25);
                }
            // Over a hundred depth blocks: the progress counters no longer fit on the stack.
            Check<float>(false, true, 40, 40, 33000, 1, 0, pad: 0, seed: 26);
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Theory]
    [InlineData(300, 200, 700)]
    [InlineData(12, 3000, 50)]
    [InlineData(129, 257, 513)]
    public void Threaded_IsBitIdenticalToOneThread(int m, int n, int k)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            var rng = new Random(m + n + k);
            float[] a = Fill(rng, m * k), b = Fill(rng, k * n);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3, 2 })
            {
                Parallelism.ThreadCount = threads;
                var c = new float[m * n];
                GemmKernel.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n);
                if (first is null) first = c;
                else Assert.True(first.AsSpan().SequenceEqual(c), $"{threads} threads differ from 1 thread");
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    /// <summary>
    /// A short C (all rows in one block of A, as a Linear layer's batch) is split by columns over the threads, each
    /// range packing its own B: every transpose, several depth blocks, accumulation into C and the fused bias + ReLU
    /// give the same bits as one thread, and agree with the reference.
    /// </summary>
    [Theory]
    [InlineData(128, 512, 784)]
    [InlineData(64, 136, 3136)]
    [InlineData(37, 300, 100)]
    public void ShortC_SplitByColumns_IsBitIdenticalToOneThread(int m, int n, int k)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            var rng = new Random(m * 7 + n + k);
            float[] a = Fill(rng, m * k), b = Fill(rng, k * n), bias = Fill(rng, n), c0 = Fill(rng, m * n);
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    float[]? first = null;
                    foreach (int threads in new[] { 1, 2, 3 })
                    {
                        Parallelism.ThreadCount = threads;
                        var c = (float[])c0.Clone();
                        GemmKernel.Multiply(ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 1f, c, n, bias, relu: true);
                        if (first is null)
                        {
                            first = c;
                            for (int i = 0; i < m; i += 9)
                                for (int j = 0; j < n; j += 7)
                                {
                                    double sum = 0;
                                    for (int p = 0; p < k; p++)
                                        sum += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                                    double want = Math.Max(0.5 * sum + c0[i * n + j] + bias[j], 0);
                                    Assert.True(Math.Abs(c[i * n + j] - want) <= 1e-4 * (1 + Math.Abs(want)),
                                        $"ta={ta} tb={tb} C[{i},{j}] = {c[i * n + j]}, want {want}");
                                }
                        }
                        else Assert.True(first.AsSpan().SequenceEqual(c), $"ta={ta} tb={tb}: {threads} threads differ from 1 thread");
                    }
                }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Fact]
    public void Batched_ParallelOverSmallProducts_MatchesReference()
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = 2;
            const int batch = 5, m = 7, n = 9, k = 6;
            var rng = new Random(3);
            float[] a = Fill(rng, batch * m * k), b = Fill(rng, k * n), c = new float[batch * m * n];
            int[] aOff = [0, 42, 84, 126, 168], bOff = [0, 0, 0, 0, 0], cOff = [0, 63, 126, 189, 252];
            GemmKernel.MultiplyBatched(false, false, m, n, k, 1f, a, aOff, k, b, bOff, n, 0f, c, cOff, n);
            for (int t = 0; t < batch; t++)
            {
                var (expected, mag) = ReferenceGemm.Multiply(false, false, m, n, k, 1,
                    ToDouble(a.AsSpan(aOff[t], m * k)), k, ToDouble(b), n, 0, new double[m * n], n);
                for (int i = 0; i < m * n; i++)
                    Assert.True(Math.Abs(c[cOff[t] + i] - expected[i]) <= 1e-5 * (mag[i] + 1), $"batch {t} element {i}");
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Fact]
    public void ThreadCount_RejectsZero()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.ThreadCount = 0);
        Assert.Contains("ThreadCount", e.Message);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 1)]
    [InlineData(1000, 1)]
    [InlineData(1000, 64)]
    public void ParallelFor_CoversEveryIndexOnce(int length, int grain)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = 2;
            var hits = new int[length];
            var body = new CountBody { Hits = hits, Grain = grain, Length = length };
            Parallelism.ParallelFor(length, grain, ref body);
            Assert.All(hits, h => Assert.Equal(1, h));
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    private struct CountBody : IRangeBody
    {
        public int[] Hits;
        public int Grain, Length;

        public readonly void Invoke(int start, int end)
        {
            Assert.True(start % Grain == 0 && (end % Grain == 0 || end == Length), $"range [{start}, {end}) not on grain {Grain}");
            for (int i = start; i < end; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    /// <summary>Runs one GEMM of element type T and compares it with the double reference.</summary>
    private static void Check<TElem>(bool ta, bool tb, int m, int n, int k, double alpha, double beta, int pad, int seed)
        where TElem : unmanaged, System.Numerics.IFloatingPointIeee754<TElem>
    {
        var rng = new Random(seed);
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        double[] a = Fill64(rng, Math.Max(aRows * lda, 0)), b = Fill64(rng, Math.Max(bRows * ldb, 0)), c = Fill64(rng, m * ldc);
        if (beta != 0 && c.Length > 0) c[0] = 0.25;
        var (expected, magnitude) = ReferenceGemm.Multiply(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

        TElem[] ca = Convert<TElem>(a), cb = Convert<TElem>(b), cc = Convert<TElem>(c);
        GemmKernel.Multiply(ta, tb, m, n, k, TElem.CreateChecked(alpha), ca, lda, cb, ldb, TElem.CreateChecked(beta), cc, ldc);

        // Error bound of a length-k dot product: about k·u·Σ|a·b| (u = unit roundoff), plus input rounding.
        double u = typeof(TElem) == typeof(float) ? 6e-8 : 1.2e-16;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++)
            {
                int idx = i * ldc + j;
                double got = double.CreateChecked(cc[idx]);
                if (j >= n)
                {
                    Assert.True(got == double.CreateChecked(TElem.CreateChecked(c[idx])), $"padding C[{i},{j}] was written");
                    continue;
                }
                double tol = (2 * k + 4) * u * magnitude[idx] + 1e-30;
                Assert.True(Math.Abs(got - expected[idx]) <= tol,
                    $"{typeof(TElem).Name} ta={ta} tb={tb} m={m} n={n} k={k} alpha={alpha} beta={beta}: C[{i},{j}] = {got}, expected {expected[idx]} (tol {tol})");
            }
    }

    private static double[] Fill64(Random rng, int count)
    {
        var x = new double[count];
        for (int i = 0; i < count; i++) x[i] = rng.NextDouble() * 2 - 1;
        return x;
    }

    private static float[] Fill(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = x[i];
        return r;
    }

    private static TElem[] Convert<TElem>(double[] x) where TElem : unmanaged, System.Numerics.INumberBase<TElem>
    {
        var r = new TElem[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = TElem.CreateChecked(x[i]);
        return r;
    }
}
