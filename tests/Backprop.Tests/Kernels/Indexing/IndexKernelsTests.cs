using System.Runtime.Intrinsics;
using Backprop.Kernels.Indexing;

namespace Backprop.Tests.Kernels.Indexing;

[Trait("Category", "Kernels")]
public class IndexKernelsTests
{
    // Row lengths 0 .. 3 vector widths + 1 of the widest vector, so every SIMD tail is hit.
    private static readonly int MaxInner = 3 * Vector512<float>.Count + 1;

    private static long[] Indices(Random rng, int n, int size)
    {
        var idx = new long[n];
        for (int i = 0; i < n; i++) idx[i] = rng.Next(size);
        return idx;
    }

    [Fact]
    public void IndexAdd_MatchesScalarReference_AtEveryRowLength()
    {
        var rng = new Random(1);
        const int outer = 2, size = 3;
        for (int inner = 0; inner <= MaxInner; inner++)
        {
            long[] idx = Indices(rng, 5, size); // repeats guaranteed
            float[] src = new float[outer * idx.Length * inner];
            for (int i = 0; i < src.Length; i++) src[i] = (float)rng.NextDouble();
            float[] dst = new float[outer * size * inner];
            for (int i = 0; i < dst.Length; i++) dst[i] = (float)rng.NextDouble();
            float[] expected = (float[])dst.Clone();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < idx.Length; j++)
                    for (int k = 0; k < inner; k++)
                        expected[(o * size + idx[j]) * inner + k] += src[(o * idx.Length + j) * inner + k];
            IndexKernels.IndexAdd<float>(dst, outer, size, inner, idx, src);
            for (int i = 0; i < dst.Length; i++)
                Assert.True(Math.Abs(expected[i] - dst[i]) <= 1e-5f, $"inner {inner}, element {i}: expected {expected[i]}, got {dst[i]}");
        }
    }

    [Fact]
    public void IndexSelect_MatchesScalarReference_AtEveryRowLength()
    {
        var rng = new Random(2);
        const int outer = 2, size = 4;
        for (int inner = 0; inner <= MaxInner; inner++)
        {
            long[] idx = Indices(rng, 6, size);
            double[] src = new double[outer * size * inner];
            for (int i = 0; i < src.Length; i++) src[i] = rng.NextDouble();
            double[] dst = new double[outer * idx.Length * inner];
            IndexKernels.IndexSelect<double>(src, outer, size, inner, idx, dst);
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < idx.Length; j++)
                    for (int k = 0; k < inner; k++)
                        Assert.Equal(src[(o * size + idx[j]) * inner + k], dst[(o * idx.Length + j) * inner + k]);
        }
    }

    [Fact]
    public void GatherThenScatterAdd_MatchScalarReference_AtEveryRowLength()
    {
        var rng = new Random(3);
        for (int inner = 1; inner <= MaxInner; inner++)
        {
            // src [3, inner] gathered along dim 0 with index [4, inner]; then scattered back into [3, inner].
            double[] src = new double[3 * inner];
            for (int i = 0; i < src.Length; i++) src[i] = rng.NextDouble();
            long[] idx = Indices(rng, 4 * inner, 3);
            double[] gathered = new double[4 * inner];
            IndexKernels.Gather(src, 0, [inner, 1], idx, [4, inner], 0, gathered);
            double[] scattered = new double[3 * inner];
            IndexKernels.ScatterAdd<double>(idx, [4, inner], 0, gathered, 0, [inner, 1], scattered, [inner, 1]);
            double[] expected = new double[3 * inner];
            for (int i = 0; i < 4; i++)
                for (int k = 0; k < inner; k++)
                {
                    double v = src[idx[i * inner + k] * inner + k];
                    Assert.Equal(v, gathered[i * inner + k]);
                    expected[idx[i * inner + k] * inner + k] += v;
                }
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], scattered[i], 12);
        }
    }

    [Fact]
    public void Where_MatchesScalarReference_AtEveryRowLength()
    {
        var rng = new Random(4);
        for (int n = 0; n <= MaxInner; n++)
        {
            byte[] mask = new byte[2 * n];
            float[] a = new float[2 * n], b = new float[n];
            for (int i = 0; i < mask.Length; i++) { mask[i] = (byte)rng.Next(2); a[i] = i; }
            for (int i = 0; i < n; i++) b[i] = -i - 1;
            float[] y = new float[2 * n];
            // a is [2, n] contiguous, b [n] broadcast over the rows.
            IndexKernels.Where<float>(mask, a, 0, [n, 1], b, 0, [0, 1], y, [2, n]);
            for (int i = 0; i < y.Length; i++)
                Assert.Equal(mask[i] != 0 ? a[i] : b[i % n], y[i]);
        }
    }

    [Fact]
    public void FirstOutOfRange_FindsNegativeAndTooLarge()
    {
        Assert.Equal(-1, IndexKernels.FirstOutOfRange([0, 2, 1], 3));
        Assert.Equal(1, IndexKernels.FirstOutOfRange([0, 3, -1], 3));
        Assert.Equal(2, IndexKernels.FirstOutOfRange([0, 1, -1], 3));
        Assert.Equal(0, IndexKernels.FirstOutOfRange([long.MinValue], 3));
        Assert.Equal(-1, IndexKernels.FirstOutOfRange([], 0));
    }
}
