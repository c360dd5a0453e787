using Backprop.NN;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Conv;

[Collection(ThreadsCollection.Name)]
public class ConvThreadingTests
{
    /// <summary>
    /// The backward splits the batch into per-thread chunks (and the forward runs images in
    /// parallel): gradients match direct loops for several batch sizes and thread counts, and two
    /// runs with the same thread count are bit-identical.
    /// </summary>
    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)] [InlineData(6)]
    public void Backward_MatchesDirectLoops_AcrossBatchSizesAndThreadCounts(int seed)
    {
        var rng = new Random(seed);
        int groups = rng.Next(1, 3), cg = rng.Next(1, 4), og = rng.Next(1, 4), n = rng.Next(1, 8);
        int k = rng.Next(1, 6), s = rng.Next(1, 3), p = rng.Next(0, 3), d = rng.Next(1, 3);
        if (seed % 2 == 0) (s, d, p) = (1, 1, k / 2); // "same" padding: the shift path of im2col
        int h = Math.Max(1, d * (k - 1) + 1 - 2 * p) + rng.Next(0, 9), wd = Math.Max(1, d * (k - 1) + 1 - 2 * p) + rng.Next(0, 17);
        int[] xs = [n, groups * cg, h, wd], ws = [groups * og, cg, k, k];
        Tensor x = Tensor.Randn(xs, DType.Float32, new Generator((ulong)seed));
        Tensor w = Tensor.Randn(ws, DType.Float32, new Generator((ulong)seed + 100));
        Tensor b = Tensor.Randn([groups * og], DType.Float32, new Generator((ulong)seed + 200));
        Tensor y0 = Functional.Conv2d(x, w, b, s, p, d, groups);
        Tensor dy = Tensor.Randn(y0.Shape, DType.Float32, new Generator((ulong)seed + 300));
        var (ex, ew, eb) = ConvReference.Conv2dBackward(x.ToDoubleArray(), xs, w.ToDoubleArray(), ws, dy.ToDoubleArray(), s, s, p, p, d, d, groups);

        float[]? previous = null;
        int saved = Parallelism.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2, 3, 2 })
            {
                Parallelism.ThreadCount = threads;
                Tensor xi = x.Detach().RequireGrad(), wi = w.Detach().RequireGrad(), bi = b.Detach().RequireGrad();
                Tensor y = Functional.Conv2d(xi, wi, bi, s, p, d, groups);
                T.Close(y0.ToDoubleArray(), y, 1e-5); // images may be grouped differently into GEMMs
                y.Backward(dy);
                T.Close(ex, xi.Grad!, 1e-3);
                T.Close(ew, wi.Grad!, 1e-3);
                T.Close(eb, bi.Grad!, 1e-3);
                float[] run = [.. y.ToArray<float>(), .. xi.Grad!.ToArray<float>(), .. wi.Grad!.ToArray<float>(), .. bi.Grad!.ToArray<float>()];
                if (threads == 2 && previous is not null) Assert.Equal(previous, run);
                if (threads == 2) previous = run;
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }
}
