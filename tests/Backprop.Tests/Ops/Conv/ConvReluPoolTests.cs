using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Conv;

/// <summary>The fused Conv2d → ReLU → MaxPool2d(2) op and its module must match the three ops exactly.</summary>
[Collection(ThreadsCollection.Name)]
public class ConvReluPoolTests
{
    public static TheoryData<int[], int, int, int, int, int, bool, bool> Cases => new()
    {
        // input [N, C, H, W], out channels, kernel, stride, padding, groups, bias, input requires grad
        { [3, 1, 12, 12], 4, 5, 1, 2, 1, true, false },   // LeNet conv1-like: Cin = 1, input without grad
        { [5, 4, 7, 9], 6, 3, 1, 1, 2, true, true },      // odd sizes: the last row / column is not pooled
        { [2, 3, 9, 8], 2, 3, 2, 1, 1, false, true },     // stride 2, no bias
        { [1, 2, 4, 5], 3, 1, 1, 0, 1, true, true },      // pointwise
        { [6, 8, 7, 7], 8, 5, 1, 2, 1, true, true },      // LeNet conv2-like, blocks of several images
        { [0, 2, 6, 6], 2, 3, 1, 1, 1, true, true },      // empty batch
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_IsBitIdenticalToSeparateOps_Float32AndFloat64(int[] xs, int outC, int k, int s, int p, int groups, bool bias, bool inputGrad)
    {
        foreach (DType dtype in new[] { DType.Float32, DType.Float64 })
        {
            // halves: exact zeros and ties after ReLU
            Tensor x = (Tensor.Randn(xs, dtype, new Generator(7)) * 2).Round() / 2;
            Tensor w = Tensor.Randn([outC, xs[1] / groups, k, k], dtype, new Generator(8));
            Tensor? b = bias ? Tensor.Randn([outC], dtype, new Generator(9)) : null;
            int saved = Parallelism.ThreadCount;
            try
            {
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    Parallelism.ThreadCount = threads;
                    var (yf, gf) = Run(true, x, w, b, s, p, groups, inputGrad);
                    var (yu, gu) = Run(false, x, w, b, s, p, groups, inputGrad);
                    Assert.Equal(yu.Shape, yf.Shape);
                    Assert.Equal(yu.ToDoubleArray(), yf.ToDoubleArray());
                    Assert.Equal(gu.Length, gf.Length);
                    for (int i = 0; i < gu.Length; i++) Assert.Equal(gu[i], gf[i]);
                }
            }
            finally
            {
                Parallelism.ThreadCount = saved;
            }
        }
    }

    private static (Tensor Y, double[][] Grads) Run(bool fused, Tensor x0, Tensor w0, Tensor? b0, int s, int p, int groups, bool inputGrad)
    {
        Tensor x = inputGrad ? x0.Detach().RequireGrad() : x0, w = w0.Detach().RequireGrad();
        Tensor? b = b0?.Detach().RequireGrad();
        Tensor y = fused
            ? Functional.Conv2dReluMaxPool2d(x, w, b, (s, s), (p, p), (1, 1), groups)
            : Functional.MaxPool2d(Functional.Relu(Functional.Conv2d(x, w, b, s, p, 1, groups)), 2);
        if (fused) Assert.Equal("Conv2dReluMaxPool2dBackward", y.GradFn!.Name);
        if (y.Shape.Numel > 0) y.Backward(Tensor.Randn(y.Shape, y.DType, new Generator(11)));
        var grads = new List<double[]> { w.Grad?.ToDoubleArray() ?? [] };
        if (b is not null) grads.Add(b.Grad?.ToDoubleArray() ?? []);
        if (inputGrad) grads.Add(x.Grad?.ToDoubleArray() ?? []);
        return (y, [.. grads]);
    }

    [Fact]
    public void FusedSequential_RunsTheFusedOp_AndMatchesTheLayers()
    {
        var conv = new Conv2d(2, 3, 3, padding: 1, generator: new Generator(1));
        Tensor x = Tensor.Randn([2, 2, 6, 7], DType.Float32, new Generator(2));
        var model = new Sequential(conv, new Relu(), new MaxPool2d(2));
        Tensor plain = model.Forward(x);
        Assert.Equal("MaxPool2dBackward", plain.GradFn!.Name); // unfused: every layer's output is a tensor of its own
        Tensor y = model.Fuse().Forward(x);
        Assert.Equal("Conv2dReluMaxPool2dBackward", y.GradFn!.Name);
        Assert.Equal(new MaxPool2d(2).Forward(new Relu().Forward(conv.Forward(x))).ToDoubleArray(), y.ToDoubleArray());
        Assert.Equal(plain.ToDoubleArray(), y.ToDoubleArray());
    }

    [Fact]
    public void GradCheck_ThroughFusedOp()
    {
        // well-separated values so the finite differences do not cross a ReLU kink or change a window's winner
        Tensor[] inputs = [T.Param(1, 2, 2, 6, 7), T.Param(2, 3, 2, 3, 3), T.Param(3, 3)];
        GradCheck.Verify(v => Functional.Conv2dReluMaxPool2d(v[0], v[1], v[2], (1, 1), (1, 1), (1, 1), 1), inputs);
        // frozen weights and bias: dx only
        GradCheck.Verify(v => Functional.Conv2dReluMaxPool2d(v[0], inputs[1].Detach(), inputs[2].Detach(), (1, 1), (1, 1), (1, 1), 1), [T.Param(4, 2, 2, 6, 7)]);
    }

    [Fact]
    public void Fuse_LeavesRunsWhosePoolIsNotPlain2x2()
    {
        foreach (MaxPool2d pool in new[] { new MaxPool2d(3, 1), new MaxPool2d(2, 1), new MaxPool2d(2, padding: 1), new MaxPool2d(2, dilation: 2), new MaxPool2d(2, ceilMode: true) })
        {
            var conv = new Conv2d(1, 2, 3, padding: 1, generator: new Generator(1));
            var model = new Sequential(conv, new Relu(), pool).Fuse();
            Assert.Same(conv, model[0]);
            Assert.Same(pool, model[2]);
        }
    }

    [Fact]
    public void FusedModule_FallsBackToTheThreeOps_WhereTheFusedOpDoesNotApply()
    {
        var fused = new Conv2dReluMaxPool2d(new Conv2d(2, 3, 3, padding: 1, generator: new Generator(4)));
        Tensor Plain(Tensor x) => Functional.MaxPool2d(Functional.Relu(fused.Conv.Forward(x)), 2);
        // A 3-D input runs the three ops (the fused op takes 4-D only).
        Tensor x3 = Tensor.Randn([2, 5, 6], DType.Float32, new Generator(5));
        Assert.Equal(Plain(x3).ToDoubleArray(), fused.Forward(x3).ToDoubleArray());
        // The smallest output the fused op takes is 2×2 (from a 2×2 input with padding 1 and a 3×3 kernel) ...
        Tensor x2 = Tensor.Randn([1, 2, 2, 2], DType.Float32, new Generator(6));
        Assert.Equal("Conv2dReluMaxPool2dBackward", fused.Forward(x2).GradFn!.Name);
        Assert.Equal(Plain(x2).ToDoubleArray(), fused.Forward(x2).ToDoubleArray());
        // ... a 1×2 output runs the three ops, and reports the pooling error they report.
        Tensor x1 = Tensor.Randn([1, 2, 1, 2], DType.Float32, new Generator(7));
        var expected = Assert.Throws<ArgumentException>(() => Plain(x1));
        Assert.Equal(expected.Message, Assert.Throws<ArgumentException>(() => fused.Forward(x1)).Message);
        // The functional fused op refuses it with its own message.
        Assert.Contains("smaller than the 2×2 pooling window", Assert.Throws<ArgumentException>(
            () => Functional.Conv2dReluMaxPool2d(x1, fused.Weight, fused.Bias, (1, 1), (1, 1), (1, 1))).Message);
    }
}
