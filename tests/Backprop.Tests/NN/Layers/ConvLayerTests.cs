using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Conv;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>The convolution and pooling modules: int or (h, w) arguments, "same", padding modes, PyTorch's init, shapes and errors.</summary>
public class ConvLayerTests
{
    [Fact]
    public void IntPairAndConvPadding_ConvertLikePyTorchsPair()
    {
        IntPair a = 3, b = (2, 5);
        Assert.Equal(new IntPair(3, 3), a);
        Assert.Equal((2, 5), ((int, int))b);
        Assert.Equal("3", a.ToString());
        Assert.Equal("(2, 5)", b.ToString());
        ConvPadding same = "same", valid = "valid", one = 1, pair = (1, 2);
        Assert.True(same.IsSame);
        Assert.Equal(new IntPair(0, 0), valid.Size);
        Assert.Equal(new IntPair(1, 1), one.Size);
        Assert.Equal("(1, 2)", pair.ToString());
        var bad = Assert.Throws<ArgumentException>(() => _ = (ConvPadding)"full");
        Assert.Contains("'full'", bad.Message);
    }

    [Fact]
    public void Conv2d_TupleArguments_AndPyTorchInit()
    {
        var conv = new Conv2d(4, 6, (3, 5), stride: (2, 1), padding: (1, 2), dilation: (1, 2), groups: 2, generator: new Generator(1));
        Assert.Equal(new Shape(6, 2, 3, 5), conv.Weight.Shape);
        Assert.Equal(new Shape(2, 6, 4, 3), conv.Forward(Tensor.Zeros([2, 4, 7, 7])).Shape); // H: (7+2−3)/2+1; W: (7+4−9)/1+1
        double bound = 1 / Math.Sqrt(2 * 3 * 5); // kaiming_uniform(a=√5): 1/√fan_in, fan_in = in/groups·kh·kw
        double[] w = conv.Weight.Data.ToDoubleArray();
        Assert.All(w, v => Assert.True(Math.Abs(v) <= bound));
        Assert.True(w.Max() > 0.8 * bound && w.Min() < -0.8 * bound); // spread over the whole range
        Assert.All(conv.Bias!.Data.ToDoubleArray(), v => Assert.True(Math.Abs(v) <= bound));
        Assert.Equal("Conv2d(4 → 6, kernel (3, 5), stride (2, 1), padding (1, 2), dilation (1, 2), groups 2)", conv.ToString().Trim());
        // An int still means both dims, as before.
        Assert.Equal(new Shape(1, 8, 5, 5), new Conv2d(3, 8, 3, padding: 1).Forward(Tensor.Zeros([1, 3, 5, 5])).Shape);
    }

    [Fact]
    public void Conv2d_SamePadding_KeepsTheSize_AndRefusesStrides()
    {
        var conv = new Conv2d(2, 3, (4, 3), padding: "same", dilation: (1, 2), dtype: DType.Float64);
        Assert.Equal(new Shape(2, 3, 6, 7), conv.Forward(T.Param(1, 2, 2, 6, 7)).Shape);
        GradCheck.Verify(v => conv.Forward(v[0]), [T.Param(2, 1, 2, 5, 6)]);
        var e = Assert.Throws<ArgumentException>(() => new Conv2d(2, 3, 3, stride: 2, padding: "same"));
        Assert.Contains("strided", e.Message);
        Assert.Equal(new Shape(1, 3, 3, 4), new Conv2d(2, 3, 3, padding: "valid").Forward(Tensor.Zeros([1, 2, 5, 6])).Shape);
    }

    [Theory]
    [InlineData(PaddingMode.Reflect)]
    [InlineData(PaddingMode.Replicate)]
    [InlineData(PaddingMode.Circular)]
    public void PaddingModes_GradCheck_InputAndParameters(PaddingMode mode)
    {
        var conv2 = new Conv2d(2, 3, (3, 2), padding: (2, 1), paddingMode: mode, dtype: DType.Float64, generator: new Generator(3));
        GradCheck.Verify(v => conv2.Forward(v[0]), [T.Param(1, 2, 2, 4, 3)]);
        Assert.Equal(new Shape(3, 6, 4), conv2.Forward(T.Param(1, 2, 4, 3)).Shape); // unbatched
        var conv1 = new Conv1d(2, 2, 3, padding: "same", dilation: 2, paddingMode: mode, dtype: DType.Float64, generator: new Generator(4));
        GradCheck.Verify(v => conv1.Forward(v[0]), [T.Param(2, 2, 2, 5)]);
    }

    [Fact]
    public void PaddingModes_CopyTheBorderAsNamed()
    {
        // A 1×1 kernel of weight 1 and no bias shows the padded input itself.
        Tensor x = T.F64([0, 1, 2, 3], 1, 1, 4);
        double[] Padded(PaddingMode mode)
        {
            var conv = new Conv1d(1, 1, 1, padding: 2, bias: false, paddingMode: mode, dtype: DType.Float64);
            using (GradMode.Disable()) conv.Weight.Data.CopyFrom(T.F64([1.0], 1, 1, 1));
            return conv.Forward(x).ToDoubleArray();
        }
        T.Close([2.0, 1, 0, 1, 2, 3, 2, 1], Padded(PaddingMode.Reflect), 0);
        T.Close([0.0, 0, 0, 1, 2, 3, 3, 3], Padded(PaddingMode.Replicate), 0);
        T.Close([2.0, 3, 0, 1, 2, 3, 0, 1], Padded(PaddingMode.Circular), 0);
        T.Close([0.0, 0, 0, 1, 2, 3, 0, 0], Padded(PaddingMode.Zeros), 0);
        var big = Assert.Throws<ArgumentException>(() => new Conv1d(1, 1, 1, padding: 4, paddingMode: PaddingMode.Reflect).Forward(Tensor.Zeros([1, 1, 4])));
        Assert.Contains("reflect padding (4, 4)", big.Message);
        Assert.Contains("[1, 1, 4]", big.Message);
    }

    [Fact]
    public void Conv1d_Module_ShapesInitAndErrors()
    {
        var conv = new Conv1d(4, 6, 3, stride: 2, padding: 1, groups: 2, generator: new Generator(2));
        Assert.Equal(new Shape(6, 2, 3), conv.Weight.Shape);
        Assert.Equal(new Shape(5, 6, 5), conv.Forward(Tensor.Zeros([5, 4, 9])).Shape);
        Assert.Equal(new Shape(6, 5), conv.Forward(Tensor.Zeros([4, 9])).Shape);
        double bound = 1 / Math.Sqrt(2 * 3);
        Assert.All(conv.Weight.Data.ToDoubleArray(), v => Assert.True(Math.Abs(v) <= bound));
        Assert.Contains("Conv1d", Assert.Throws<ArgumentException>(() => new Conv1d(3, 4, 3, groups: 2)).Message);
        Assert.Contains("(1, 2)", Assert.Throws<ArgumentException>(() => new Conv1d(3, 4, 3, padding: (1, 2))).Message);
        Assert.Contains("strided", Assert.Throws<ArgumentException>(() => new Conv1d(3, 4, 3, stride: 2, padding: "same")).Message);
    }

    [Fact]
    public void ConvTranspose2d_Module_LayoutInitAndOutputSize()
    {
        var up = new ConvTranspose2d(8, 4, (4, 3), stride: 2, padding: 1, groups: 2, generator: new Generator(5));
        Assert.Equal(new Shape(8, 2, 4, 3), up.Weight.Shape); // PyTorch's [in, out/groups, kh, kw]
        double bound = 1 / Math.Sqrt(2 * 4 * 3);               // fan_in from the weight: size(1)·kh·kw
        Assert.All(up.Weight.Data.ToDoubleArray(), v => Assert.True(Math.Abs(v) <= bound));
        Assert.Equal(new Shape(3, 4, 10, 9), up.Forward(Tensor.Zeros([3, 8, 5, 5])).Shape);
        Assert.Equal(new Shape(3, 4, 11, 10), up.Forward(Tensor.Zeros([3, 8, 5, 5]), (11, 10)).Shape);
        var e = Assert.Throws<ArgumentException>(() => up.Forward(Tensor.Zeros([3, 8, 5, 5]), (12, 9)));
        Assert.Contains("(12, 9)", e.Message);
        Assert.Contains("(10, 9) to (11, 10)", e.Message);
        Assert.Contains("outputPadding", Assert.Throws<ArgumentException>(() => new ConvTranspose2d(2, 2, 3, stride: 2, outputPadding: 2)).Message);
        Assert.Equal("ConvTranspose2d(8 → 4, kernel (4, 3), stride 2, padding 1, groups 2)", up.ToString().Trim());
    }

    [Fact]
    public void Pools_TupleArguments_AndAdaptiveModules()
    {
        Tensor x = Tensor.Arange(24, DType.Float64).Reshape(1, 1, 4, 6);
        Assert.Equal(new Shape(1, 1, 2, 2), new MaxPool2d((2, 3)).Forward(x).Shape);
        T.Close([8, 11, 20, 23], new MaxPool2d((2, 3)).Forward(x));
        Assert.Equal(new Shape(1, 1, 3, 2), new AvgPool2d((2, 3), stride: (1, 3)).Forward(x).Shape);
        Assert.Equal(new Shape(1, 1, 2, 3), new MaxPool2d(2, padding: (0, 1), dilation: (1, 2)).Forward(x).Shape);
        Assert.True(new MaxPool2d(2).IsPlain2x2);
        Assert.False(new MaxPool2d((2, 3)).IsPlain2x2);
        T.Close([x.Mean().Item()], new AdaptiveAvgPool2d(1).Forward(x));
        Assert.Equal(new Shape(1, 1, 3, 5), new AdaptiveMaxPool2d((3, 5)).Forward(x).Shape);
        Assert.Equal(new Shape(1, 1, 4, 2), new AdaptiveAvgPool2d((null, 2)).Forward(x).Shape);
        Assert.Contains("AdaptiveAvgPool2d", Assert.Throws<ArgumentException>(() => new AdaptiveAvgPool2d(0)).Message);
        Assert.Equal("AdaptiveAvgPool2d((None, 2))", new AdaptiveAvgPool2d((null, 2)).ToString().Trim());
    }

    [Fact]
    public void FusedConvReluPool_WithSameOrReflectPadding_EqualsTheThreeOps()
    {
        foreach (Conv2d conv in new[]
                 {
                     new Conv2d(2, 3, 3, padding: "same", generator: new Generator(1), dtype: DType.Float64),
                     new Conv2d(2, 3, 4, padding: "same", generator: new Generator(2), dtype: DType.Float64),
                     new Conv2d(2, 3, (3, 5), padding: (1, 2), paddingMode: PaddingMode.Reflect, generator: new Generator(3), dtype: DType.Float64),
                     new Conv2d(2, 3, (3, 1), stride: (1, 2), padding: (1, 0), generator: new Generator(4), dtype: DType.Float64),
                 })
        {
            Tensor x = T.Param(5, 2, 2, 8, 8);
            Tensor expected = Functional.MaxPool2d(conv.Forward(x).Relu(), 2);
            var fused = new Conv2dReluMaxPool2d(conv);
            T.Close(expected.ToDoubleArray(), fused.Forward(x), 1e-12);
            var model = new Sequential(conv, new Relu(), new MaxPool2d(2));
            model.Fuse();
            T.Close(expected.ToDoubleArray(), model.Forward(x), 1e-12);
        }
    }

    [Fact]
    public void ModelSummary_CountsTupleKernelsAndTheNewConvolutions()
    {
        ModelSummary s = ModelSummary.Of(new Sequential(new Conv2d(1, 4, (3, 5), padding: "same")), [1, 1, 6, 7]);
        Assert.Equal(6 * 7 * 4 * 1 * 3 * 5, s.TotalMultiplyAdds);
        Assert.Equal(2 * 4 * 9 * 3 * 3, ModelSummary.Of(new Sequential(new Conv1d(3, 4, 3)), [2, 3, 11]).TotalMultiplyAdds);
        Assert.Equal(1 * 4 * 5 * 5 * 2 * 2 * 3, ModelSummary.Of(new Sequential(new ConvTranspose2d(4, 2, (2, 3), stride: 2)), [1, 4, 5, 5]).TotalMultiplyAdds);
    }
}
