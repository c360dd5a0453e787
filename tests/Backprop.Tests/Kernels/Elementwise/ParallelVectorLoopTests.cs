using Backprop.Kernels.Elementwise;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>
/// The split element-wise loop gives the single-thread loop's results bit for bit on 1, 2 and 3
/// threads, at lengths around its threshold and with ranges that do not end on a vector boundary.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(ThreadsCollection.Name)]
public class ParallelVectorLoopTests
{
    [Theory]
    [InlineData(ParallelVectorLoop.MinLength - 1)]
    [InlineData(ParallelVectorLoop.MinLength)]
    [InlineData(ParallelVectorLoop.MinLength * 3 + 37)]
    public void SplitLoop_EqualsOneThreadLoop_BitForBit(int n)
    {
        var rng = new Random(n);
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float)(rng.NextDouble() * 16 - 8); g[i] = (float)(rng.NextDouble() * 2 - 1); }
        var expectY = new float[n];
        var expectDx = new float[n];
        VectorLoop.Unary(default(GeluOp), x, expectY);
        VectorLoop.Binary(default(GeluBackwardOp), x, g, expectDx);
        foreach (int threads in (int[])[1, 2, 3])
            ThreadsCollection.With(threads, () =>
            {
                var y = new float[n];
                var dx = new float[n];
                ParallelVectorLoop.Unary(default(GeluOp), x, y);
                ParallelVectorLoop.Binary(default(GeluBackwardOp), x, g, dx);
                Assert.Equal(expectY, y);
                Assert.Equal(expectDx, dx);
            });
    }
}
