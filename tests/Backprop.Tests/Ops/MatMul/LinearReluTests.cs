using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.MatMul;

/// <summary>The fused Linear+ReLU op against Linear followed by Relu, and the fused module Sequential.Fuse() puts in.</summary>
public class LinearReluTests
{
    [Fact]
    public void Forward_HandValues()
    {
        Tensor x = T.F32([1, 2, -1, 0], 2, 2);
        Tensor w = T.F32([1, 1, 2, -1, 0, 3], 3, 2);
        Tensor b = T.F32([-1, 0, 0.5f], 3);
        // rows: [1, 2] -> [3-1, 0, 6.5] ; [-1, 0] -> [-1-1, -2, 0.5]
        T.Close([2, 0, 6.5, 0, 0, 0.5], Functional.LinearRelu(x, w, b));
    }

    [Fact]
    public void GradCheck_AllInputs()
    {
        // Shift the inputs away from the kink at 0 where the finite differences are not defined.
        GradCheck.Verify(x => Functional.LinearRelu(x[0], x[1], x[2]), [T.Param(1, 4, 3), T.Param(2, 5, 3), T.Param(3, 5)]);
        GradCheck.Verify(x => Functional.LinearRelu(x[0], x[1]), [T.Param(4, 2, 3, 4), T.Param(5, 5, 4)]);
        GradCheck.Verify(x => Functional.LinearRelu(x[0].T(), x[1], x[2]), [T.Param(6, 3, 4), T.Param(7, 2, 3), T.Param(8, 2)]);
    }

    [Fact]
    public void SecondOrder_ThroughTheRecordedBackward()
        => GradCheck.VerifySecondOrder(x => Functional.LinearRelu(x[0], x[1], x[2]) * x[0].Sum(), [T.Param(1, 3, 2), T.Param(2, 4, 2), T.Param(3, 4)]);

    [Theory]
    [InlineData(0, 7, 5)]
    [InlineData(1, 1, 1)]
    [InlineData(33, 17, 65)]
    [InlineData(128, 784, 512)]
    public void Float32_BitIdenticalToLinearThenRelu(int rows, int inF, int outF)
    {
        var g = new Generator(11);
        Tensor x = Tensor.Randn([rows, inF], DType.Float32, g);
        Tensor w1 = Tensor.Randn([outF, inF], DType.Float32, g).RequireGrad(), b1 = Tensor.Randn([outF], DType.Float32, g).RequireGrad();
        Tensor w2 = w1.Detach().Clone().RequireGrad(), b2 = b1.Detach().Clone().RequireGrad();
        Tensor dy = Tensor.Randn([rows, outF], DType.Float32, g);
        Tensor fused = Functional.LinearRelu(x, w1, b1), plain = Functional.Linear(x, w2, b2).Relu();
        Assert.Equal(plain.ToArray<float>(), fused.ToArray<float>());
        fused.Backward(dy);
        plain.Backward(dy);
        Assert.Equal(w2.Grad!.ToArray<float>(), w1.Grad!.ToArray<float>());
        Assert.Equal(b2.Grad!.ToArray<float>(), b1.Grad!.ToArray<float>());
    }

    [Fact]
    public void FusedSequential_RunsLinearRelu_WithTheSameGradients()
    {
        Sequential Make() => new(new Linear(6, 8, generator: new Generator(3)), new Relu(), new Linear(8, 3, generator: new Generator(4)), new Relu());
        Sequential fused = Make().Fuse(), plain = Make();
        Tensor x = Tensor.Randn([5, 6], DType.Float32, new Generator(9));
        Assert.Equal("ReluBackward", plain.Forward(x).GradFn!.Name); // unfused: the pre-activation is a tensor of its own
        Tensor y = fused.Forward(x);
        Assert.Equal("LinearReluBackward", y.GradFn!.Name);
        Tensor expected = ((Linear)plain[2]).Forward(((Linear)plain[0]).Forward(x).Relu()).Relu();
        Assert.Equal(expected.ToArray<float>(), y.ToArray<float>());
        y.Sum().Backward();
        expected.Sum().Backward();
        Parameter[] pf = [.. fused.Parameters()], pp = [.. plain.Parameters()];
        for (int i = 0; i < pf.Length; i++)
            Assert.Equal(pp[i].Grad!.ToArray<float>(), pf[i].Grad!.ToArray<float>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RetainedOrHookedGradient_IsNotMaskedInPlace(bool hook)
    {
        // Inside a chain the engine lets LinearRelu mask its incoming gradient in place; a
        // retained or hooked gradient must keep the unmasked values.
        var g = new Generator(21);
        Tensor x = Tensor.Randn([6, 4], DType.Float64, g);
        Tensor w1 = Tensor.Randn([5, 4], DType.Float64, g).RequireGrad(), w2 = Tensor.Randn([3, 5], DType.Float64, g).RequireGrad();
        Tensor h = Functional.LinearRelu(x, w1);
        Tensor? seen = null;
        IDisposable? handle = null;
        if (hook) handle = h.RegisterHook(t => { seen = t; return null; }); // keeps the engine's tensor itself
        else h.RetainGrad();
        Functional.LinearRelu(h, w2).Sum().Backward();
        handle?.Dispose();
        Tensor hRef = Functional.LinearRelu(x, w1.Detach()).RequireGrad();
        Functional.LinearRelu(hRef, w2.Detach()).Sum().Backward();
        double[] expected = hRef.Grad!.ToDoubleArray();
        Assert.Contains(expected, v => v != 0);
        Assert.Contains(h.ToDoubleArray(), v => v == 0); // some rows are masked, so masking would show
        T.Close(expected, hook ? seen! : h.Grad!, 0);
    }
}
