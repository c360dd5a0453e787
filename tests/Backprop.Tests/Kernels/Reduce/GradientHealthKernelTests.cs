using System.Runtime.Intrinsics;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Tests.Kernels.Reduce;

/// <summary>The gradient monitor's kernels (squared norms, dead units) against plain loops, at every length up to 3 vector widths + 1 and across blocks.</summary>
[Trait("Category", "Kernels")]
public class GradientHealthKernelTests
{
    private static readonly int[] Lengths = [.. Enumerable.Range(0, 3 * Vector512<float>.Count + 2), 4095, 4096, 4097, 10_001];

    private static double[] Data(int length, int seed)
    {
        var g = new Generator((ulong)seed);
        var d = new double[length];
        for (int i = 0; i < length; i++) d[i] = 3 * g.NextNormal();
        return d;
    }

    [Fact]
    public void SumOfSquares_AndSquaredDistance_MatchDoubleLoops()
    {
        foreach (int n in Lengths)
        {
            double[] a = Data(n, n), b = Data(n, n + 1000);
            float[] af = Array.ConvertAll(a, v => (float)v), bf = Array.ConvertAll(b, v => (float)v);
            double squares = 0, distance = 0, squaresF = 0, distanceF = 0;
            for (int i = 0; i < n; i++)
            {
                squares += a[i] * a[i];
                distance += (a[i] - b[i]) * (a[i] - b[i]);
                squaresF += (double)af[i] * af[i];
                distanceF += ((double)af[i] - bf[i]) * ((double)af[i] - bf[i]);
            }
            Assert.True(Math.Abs(SquaredNormKernel.SumOfSquares<double>(a) - squares) <= 1e-12 * (1 + squares), $"double squares, n = {n}");
            Assert.True(Math.Abs(SquaredNormKernel.SquaredDistance<double>(a, b) - distance) <= 1e-12 * (1 + distance), $"double distance, n = {n}");
            // Float sums within a block of 4,096, carried in double: about float precision per block.
            Assert.True(Math.Abs(SquaredNormKernel.SumOfSquares<float>(af) - squaresF) <= 1e-5 * (1 + squaresF), $"float squares, n = {n}");
            Assert.True(Math.Abs(SquaredNormKernel.SquaredDistance<float>(af, bf) - distanceF) <= 1e-5 * (1 + distanceF), $"float distance, n = {n}");
        }
        Assert.Throws<ArgumentException>(() => SquaredNormKernel.SquaredDistance<float>(new float[3], new float[4]));
    }

    [Fact]
    public void DeadColumns_AndDeadChannels_MatchLoops()
    {
        var g = new Generator(3);
        foreach (int units in Lengths.Where(n => n > 0 && n < 100))
            foreach (int rows in (int[])[1, 2, 5])
            {
                // ReLU-like values with about a third of the units zero in every row.
                var y = new float[rows * units];
                var deadUnit = new bool[units];
                for (int u = 0; u < units; u++) deadUnit[u] = g.NextDouble() < 0.35;
                for (int r = 0; r < rows; r++)
                    for (int u = 0; u < units; u++)
                        y[r * units + u] = deadUnit[u] || g.NextDouble() < 0.5 ? 0 : (float)g.NextDouble() + 0.01f;
                int expected = Enumerable.Range(0, units).Count(u => Enumerable.Range(0, rows).All(r => y[r * units + u] == 0));
                Assert.Equal(expected, DeadUnitsKernel.DeadColumns<float>(y, rows, units, new float[units]));
                Assert.Equal(expected, DeadUnitsKernel.DeadColumns<double>(Array.ConvertAll(y, v => (double)v), rows, units, new double[units + 3]));

                // The same numbers read as [rows, units / k, k]: a channel is dead when its k values are zero in every row.
                foreach (int inner in (int[])[1, 3])
                {
                    if (units % inner != 0) continue;
                    int channels = units / inner;
                    int dead = Enumerable.Range(0, channels).Count(c => Enumerable.Range(0, rows).All(r => Enumerable.Range(0, inner).All(i => y[(r * channels + c) * inner + i] == 0)));
                    Assert.Equal(dead, DeadUnitsKernel.DeadChannels<float>(y, rows, channels, inner));
                }
            }
        Assert.Equal(1, DeadUnitsKernel.DeadColumns<float>([float.NaN, 0], 1, 2, new float[2])); // NaN counts as alive
    }
}
