using System.Runtime.Intrinsics;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Tests.Kernels.Reduce;

/// <summary>
/// The sum kernel against a scalar float64 reference: every reduced length from 0 to 3 vector
/// widths + 1, with the reduced axis contiguous (inner = 1) or strided by inner, one or several
/// outer blocks, in float32, float64 and int64; and the long float32 path that carries blocks in double.
/// </summary>
[Trait("Category", "Kernels")]
public class SumKernelTests
{
    private static readonly int MaxLength = 3 * Vector512<float>.Count + 1;

    private static double[] Data(int length, int seed)
    {
        var g = new Generator((ulong)seed);
        var d = new double[length];
        for (int i = 0; i < length; i++) d[i] = 3 * g.NextNormal();
        return d;
    }

    /// <summary>y[o, i] = Σ_r x[o, r, i] in float64, and Σ_r |x[o, r, i]| for the error bound.</summary>
    private static (double[] Sum, double[] Magnitude) Reference(double[] x, int outer, int reduce, int inner)
    {
        var sum = new double[outer * inner];
        var magnitude = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int r = 0; r < reduce; r++)
                for (int i = 0; i < inner; i++)
                {
                    double v = x[(o * reduce + r) * inner + i];
                    sum[o * inner + i] += v;
                    magnitude[o * inner + i] += Math.Abs(v);
                }
        return (sum, magnitude);
    }

    /// <summary>The same sums added in float32 in order r = 0, 1, ...: what the strided path computes, bit for bit.</summary>
    private static float[] SequentialFloat(float[] x, int outer, int reduce, int inner)
    {
        var y = new float[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                float s = 0;
                for (int r = 0; r < reduce; r++) s = r == 0 ? x[(o * reduce) * inner + i] : s + x[(o * reduce + r) * inner + i];
                y[o * inner + i] = s;
            }
        return y;
    }

    public static TheoryData<int, int> Layouts()
    {
        var data = new TheoryData<int, int>();
        foreach (int outer in new[] { 1, 3 })
            foreach (int inner in new[] { 1, 2, 5, 17, 40, 83, 4100 })
                data.Add(outer, inner);
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void SumMiddle_EveryLength_MatchesFloat64Reference(int outer, int inner)
    {
        for (int reduce = 0; reduce <= MaxLength; reduce++)
        {
            double[] x = Data(outer * reduce * inner, reduce * 100 + inner);
            string what = $"outer {outer}, reduce {reduce}, inner {inner}";

            var (expected, magnitude) = Reference(x, outer, reduce, inner);
            var yd = new double[outer * inner];
            Array.Fill(yd, double.NaN);
            SumKernel.SumMiddle<double>(x, outer, reduce, inner, yd);
            for (int k = 0; k < yd.Length; k++)
                Assert.True(Math.Abs(yd[k] - expected[k]) <= (reduce + 1) * 1.2e-16 * magnitude[k], $"float64 {what}, output {k}: {yd[k]} vs {expected[k]}");

            float[] xf = Array.ConvertAll(x, v => (float)v);
            var (expectedF, magnitudeF) = Reference(Array.ConvertAll(xf, v => (double)v), outer, reduce, inner);
            var yf = new float[outer * inner];
            Array.Fill(yf, float.NaN);
            SumKernel.SumMiddle<float>(xf, outer, reduce, inner, yf);
            for (int k = 0; k < yf.Length; k++)
                Assert.True(Math.Abs(yf[k] - expectedF[k]) <= (reduce + 1) * 6e-8 * magnitudeF[k] + 1e-30, $"float32 {what}, output {k}: {yf[k]} vs {expectedF[k]}");
            if (inner > 1)
                Assert.Equal(SequentialFloat(xf, outer, reduce, inner), yf);

            long[] xl = Array.ConvertAll(x, v => (long)Math.Round(v * 1000));
            var yl = new long[outer * inner];
            Array.Fill(yl, long.MinValue);
            SumKernel.SumMiddle<long>(xl, outer, reduce, inner, yl);
            var (expectedL, _) = Reference(Array.ConvertAll(xl, v => (double)v), outer, reduce, inner);
            Assert.Equal(Array.ConvertAll(expectedL, v => (long)v), yl);
        }
    }

    [Fact]
    public void SumMiddle_NoOuterBlocks_WritesNothing()
    {
        var y = new float[3];
        Array.Fill(y, -1f);
        SumKernel.SumMiddle<float>([], 0, 5, 3, y.AsSpan(0, 0));
        Assert.Equal([-1f, -1f, -1f], y);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(3 * 4096 + 5)]
    [InlineData(100_000)]
    public void SumContiguous_LongRows_MatchFloat64Reference(int length)
    {
        double[] x = Data(length, length + 7);
        float[] xf = Array.ConvertAll(x, v => (float)v);
        double expected = 0, magnitude = 0;
        foreach (float v in xf) { expected += v; magnitude += Math.Abs(v); }
        float got = SumKernel.SumContiguous<float>(xf);
        // Blocks of 4096 summed in float32, carried in double: the error grows with the block, not the row.
        Assert.True(Math.Abs(got - expected) <= (Math.Min(length, 4096) + 1) * 6e-8 * magnitude + 6e-8 * Math.Abs(expected),
                    $"length {length}: {got} vs {expected}");
        double gotD = SumKernel.SumContiguous<double>(x);
        Assert.True(Math.Abs(gotD - x.Sum()) <= (length + 1) * 1.2e-16 * x.Sum(Math.Abs), $"float64 length {length}: {gotD} vs {x.Sum()}");
    }
}
