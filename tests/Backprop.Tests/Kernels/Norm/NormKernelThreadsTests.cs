using Backprop.Kernels.Norm;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Norm;

/// <summary>
/// Layer norm split over the threads (rows forward; rows for dx and columns for dw, db backward) gives
/// the one-thread results bit for bit, at sizes on both sides of the split threshold and with a
/// width that is no whole number of vectors.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(ThreadsCollection.Name)]
public class NormKernelThreadsTests
{
    [Theory]
    [InlineData(7, 131)]                                          // below the threshold: one thread
    [InlineData(NormKernels.ParallelMinElements / 100 + 3, 100)]  // just over it
    [InlineData(301, 130)]
    public void LayerNorm_ForwardAndBackward_AreBitIdenticalOnAnyThreadCount(int rows, int d)
    {
        var g = new Generator(42);
        float[] Rand(int n) { var v = new float[n]; for (int i = 0; i < n; i++) v[i] = (float)(2 * g.NextNormal() + 0.3); return v; }
        float[] x = Rand(rows * d), w = Rand(d), b = Rand(d), dy = Rand(rows * d);
        (float[] Y, float[] Dx, float[] Dw, float[] Db) Run()
        {
            var y = new float[rows * d];
            var mean = new float[rows];
            var rstd = new float[rows];
            NormKernels.LayerNormRows<float>(x, rows, d, w, b, 1e-5f, y, mean, rstd);
            var dx = new float[rows * d];
            var dw = Enumerable.Repeat(float.NaN, d).ToArray(); // written, not accumulated into
            var db = Enumerable.Repeat(float.NaN, d).ToArray();
            NormKernels.LayerNormBackwardRows<float>(dy, x, rows, d, w, mean, rstd, dx, dw, db);
            return (y, dx, dw, db);
        }
        var expect = ThreadsCollection.With(1, Run);
        foreach (int threads in (int[])[2, 3])
        {
            var got = ThreadsCollection.With(threads, Run);
            Assert.Equal(expect.Y, got.Y);
            Assert.Equal(expect.Dx, got.Dx);
            Assert.Equal(expect.Dw, got.Dw);
            Assert.Equal(expect.Db, got.Db);
        }
        Assert.All(expect.Dw, v => Assert.True(float.IsFinite(v)));
    }
}
