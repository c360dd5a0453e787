using Backprop.NN;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops;

/// <summary>Sequential runs Conv2d → ReLU → MaxPool2d(2) as one fused op; it must match the three ops exactly.</summary>
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
            int saved = Threading.ThreadCount;
            try
            {
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    Threading.ThreadCount = threads;
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
                Threading.ThreadCount = saved;
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
    public void Sequential_FusesConvReluPool_AndMatchesTheLayers()
    {
        var conv = new Conv2d(2, 3, 3, padding: 1, generator: new Generator(1));
        Tensor x = Tensor.Randn([2, 2, 6, 7], DType.Float32, new Generator(2));
        Tensor y = new Sequential(conv, new Relu(), new MaxPool2d(2)).Forward(x);
        Assert.Equal("Conv2dReluMaxPool2dBackward", y.GradFn!.Name);
        Assert.Equal(new MaxPool2d(2).Forward(new Relu().Forward(conv.Forward(x))).ToDoubleArray(), y.ToDoubleArray());
    }

    [Fact]
    public void GradCheck_ThroughFusedOp()
    {
        // well-separated values so the finite differences do not cross a ReLU kink or change a window's winner
        Tensor[] inputs = [T.Param(1, 2, 2, 6, 7), T.Param(2, 3, 2, 3, 3), T.Param(3, 3)];
        GradCheck.Verify(v => Functional.Conv2dReluMaxPool2d(v[0], v[1], v[2], (1, 1), (1, 1), (1, 1), 1), inputs);
    }

    [Fact]
    public void Sequential_FallsBackWhenPoolIsNotPlain2x2()
    {
        var conv = new Conv2d(1, 2, 3, padding: 1, generator: new Generator(1));
        Tensor x = Tensor.Randn([2, 1, 6, 6], DType.Float32, new Generator(2));
        Tensor y = new Sequential(conv, new Relu(), new MaxPool2d(3, 1)).Forward(x);
        Assert.Equal(Functional.MaxPool2d(Functional.Relu(conv.Forward(x)), 3, 1).ToDoubleArray(), y.ToDoubleArray());
    }
}
