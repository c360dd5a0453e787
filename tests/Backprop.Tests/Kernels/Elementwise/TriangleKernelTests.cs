using Backprop.Kernels.Elementwise;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>The triangle kernel against an element-by-element reference, every small shape and diagonal.</summary>
[Trait("Category", "Kernels")]
public class TriangleKernelTests
{
    [Fact]
    public void MatchesTheElementwiseDefinition()
    {
        for (int rows = 0; rows <= 5; rows++)
            for (int cols = 0; cols <= 6; cols++)
                for (long k = -7; k <= 7; k++)
                    foreach (bool upper in new[] { true, false })
                    {
                        const int matrices = 2;
                        var x = new double[matrices * rows * cols];
                        for (int i = 0; i < x.Length; i++) x[i] = i + 1;
                        var y = new double[x.Length];
                        Array.Fill(y, double.NaN); // every element must be written
                        TriangleKernel.Apply<double>(x, y, matrices, rows, cols, k, upper);
                        for (int m = 0; m < matrices; m++)
                            for (int i = 0; i < rows; i++)
                                for (int j = 0; j < cols; j++)
                                {
                                    int at = (m * rows + i) * cols + j;
                                    bool keep = upper ? j - i >= k : j - i <= k;
                                    Assert.Equal(keep ? x[at] : 0, y[at]);
                                }
                    }
    }

    [Fact]
    public void ShortSpans_AreRefused()
        => Assert.Throws<ArgumentException>(() => TriangleKernel.Apply<float>(new float[5], new float[6], 1, 2, 3, 0, true));
}
