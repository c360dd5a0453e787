using System.Numerics;
using Backprop.Kernels.Conv;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Conv;

/// <summary>
/// The span-level convolution driver alone (no tensors, no autograd): forward and backward against
/// the direct loops of <see cref="ConvReference"/>, the fused ReLU + 2×2 max pool against the unfused
/// kernels bit for bit, on 1 to 3 threads, float32 and float64.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(ThreadsCollection.Name)]
public class Conv2dDriverTests
{
    public static TheoryData<int[], int, int, int, int, int, int> Cases => new()
    {
        // x [N, C, H, W], out channels, kernel, stride, padding, dilation, groups
        { [3, 1, 12, 12], 4, 5, 1, 2, 1, 1 },  // LeNet conv1-like
        { [7, 4, 7, 7], 6, 5, 1, 2, 1, 1 },    // LeNet conv2-like: blocks of several images per GEMM
        { [5, 4, 7, 9], 6, 3, 1, 1, 1, 2 },    // groups, odd sizes
        { [2, 3, 9, 8], 2, 3, 2, 1, 1, 1 },    // stride 2
        { [4, 2, 9, 10], 3, 3, 1, 2, 2, 1 },   // dilation
        { [5, 2, 4, 5], 3, 1, 1, 0, 1, 1 },    // pointwise: the input is the column matrix
        { [1, 3, 6, 6], 2, 3, 1, 0, 1, 1 },    // one image: multi-threaded GEMMs
        { [0, 2, 6, 6], 2, 3, 1, 1, 1, 1 },    // empty batch
        // Winograd F(2×2, 5×5) by default: 5×5, stride 1, at least 8 channels in and out, 12×12 planes, 3,072 output pixels
        { [16, 8, 14, 14], 16, 5, 1, 2, 1, 1 }, // LeNet conv2-like, blocks of 4 images
        { [16, 9, 13, 15], 10, 5, 1, 2, 1, 1 }, // odd output sizes: half tiles at the bottom and right
        { [20, 8, 16, 17], 8, 5, 1, 0, 1, 1 },  // no padding
        { [16, 8, 9, 11], 9, 5, 1, 4, 1, 1 },   // the most padding (the adjoint has none)
        { [5, 8, 20, 37], 8, 5, 1, 1, 1, 1 },   // tile rows longer than a vector
        { [2, 8, 66, 63], 8, 5, 1, 2, 1, 1 },   // 33 × 32 tiles per image, more than a block takes: bands of tile rows
        // Winograd F(2×2, 3×3) by default: 3×3, stride 1, at least 32 channels in and out
        { [19, 32, 12, 14], 32, 3, 1, 1, 1, 1 },
        { [20, 32, 14, 15], 33, 3, 1, 0, 1, 1 }, // no padding, odd output width
        { [20, 32, 11, 10], 32, 3, 1, 2, 1, 1 }, // the most padding, odd output height
        { [2, 32, 70, 64], 32, 3, 1, 1, 1, 1 },  // bands of tile rows
    };

    private static Conv2dShape Shape(int[] xs, int outC, int k, int s, int p, int d, int groups)
    {
        int oh = Window2d.OutputSize(xs[2], k, s, p, d), ow = Window2d.OutputSize(xs[3], k, s, p, d);
        return new Conv2dShape(xs[0], xs[1], outC, groups, new Window2d(xs[2], xs[3], k, k, s, s, p, p, d, d, oh, ow));
    }

    private static double[] Normal(long n, ulong seed)
    {
        var g = new Generator(seed);
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = g.NextNormal();
        return v;
    }

    private static T[] As<T>(double[] v) where T : INumberBase<T> => Array.ConvertAll(v, T.CreateTruncating);

    private static double[] D<T>(T[] v) where T : INumberBase<T> => Array.ConvertAll(v, double.CreateTruncating);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_MatchDirectLoops(int[] xs, int outC, int k, int s, int p, int d, int groups)
    {
        Check<float>(xs, outC, k, s, p, d, groups, 2e-4);
        Check<double>(xs, outC, k, s, p, d, groups, 1e-10);
    }

    private static void Check<T>(int[] xs, int outC, int k, int s, int p, int d, int groups, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Conv2dShape shape = Shape(xs, outC, k, s, p, d, groups);
        int[] ws = [outC, xs[1] / groups, k, k];
        double[] x = Normal(shape.InputLength, 1), w = Normal(shape.WeightLength, 2), b = Normal(outC, 3), dy = Normal(shape.OutputLength, 4);
        double[] yRef = ConvReference.Conv2d(x, xs, w, ws, b, s, s, p, p, d, d, groups, out _);
        var (dxRef, dwRef, dbRef) = ConvReference.Conv2dBackward(x, xs, w, ws, dy, s, s, p, p, d, d, groups);
        double[] dx0 = Normal(shape.InputLength, 5), db0 = Normal(outC, 6); // dx and db accumulate onto what is there
        foreach (int threads in new[] { 1, 2, 3 })
            ThreadsCollection.With(threads, () =>
            {
                string what = $"{typeof(T).Name} x [{string.Join(", ", xs)}] threads {threads}";
                var y = new T[shape.OutputLength];
                Conv2dDriver.Forward<T>(shape, As<T>(x), As<T>(w), As<T>(b), y);
                Support.T.Close(yRef, D(y), tol * 10);
                var yNoBias = new T[shape.OutputLength];
                Conv2dDriver.Forward<T>(shape, As<T>(x), As<T>(w), default, yNoBias);
                for (int i = 0; i < y.Length; i++)
                    Assert.True(Math.Abs(double.CreateTruncating(y[i] - yNoBias[i]) - b[i / (shape.Window.OH * shape.Window.OW) % outC]) <= tol * 10, what);

                T[] dx = As<T>(dx0), dw = new T[shape.WeightLength], db = As<T>(db0);
                dw.AsSpan().Fill(T.NaN); // dw is overwritten
                Conv2dDriver.Backward<T>(shape, As<T>(dy), As<T>(x), As<T>(w), dx, dw, db);
                Support.T.Close(dxRef.Select((v, i) => v + double.CreateTruncating(T.CreateTruncating(dx0[i]))).ToArray(), D(dx), tol * 10);
                Support.T.Close(dwRef, D(dw), tol * 10 * Math.Max(1, xs[0]));
                Support.T.Close(dbRef.Select((v, i) => v + double.CreateTruncating(T.CreateTruncating(db0[i]))).ToArray(), D(db), tol * 100);

                // Each gradient alone (empty spans are not computed; x is only needed for dw, w for dx) equals the same one of the full call.
                T[] dwOnly = new T[shape.WeightLength], dxOnly = As<T>(dx0), dbOnly = As<T>(db0);
                Conv2dDriver.Backward<T>(shape, As<T>(dy), As<T>(x), default, default, dwOnly, default);
                Conv2dDriver.Backward<T>(shape, As<T>(dy), default, As<T>(w), dxOnly, default, default);
                Conv2dDriver.Backward<T>(shape, As<T>(dy), default, default, default, default, dbOnly);
                Assert.True(dw.AsSpan().SequenceEqual(dwOnly), $"dw alone differs: {what}");
                Assert.True(dx.AsSpan().SequenceEqual(dxOnly), $"dx alone differs: {what}");
                Assert.True(db.AsSpan().SequenceEqual(dbOnly), $"db alone differs: {what}");
            });
    }

    public static TheoryData<int[], int, int, int, int, int, int> PoolCases => new()
    {
        { [3, 1, 12, 12], 4, 5, 1, 2, 1, 1 },
        { [7, 4, 7, 7], 6, 5, 1, 2, 1, 1 },   // odd output: the last row and column are not pooled
        { [5, 4, 7, 9], 6, 3, 1, 1, 1, 2 },
        { [2, 3, 9, 8], 2, 3, 2, 1, 1, 1 },
        { [5, 2, 4, 5], 3, 1, 1, 0, 1, 1 },
        { [0, 2, 6, 6], 2, 3, 1, 1, 1, 1 },
        { [16, 8, 14, 14], 16, 5, 1, 2, 1, 1 }, // Winograd F(2×2, 5×5), its tiles the pooling windows
        { [16, 9, 13, 15], 10, 5, 1, 2, 1, 1 }, // Winograd, odd output: the half tiles are not pooled
        { [5, 8, 20, 37], 8, 5, 1, 1, 1, 1 },
        { [2, 8, 66, 63], 8, 5, 1, 2, 1, 1 },   // bands of tile rows
        { [19, 32, 12, 14], 32, 3, 1, 1, 1, 1 }, // Winograd F(2×2, 3×3)
        { [16, 32, 13, 15], 32, 3, 1, 1, 1, 1 }, // odd output: the half tiles are not pooled
    };

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void FusedReluMaxPool2_BitIdenticalToUnfusedKernels(int[] xs, int outC, int k, int s, int p, int d, int groups)
    {
        CheckFused<float>(xs, outC, k, s, p, d, groups);
        CheckFused<double>(xs, outC, k, s, p, d, groups);
    }

    private static void CheckFused<T>(int[] xs, int outC, int k, int s, int p, int d, int groups) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Conv2dShape shape = Shape(xs, outC, k, s, p, d, groups);
        Window2d g = shape.Window;
        var pool = new Window2d(g.OH, g.OW, 2, 2, 2, 2, 0, 0, 1, 1, g.OH / 2, g.OW / 2);
        int planes = shape.N * outC, pooledPlane = pool.OH * pool.OW;
        T[] x = As<T>(Normal(shape.InputLength, 11)), w = As<T>(Normal(shape.WeightLength, 12)), b = As<T>(Normal(outC, 13));
        T[] dy = As<T>(Normal(shape.PooledLength, 14));
        foreach (int threads in new[] { 1, 2, 3 })
            ThreadsCollection.With(threads, () =>
            {
                // Unfused: convolution, ReLU, 2×2 max pool; backward: scatter to the argmax, mask by ReLU, convolution backward.
                var z = new T[shape.OutputLength];
                Conv2dDriver.Forward<T>(shape, x, w, b, z);
                T[] r = Array.ConvertAll(z, v => v > T.Zero ? v : T.Zero);
                var expected = new T[shape.PooledLength];
                var idx = new int[expected.Length];
                PoolKernels.MaxForward<T>(r, planes, pool, expected, idx);
                var dz = new T[z.Length];
                PoolKernels.ScatterAdd<T>(dy, planes, pooledPlane, idx, g.OH * g.OW, dz);
                for (int i = 0; i < dz.Length; i++)
                    if (!(z[i] > T.Zero)) dz[i] = T.Zero;
                T[] dxExpected = new T[x.Length], dwExpected = new T[w.Length], dbExpected = new T[outC];
                Conv2dDriver.Backward<T>(shape, dz, x, w, dxExpected, dwExpected, dbExpected);

                var y = new T[shape.PooledLength];
                var routes = new byte[shape.PooledLength];
                Conv2dDriver.ForwardReluMaxPool2<T>(shape, x, w, b, y, routes);
                T[] dx = new T[x.Length], dw = new T[w.Length], db = new T[outC];
                Conv2dDriver.BackwardReluMaxPool2<T>(shape, dy, routes, x, w, dx, dw, db);
                string what = $"{typeof(T).Name} x [{string.Join(", ", xs)}] threads {threads}";
                Assert.True(expected.AsSpan().SequenceEqual(y), $"y differs: {what}");
                Assert.True(dxExpected.AsSpan().SequenceEqual(dx), $"dx differs: {what}");
                Assert.True(dwExpected.AsSpan().SequenceEqual(dw), $"dw differs: {what}");
                Assert.True(dbExpected.AsSpan().SequenceEqual(db), $"db differs: {what}");
            });
    }

    [Fact]
    public void SameThreadCount_SameBitsEveryRun()
    {
        Conv2dShape shape = Shape([9, 4, 7, 7], 6, 5, 1, 2, 1, 1);
        float[] x = As<float>(Normal(shape.InputLength, 21)), w = As<float>(Normal(shape.WeightLength, 22)), dy = As<float>(Normal(shape.OutputLength, 23));
        foreach (int threads in new[] { 2, 3 })
            ThreadsCollection.With(threads, () =>
            {
                float[]? first = null;
                for (int run = 0; run < 3; run++)
                {
                    var y = new float[shape.OutputLength];
                    float[] dx = new float[x.Length], dw = new float[w.Length], db = new float[6];
                    Conv2dDriver.Forward<float>(shape, x, w, default, y);
                    Conv2dDriver.Backward<float>(shape, dy, x, w, dx, dw, db);
                    float[] all = [.. y, .. dx, .. dw, .. db];
                    if (first is null) first = all;
                    else Assert.Equal(first, all);
                }
            });
    }

    /// <summary>
    /// Each thread keeps one implicit-im2col workspace and sets it up again when the geometry changes:
    /// a wide padded layer, a smaller unpadded one, then the first again must all be right (the
    /// workspace is reused, so the borders it pads with must be cleared).
    /// </summary>
    [Fact]
    public void Workspace_ReusedAcrossGeometries()
    {
        (int[] Xs, int OutC, int K, int P)[] layers = [([4, 3, 10, 10], 5, 5, 2), ([4, 2, 6, 7], 3, 3, 0), ([4, 3, 10, 10], 5, 5, 2), ([2, 1, 5, 5], 2, 3, 1)];
        ThreadsCollection.With(1, () =>
        {
            foreach (var (xs, outC, k, p) in layers)
            {
                Conv2dShape shape = Shape(xs, outC, k, 1, p, 1, 1);
                double[] x = Normal(shape.InputLength, (ulong)(xs[1] * 100 + k)), w = Normal(shape.WeightLength, 7);
                var y = new double[shape.OutputLength];
                Conv2dDriver.Forward<double>(shape, x, w, default, y);
                Support.T.Close(ConvReference.Conv2d(x, xs, w, [outC, xs[1], k, k], null, 1, 1, p, p, 1, 1, 1, out _), y, 1e-10);
            }
        });
    }

    [Fact]
    public void ShortBuffers_AndTooSmallPoolInput_Throw()
    {
        Conv2dShape shape = Shape([2, 2, 5, 5], 3, 3, 1, 1, 1, 1);
        var x = new float[shape.InputLength];
        var w = new float[shape.WeightLength];
        var y = new float[shape.OutputLength];
        Assert.Throws<ArgumentException>(() => Conv2dDriver.Forward<float>(shape, x.AsSpan(1), w, default, y));
        Assert.Throws<ArgumentException>(() => Conv2dDriver.Forward<float>(shape, x, w, new float[2], y));
        Assert.Throws<ArgumentException>(() => Conv2dDriver.Forward<float>(shape, x, w, default, y.AsSpan(1)));
        Assert.Throws<ArgumentException>(() => Conv2dDriver.Backward<float>(shape, y, default, w, default, new float[w.Length], default)); // dw needs x
        Assert.Throws<ArgumentException>(() => Conv2dDriver.Backward<float>(shape, y, x, default, new float[x.Length], default, default)); // dx needs w
        Assert.Throws<ArgumentException>(() => Conv2dDriver.ForwardReluMaxPool2<float>(shape, x, w, default, new float[shape.PooledLength], new byte[1]));
        Conv2dShape tiny = Shape([1, 1, 3, 3], 1, 3, 1, 0, 1, 1); // 1×1 output
        Assert.Throws<ArgumentException>(() => Conv2dDriver.ForwardReluMaxPool2<float>(tiny, new float[9], new float[9], default, new float[1], new byte[1]));
    }
}
