using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Conv;

/// <summary>Conv1d (through the 2-D driver) and padding "same": equivalences, gradient checks and errors.</summary>
public class Conv1dSameTests
{
    [Theory]
    [InlineData(2, 4, 9, 6, 3, 2, 1, 1, 2, true)]
    [InlineData(1, 3, 10, 2, 4, 1, 2, 2, 1, false)]
    [InlineData(3, 2, 5, 4, 1, 1, 0, 1, 2, true)]
    [InlineData(2, 3, 7, 3, 5, 3, 3, 1, 1, true)]
    public void GradCheck_MatchesConv2dOfHeightOne(int n, int c, int l, int o, int k, int stride, int padding, int dilation, int groups, bool bias)
    {
        Tensor[] inputs = bias ? [T.Param(1, n, c, l), T.Param(2, o, c / groups, k), T.Param(3, o)] : [T.Param(1, n, c, l), T.Param(2, o, c / groups, k)];
        Tensor y = Functional.Conv1d(inputs[0], inputs[1], bias ? inputs[2] : null, stride, padding, dilation, groups);
        Tensor y2 = Functional.Conv2d(inputs[0].Unsqueeze(2), inputs[1].Unsqueeze(2), bias ? inputs[2] : null, (1, stride), (0, padding), (1, dilation), groups);
        T.Close(y2.Squeeze(2).ToDoubleArray(), y, 1e-12);
        GradCheck.Verify(v => Functional.Conv1d(v[0], v[1], bias ? v[2] : null, stride, padding, dilation, groups), inputs);
    }

    [Fact]
    public void Unbatched_AndSamePadding_KeepTheLength()
    {
        Tensor x = T.Param(1, 3, 8), w = T.Param(2, 4, 3, 4), b = T.Param(3, 4);
        Tensor y = Functional.Conv1d(x, w, b, "same");
        Assert.Equal(new Shape(4, 8), y.Shape);
        T.Close(Functional.Conv1d(x.Unsqueeze(0), w, b, "same").Squeeze(0).ToDoubleArray(), y, 1e-12);
        GradCheck.Verify(v => Functional.Conv1d(v[0], v[1], v[2], "same", dilation: 2), [x, w, b]);
        Assert.Equal(new Shape(4, 5), Functional.Conv1d(x, w, b, "valid").Shape);
    }

    [Theory]
    [InlineData(3, 3, 1, 1)]
    [InlineData(4, 3, 1, 1)]
    [InlineData(4, 2, 2, 1)]
    [InlineData(2, 5, 1, 3)]
    public void Conv2dSame_KeepsTheSize_AndGradChecks(int kh, int kw, int dh, int dw)
    {
        Tensor x = T.Param(1, 2, 2, 5, 6), w = T.Param(2, 3, 2, kh, kw), b = T.Param(3, 3);
        Tensor y = Functional.Conv2d(x, w, b, "same", dilation: (dh, dw));
        Assert.Equal(new Shape(2, 3, 5, 6), y.Shape);
        GradCheck.Verify(v => Functional.Conv2d(v[0], v[1], v[2], "same", dilation: (dh, dw)), [x, w, b]);
        Assert.Equal(new Shape(3, 5, 6), Functional.Conv2d(x.Select(0, 0), w, b, "same", dilation: (dh, dw)).Shape);
    }

    [Fact]
    public void Errors_NameConv1dAndTheShapes()
    {
        Tensor w = Tensor.Zeros([4, 2, 3]);
        var rank = Assert.Throws<ArgumentException>(() => Functional.Conv1d(Tensor.Zeros([1, 2, 3, 4]), w));
        Assert.Contains("Conv1d", rank.Message);
        Assert.Contains("[1, 2, 3, 4]", rank.Message);
        var wrank = Assert.Throws<ArgumentException>(() => Functional.Conv1d(Tensor.Zeros([1, 2, 5]), Tensor.Zeros([4, 2, 3, 3])));
        Assert.Contains("Conv1d", wrank.Message);
        Assert.Contains("[4, 2, 3, 3]", wrank.Message);
        var channels = Assert.Throws<ArgumentException>(() => Functional.Conv1d(Tensor.Zeros([1, 3, 5]), w));
        Assert.Contains("Conv1d", channels.Message);
        Assert.Contains("[1, 3, 5]", channels.Message);
        Assert.Contains("[4, 2, 3]", channels.Message);
        var small = Assert.Throws<ArgumentException>(() => Functional.Conv1d(Tensor.Zeros([1, 2, 2]), w));
        Assert.Contains("larger than the padded input", small.Message);
        var bias = Assert.Throws<ArgumentException>(() => Functional.Conv1d(Tensor.Zeros([1, 2, 5]), w, Tensor.Zeros([3])));
        Assert.Contains("[3]", bias.Message);
        var strided = Assert.Throws<ArgumentException>(() => Functional.Conv1d(Tensor.Zeros([1, 2, 5]), w, null, "same", stride: 2));
        Assert.Contains("strided", strided.Message);
        var strided2 = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 5, 5]), Tensor.Zeros([4, 2, 3, 3]), null, "same", stride: (1, 2)));
        Assert.Contains("strided", strided2.Message);
        var word = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 5, 5]), Tensor.Zeros([4, 2, 3, 3]), null, "full"));
        Assert.Contains("'full'", word.Message);
    }
}
