using Backprop.Kernels.Conv;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Conv;

/// <summary>The max-pool drivers that share planes out over threads, against one kernel call over all planes.</summary>
[Trait("Category", "Kernels")]
[Collection(ThreadsCollection.Name)]
public class PlaneParallelTests
{
    public static TheoryData<int, int, int, int, int> Cases => new()
    {
        // planes, H, W, kernel, stride: enough planes of 14×14 and 28×28 for several ranges per thread
        { 300, 28, 28, 2, 2 }, { 700, 14, 14, 2, 2 }, { 5, 9, 7, 3, 2 }, { 1, 4, 4, 2, 2 }, { 0, 4, 4, 2, 2 }, { 257, 12, 10, 3, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MaxForward_And_ScatterAdd_EqualOneCallOverAllPlanes(int planes, int h, int w, int k, int s)
    {
        int oh = Window2d.OutputSize(h, k, s, 0, 1), ow = Window2d.OutputSize(w, k, s, 0, 1);
        var g = new Window2d(h, w, k, k, s, s, 0, 0, 1, 1, oh, ow);
        var gen = new Generator((ulong)(planes + h));
        var x = new float[planes * h * w];
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Floor((float)gen.NextNormal() * 2); // ties are common
        var dy = new float[planes * oh * ow];
        for (int i = 0; i < dy.Length; i++) dy[i] = (float)gen.NextNormal();
        var dx0 = new float[x.Length];
        for (int i = 0; i < dx0.Length; i++) dx0[i] = (float)gen.NextNormal(); // the scatter adds onto it

        var yExpected = new float[dy.Length];
        var idxExpected = new int[dy.Length];
        PoolKernels.MaxForward<float>(x, planes, g, yExpected, idxExpected);
        var dxExpected = (float[])dx0.Clone();
        PoolKernels.ScatterAdd<float>(dy, planes, oh * ow, idxExpected, h * w, dxExpected);

        int saved = Parallelism.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Parallelism.ThreadCount = threads;
                var y = new float[dy.Length];
                var idx = new int[dy.Length];
                PlaneParallel.MaxForward<float>(x, planes, g, y, idx);
                var dx = (float[])dx0.Clone();
                PlaneParallel.ScatterAdd<float>(dy, planes, oh * ow, idx, h * w, dx);
                Assert.Equal(yExpected, y);
                Assert.Equal(idxExpected, idx);
                Assert.Equal(dxExpected, dx);
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Fact]
    public void ShortBuffers_Throw()
    {
        var g = new Window2d(4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2);
        Assert.Throws<ArgumentException>(() => PlaneParallel.MaxForward<float>(new float[31], 2, g, new float[8], new int[8]));
        Assert.Throws<ArgumentException>(() => PlaneParallel.MaxForward<float>(new float[32], 2, g, new float[8], new int[7]));
        Assert.Throws<ArgumentException>(() => PlaneParallel.ScatterAdd<float>(new float[8], 2, 4, new int[8], 16, new float[31]));
    }
}
