using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Conv;

/// <summary>ConvTranspose2d: the adjoint of Conv2d, gradient checks in float64, thread invariance and errors.</summary>
public class ConvTranspose2dTests
{
    public static TheoryData<int[], int[], (int, int), (int, int), (int, int), (int, int), int, bool> Cases => new()
    {
        // input [N, Cin, H, W], weight [Cin, Cout/g, kh, kw], stride, padding, outputPadding, dilation, groups, bias
        { [1, 2, 3, 3], [2, 3, 3, 3], (1, 1), (0, 0), (0, 0), (1, 1), 1, true },
        { [2, 2, 3, 4], [2, 2, 3, 3], (2, 2), (1, 1), (1, 1), (1, 1), 1, true },
        { [1, 4, 3, 3], [4, 1, 2, 3], (2, 1), (0, 1), (1, 0), (1, 2), 2, false },
        { [2, 3, 2, 3], [3, 2, 3, 2], (1, 3), (2, 0), (1, 2), (2, 1), 1, true },
        { [1, 6, 3, 2], [6, 1, 1, 1], (1, 1), (0, 0), (0, 0), (1, 1), 3, true },
        { [3, 2, 2, 2], [2, 2, 2, 2], (3, 2), (1, 0), (2, 1), (1, 1), 2, false },
        { [1, 2, 3, 2], [2, 2, 1, 1], (1, 1), (0, 0), (1, 1), (2, 2), 1, true },   // 1×1 kernel whose output outgrows its input: not pointwise
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradCheck_InputWeightBias(int[] xs, int[] ws, (int, int) stride, (int, int) padding, (int, int) outputPadding, (int, int) dilation, int groups, bool bias)
    {
        Tensor[] inputs = bias ? [T.Param(1, xs), T.Param(2, ws), T.Param(3, ws[1] * groups)] : [T.Param(1, xs), T.Param(2, ws)];
        GradCheck.Verify(v => Functional.ConvTranspose2d(v[0], v[1], bias ? v[2] : null, stride, padding, outputPadding, groups, dilation), inputs);
    }

    /// <summary>⟨conv(z, w), x⟩ = ⟨z, convT(x, w)⟩: the transposed convolution is the convolution's adjoint in its input.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void IsTheAdjointOfConv2d(int[] xs, int[] ws, (int, int) stride, (int, int) padding, (int, int) outputPadding, (int, int) dilation, int groups, bool bias)
    {
        _ = bias;
        Tensor x = Tensor.Randn(xs, DType.Float64, new Generator(5)), w = Tensor.Randn(ws, DType.Float64, new Generator(6));
        Tensor y = Functional.ConvTranspose2d(x, w, null, stride, padding, outputPadding, groups, dilation);
        Tensor z = Tensor.Randn(y.Shape, DType.Float64, new Generator(7));
        // An outputPadding at or above the stride (allowed below the dilation) gives the convolution extra outputs: the adjoint is of its first H × W.
        Tensor convZ = Functional.Conv2d(z, w, null, stride, padding, dilation, groups).Narrow(2, 0, xs[2]).Narrow(3, 0, xs[3]);
        Assert.Equal((convZ * x).Sum().Item(), (z * y).Sum().Item(), 9);
    }

    [Fact]
    public void Unbatched_NonContiguous_AndOnlyOneInputRequiringGrad()
    {
        Tensor x = T.Param(1, 2, 4, 3), w = T.Param(2, 2, 3, 2, 2), b = T.Param(3, 3);
        Tensor y = Functional.ConvTranspose2d(x, w, b, stride: 2);
        Assert.Equal(new Shape(3, 8, 6), y.Shape);
        T.Close(Functional.ConvTranspose2d(x.Reshape(1, 2, 4, 3), w, b, stride: 2).ToDoubleArray(), y, 1e-12);
        GradCheck.Verify(v => Functional.ConvTranspose2d(v[0].Transpose(2, 3), v[1], null, stride: (1, 2), padding: 1), [T.Param(4, 1, 2, 3, 4), w]);
        Tensor frozen = Tensor.Randn([2, 3, 2, 2], DType.Float64, new Generator(8));
        GradCheck.Verify(v => Functional.ConvTranspose2d(v[0], frozen, null, stride: 2, padding: 1), [T.Param(5, 2, 2, 3, 3)]);
        Tensor input = Tensor.Randn([2, 2, 3, 3], DType.Float64, new Generator(9));
        GradCheck.Verify(v => Functional.ConvTranspose2d(input, v[0], v[1], stride: 2), [T.Param(6, 2, 3, 2, 2), T.Param(7, 3)]);
    }

    [Fact]
    public void DoubleBackward_ThrowsNotSupported()
    {
        Tensor x = T.Param(1, 1, 2, 3, 3), w = T.Param(2, 2, 2, 2, 2);
        Tensor y = Functional.ConvTranspose2d(x, w).Sum();
        var e = Assert.Throws<NotSupportedException>(() => Gradients.Grad([y], [x], createGraph: true));
        Assert.Equal("ConvTranspose2d: double backward is not supported yet", e.Message);
    }

    [Fact]
    public void Errors_NameOpShapesAndValues()
    {
        Tensor w = Tensor.Zeros([4, 2, 3, 3]);
        var rank = Assert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros([4, 5]), w));
        Assert.Contains("ConvTranspose2d", rank.Message);
        Assert.Contains("[4, 5]", rank.Message);
        var channels = Assert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros([1, 3, 5, 5]), w));
        Assert.Contains("[1, 3, 5, 5]", channels.Message);
        Assert.Contains("[4, 2, 3, 3]", channels.Message);
        var groups = Assert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros([1, 4, 5, 5]), w, groups: 3));
        Assert.Contains("groups=3", groups.Message);
        var bias = Assert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros([1, 4, 5, 5]), w, Tensor.Zeros([4])));
        Assert.Contains("[4]", bias.Message);
        Assert.Contains("[4, 2, 3, 3]", bias.Message);
        var outPad = Assert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros([1, 4, 5, 5]), w, stride: 2, outputPadding: 2));
        Assert.Contains("output padding", outPad.Message);
        Assert.Contains("(2, 2)", outPad.Message);
        var empty = Assert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros([1, 4, 1, 1]), w, padding: 2));
        Assert.Contains("empty output", empty.Message);
        var dtype = Assert.Throws<ArgumentException>(() => Functional.ConvTranspose2d(Tensor.Zeros([1, 4, 5, 5], DType.Float64), w));
        Assert.Contains("float32", dtype.Message);
    }
}
