using Backprop.Kernels.Sorting;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Sorting;

/// <summary>
/// Sort and TopK (full sort and heap paths, one or several threads) against the insertion-sort reference on data
/// full of ties, NaN and ±0; and the order keys.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(ThreadsCollection.Name)]
public class SortKernelTests
{
    private static double[] Data(int length, int seed)
    {
        var g = new Generator((ulong)seed);
        double[] specials = [double.NaN, -0.0, 0.0, double.PositiveInfinity, double.NegativeInfinity];
        var d = new double[length];
        for (int i = 0; i < length; i++) d[i] = i % 7 == 3 ? specials[i / 7 % specials.Length] : Math.Round(2 * g.NextNormal());
        return d;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    public void SortAndTopK_MatchReference(int threads, int seed)
    {
        ThreadsCollection.With(threads, () =>
        {
            foreach ((int outer, int n, int inner) in new[] { (1, 0, 1), (1, 1, 1), (3, 17, 1), (2, 33, 3), (300, 120, 1), (2, 600, 3), (1, 50, 1) })
            {
                double[] x = Data(outer * n * inner, seed + n);
                foreach (bool descending in new[] { false, true })
                    foreach (int k in new[] { n, n / 2, Math.Min(n, 3), 0 })
                    {
                        var v = new double[outer * k * inner];
                        var idx = new long[outer * k * inner];
                        var rv = new double[v.Length];
                        var ri = new long[idx.Length];
                        if (k == n) SortKernel.Sort<double>(x, outer, n, inner, descending, v, idx);
                        else SortKernel.TopK<double>(x, outer, n, inner, k, descending, v, idx);
                        SortKernel.Reference<double>(x, outer, n, inner, k, descending, rv, ri);
                        Assert.Equal(ri, idx);
                        Assert.Equal(rv, v);
                    }
            }
        });
    }

    [Fact]
    public void Keys_OrderValuesAsPyTorch()
    {
        Assert.True(SortKernel.Key(double.NegativeInfinity, false) < SortKernel.Key(-1e300, false));
        Assert.True(SortKernel.Key(-1.0, false) < SortKernel.Key(-0.5, false));
        Assert.Equal(SortKernel.Key(-0.0, false), SortKernel.Key(0.0, false));
        Assert.True(SortKernel.Key(double.MaxValue, false) < SortKernel.Key(double.PositiveInfinity, false));
        Assert.True(SortKernel.Key(double.PositiveInfinity, false) < SortKernel.Key(double.NaN, false));
        Assert.Equal(SortKernel.Key(double.NaN, false), SortKernel.Key(-double.NaN, false));
        Assert.Equal(SortKernel.Key(1.5f, false), SortKernel.Key(1.5, false));
        Assert.True(SortKernel.Key(long.MinValue, false) < SortKernel.Key(-1L, false));
        Assert.True(SortKernel.Key(-1L, false) < SortKernel.Key(0L, false));
        Assert.True(SortKernel.Key(2.0, true) < SortKernel.Key(1.0, true));
        Assert.True(SortKernel.Key(double.NaN, true) < SortKernel.Key(double.PositiveInfinity, true));
    }
}
