using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Conv;

/// <summary>
/// The issue #12 ops that split work over the threads give the one-thread results bit for bit on 2 and 3
/// threads (transposed convolution: all but the weight gradient, whose partial sums follow the thread
/// count as Conv2d's do), at sizes above the split thresholds.
/// </summary>
[Collection(ThreadsCollection.Name)]
public class LayerThreadingTests
{
    private static void Same(Func<float[][]> run)
    {
        float[][] one = ThreadsCollection.With(1, run);
        foreach (int threads in (int[])[2, 3])
        {
            float[][] many = ThreadsCollection.With(threads, run);
            Assert.Equal(one.Length, many.Length);
            for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], many[i]);
        }
    }

    [Fact]
    public void ConvTranspose2d_IsBitIdentical_ButForTheWeightGradient()
    {
        Tensor x = Tensor.Randn([9, 6, 7, 8], DType.Float32, new Generator(1)), w = Tensor.Randn([6, 4, 3, 3], DType.Float32, new Generator(2));
        Tensor b = Tensor.Randn([8], DType.Float32, new Generator(3)), up = Tensor.Randn([9, 8, 13, 18], DType.Float32, new Generator(4));
        float[]? dw1 = null;
        Same(() =>
        {
            Tensor xl = x.Detach().RequireGrad(), wl = w.Detach().RequireGrad(), bl = b.Detach().RequireGrad();
            Tensor y = Functional.ConvTranspose2d(xl, wl, bl, stride: 2, padding: (1, 0), outputPadding: (0, 1), groups: 2);
            Assert.Equal(new Shape(9, 8, 13, 18), y.Shape);
            (y * up).Sum().Backward();
            float[] dw = wl.Grad!.ToArray<float>();
            dw1 ??= dw;
            T.Close(Array.ConvertAll(dw1, v => (double)v), Array.ConvertAll(dw, v => (double)v), 1e-2);
            return [y.ToArray<float>(), xl.Grad!.ToArray<float>(), bl.Grad!.ToArray<float>()];
        });
    }

    [Fact]
    public void AdaptivePools_AreBitIdentical()
    {
        Tensor x = Tensor.Randn([8, 16, 23, 19], DType.Float32, new Generator(1)), up = Tensor.Randn([8, 16, 5, 7], DType.Float32, new Generator(2));
        Same(() =>
        {
            Tensor a = x.Detach().RequireGrad(), m = x.Detach().RequireGrad();
            Tensor ya = Functional.AdaptiveAvgPool2d(a, (5, 7)), ym = Functional.AdaptiveMaxPool2d(m, (5, 7));
            ((ya + ym) * up).Sum().Backward();
            return [ya.ToArray<float>(), ym.ToArray<float>(), a.Grad!.ToArray<float>(), m.Grad!.ToArray<float>()];
        });
    }

    [Theory]
    [InlineData(2, 4, 3, 5)]      // below the threshold: one thread
    [InlineData(5, 12, 33, 31)]   // above it
    public void GroupNorm_IsBitIdentical(int n, int c, int h, int w)
    {
        Tensor x = Tensor.Randn([n, c, h, w], DType.Float32, new Generator(5)), up = Tensor.Randn([n, c, h, w], DType.Float32, new Generator(6));
        Tensor g = Tensor.Randn([c], DType.Float32, new Generator(7)), b = Tensor.Randn([c], DType.Float32, new Generator(8));
        Same(() =>
        {
            Tensor xl = x.Detach().RequireGrad(), gl = g.Detach().RequireGrad(), bl = b.Detach().RequireGrad();
            Tensor y = Functional.GroupNorm(xl, c / 4, gl, bl);
            (y * up).Sum().Backward();
            return [y.ToArray<float>(), xl.Grad!.ToArray<float>(), gl.Grad!.ToArray<float>(), bl.Grad!.ToArray<float>()];
        });
    }

    [Theory]
    [InlineData(7, 131)]
    [InlineData(301, 130)]
    public void RmsNorm_IsBitIdentical(int rows, int d)
    {
        Tensor x = Tensor.Randn([rows, d], DType.Float32, new Generator(5)), up = Tensor.Randn([rows, d], DType.Float32, new Generator(6));
        Tensor g = Tensor.Randn([d], DType.Float32, new Generator(7));
        Same(() =>
        {
            Tensor xl = x.Detach().RequireGrad(), gl = g.Detach().RequireGrad();
            Tensor y = Functional.RmsNorm(xl, [d], gl);
            (y * up).Sum().Backward();
            return [y.ToArray<float>(), xl.Grad!.ToArray<float>(), gl.Grad!.ToArray<float>()];
        });
    }
}
