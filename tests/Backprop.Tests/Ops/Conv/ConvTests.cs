using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Conv;

public class ConvTests
{
    // Produced with torch 1.13 (float64): x = seq([1,4,5,5], 0.37, 0.1), w = seq([4,2,3,3], 0.23, 0.5, 0.5),
    // b = seq([4], 1.1, 0.2); F.conv2d(x, w, b, stride=2, padding=1, groups=2). seq = scale·sin(a·i + b).
    private static readonly double[] ConvA =
    [
        2.024685674, 2.843350728, 1.306060615, -1.27833687, -1.591812427, -0.09913382001, 1.418846444, 2.207771045, 1.072650607,
        0.01094811601, -1.412329433, -0.6944865824, 1.020326078, 2.297661267, 2.128973232, 0.2995273453, -1.403171722, -0.9845012016,
        -0.328755196, 0.05404551997, 1.053210878, 2.538509099, 2.034596391, 0.3747364943, -0.2079484454, 0.5000164364, 1.537345059,
        1.198464116, 2.303475178, 1.00637896, -1.963525062, -2.61658064, -1.09291075, 0.5989402842, 1.498945725, 0.5510399432,
    ];

    // torch 1.13: x = seq([1,4,5,6], 0.37, 0.1), w = seq([4,2,3,2], 0.23, 0.5, 0.5);
    // F.conv2d(x, w, None, stride=(2,1), padding=(1,2), dilation=(2,1), groups=2).
    private static readonly double[] ConvB =
    [
        0, 0.7259674455, 1.455544196, 1.551650511, 1.437748209, 1.129253431, 0.6679194988, 0.2881801633, 0,
        0, 0.5544913002, 1.16189721, 1.475470046, 1.589344933, 1.488109439, 1.185465314, 0.567039704, 0,
        0, -0.5932110078, -1.231445422, -1.511437483, -1.586863571, -1.447515119, -1.112252287, -0.5264969818, 0,
        0, -0.3224193798, -0.7306924838, -1.176787412, -1.463609684, -1.552339252, -1.430966984, -0.7107282177, 0,
        0, -0.5190540312, -1.087245364, -1.420779198, -1.562017234, -1.491843564, -1.219755866, -0.5867228799, 0,
        0, -0.2052585679, -0.4926549722, -0.9608754689, -1.299045979, -1.461396709, -1.425954251, -0.7190714034, 0,
        0, 0.2637561781, 0.6050818513, 1.056687739, 1.365275899, 1.48908037, 1.411344799, 0.7066991787, 0,
        0, -0.09062509349, -0.0845003007, 0.4221958237, 0.8717497239, 1.203316389, 1.372019825, 0.7156698082, 0,
    ];

    [Theory]
    [InlineData(DType.Float64, 1e-8)]
    [InlineData(DType.Float32, 1e-5)]
    public void Forward_MatchesPyTorch_StridePaddingGroupsBias(DType dtype, double tol)
    {
        Tensor x = ConvReference.Seq([1, 4, 5, 5], 0.37, 0.1, 1, dtype);
        Tensor w = ConvReference.Seq([4, 2, 3, 3], 0.23, 0.5, 0.5, dtype);
        Tensor b = ConvReference.Seq([4], 1.1, 0.2, 1, dtype);
        Tensor y = Functional.Conv2d(x, w, b, stride: 2, padding: 1, groups: 2);
        Assert.Equal(new Shape(1, 4, 3, 3), y.Shape);
        Assert.Equal(dtype, y.DType);
        T.Close(ConvA, y, tol);
    }

    [Theory]
    [InlineData(DType.Float64, 1e-8)]
    [InlineData(DType.Float32, 1e-5)]
    public void Forward_MatchesPyTorch_TupleArguments(DType dtype, double tol)
    {
        Tensor x = ConvReference.Seq([1, 4, 5, 6], 0.37, 0.1, 1, dtype);
        Tensor w = ConvReference.Seq([4, 2, 3, 2], 0.23, 0.5, 0.5, dtype);
        Tensor y = Functional.Conv2d(x, w, null, stride: (2, 1), padding: (1, 2), dilation: (2, 1), groups: 2);
        Assert.Equal(new Shape(1, 4, 2, 9), y.Shape);
        T.Close(ConvB, y, tol);
    }

    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(3)] [InlineData(4)] [InlineData(5)]
    [InlineData(6)] [InlineData(7)] [InlineData(8)] [InlineData(9)] [InlineData(10)]
    [InlineData(11)] [InlineData(12)] [InlineData(13)] [InlineData(14)] [InlineData(15)]
    public void Forward_MatchesDirectConvolution_RandomShapes(int seed)
    {
        var rng = new Random(seed);
        int groups = rng.Next(1, 4), cg = rng.Next(1, 4), og = rng.Next(1, 4), n = rng.Next(1, 4);
        int kh = rng.Next(1, 5), kw = rng.Next(1, 5), sh = rng.Next(1, 4), sw = rng.Next(1, 4);
        int dh = rng.Next(1, 3), dw = rng.Next(1, 3), ph = rng.Next(0, 3), pw = rng.Next(0, 3);
        int h = Math.Max(1, dh * (kh - 1) + 1 - 2 * ph) + rng.Next(0, 12);
        int wd = Math.Max(1, dw * (kw - 1) + 1 - 2 * pw) + rng.Next(0, 30);
        bool bias = rng.Next(2) == 0;
        int[] xs = [n, groups * cg, h, wd], ws = [groups * og, cg, kh, kw];
        Tensor x = Tensor.Randn(xs, DType.Float64, new Generator((ulong)seed));
        Tensor w = Tensor.Randn(ws, DType.Float64, new Generator((ulong)seed + 100));
        Tensor? b = bias ? Tensor.Randn([groups * og], DType.Float64, new Generator((ulong)seed + 200)) : null;

        double[] expected = ConvReference.Conv2d(x.ToDoubleArray(), xs, w.ToDoubleArray(), ws, b?.ToDoubleArray(),
            sh, sw, ph, pw, dh, dw, groups, out int[] ys);
        Tensor y = Functional.Conv2d(x, w, b, (sh, sw), (ph, pw), (dh, dw), groups);
        Assert.Equal(new Shape(ys), y.Shape);
        T.Close(expected, y, 1e-10);

        Tensor y32 = Functional.Conv2d(x.To(DType.Float32), w.To(DType.Float32), b?.To(DType.Float32), (sh, sw), (ph, pw), (dh, dw), groups);
        T.Close(expected, y32, 1e-4);
    }

    public static TheoryData<int[], int[], int, int, int, int, bool> GradCases => new()
    {
        // input [N, C, H, W], weight [O, C/g, kh, kw], stride, padding, dilation, groups, bias
        { [1, 2, 5, 5], [3, 2, 3, 3], 1, 0, 1, 1, true },
        { [3, 2, 5, 6], [2, 2, 3, 3], 2, 1, 1, 1, true },
        { [1, 4, 7, 6], [4, 2, 3, 2], 1, 1, 2, 2, true },
        { [3, 4, 7, 7], [6, 2, 3, 3], 2, 1, 2, 2, true },
        { [1, 3, 4, 5], [3, 3, 1, 1], 1, 0, 1, 1, false },
        { [2, 6, 5, 5], [6, 2, 3, 3], 1, 2, 1, 3, false },
        { [1, 2, 6, 5], [2, 2, 1, 1], 2, 0, 1, 1, true },
        { [3, 3, 3, 7], [2, 3, 2, 4], 3, 1, 1, 1, true },
    };

    [Theory]
    [MemberData(nameof(GradCases))]
    public void GradCheck_InputWeightBias(int[] xs, int[] ws, int stride, int padding, int dilation, int groups, bool bias)
    {
        Tensor[] inputs = bias ? [T.Param(1, xs), T.Param(2, ws), T.Param(3, ws[0])] : [T.Param(1, xs), T.Param(2, ws)];
        GradCheck.Verify(v => Functional.Conv2d(v[0], v[1], bias ? v[2] : null, stride, padding, dilation, groups), inputs);
    }

    [Fact]
    public void GradCheck_TupleArguments()
        => GradCheck.Verify(v => Functional.Conv2d(v[0], v[1], v[2], (2, 1), (0, 2), (1, 2), 1),
            [T.Param(1, 2, 2, 7, 5), T.Param(2, 3, 2, 3, 2), T.Param(3, 3)]);

    [Fact]
    public void GradCheck_OnlyWeightRequiresGrad()
    {
        Tensor x = Tensor.Randn([2, 2, 5, 5], DType.Float64, new Generator(9));
        GradCheck.Verify(v => Functional.Conv2d(x, v[0], null, 2, 1), [T.Param(2, 3, 2, 3, 3)]);
    }

    /// <summary>Frozen weights: the backward computes dx without the saved input (it used to unfold the absent input).</summary>
    [Fact]
    public void GradCheck_OnlyInputRequiresGrad()
    {
        Tensor w = Tensor.Randn([3, 2, 3, 3], DType.Float64, new Generator(9)), b = Tensor.Randn([3], DType.Float64, new Generator(10));
        GradCheck.Verify(v => Functional.Conv2d(v[0], w, b, 1, 1), [T.Param(2, 3, 2, 5, 6)]);
        GradCheck.Verify(v => Functional.Conv2d(v[0], w, null, 2, 0, 2), [T.Param(3, 2, 2, 7, 7)]);
    }

    [Fact]
    public void Unbatched_MatchesBatchedAndGradChecks()
    {
        Tensor x = T.Param(1, 2, 5, 5), w = T.Param(2, 3, 2, 3, 3), b = T.Param(3, 3);
        Tensor y = Functional.Conv2d(x, w, b, padding: 1);
        Assert.Equal(new Shape(3, 5, 5), y.Shape);
        T.Close(Functional.Conv2d(x.Reshape(1, 2, 5, 5), w, b, padding: 1).ToDoubleArray(), y, 1e-12);
        GradCheck.Verify(v => Functional.Conv2d(v[0], v[1], v[2], stride: 2, padding: 1), [x, w, b]);
    }

    [Fact]
    public void NonContiguousInput_GivesSameResultAndGradient()
    {
        Tensor xt = T.Param(1, 1, 2, 6, 5);
        Tensor w = T.Param(2, 2, 2, 3, 3);
        Tensor view = xt.Transpose(2, 3); // [1, 2, 5, 6], strided
        Tensor y = Functional.Conv2d(view, w, null, 1, 1);
        T.Close(Functional.Conv2d(view.Contiguous(), w, null, 1, 1).ToDoubleArray(), y, 1e-12);
        GradCheck.Verify(v => Functional.Conv2d(v[0].Transpose(2, 3), v[1], null, 1, 1), [xt, w]);
    }

    [Fact]
    public void DoubleBackward_ThrowsNotSupported()
    {
        Tensor x = T.Param(1, 1, 2, 4, 4), w = T.Param(2, 2, 2, 3, 3);
        Tensor y = Functional.Conv2d(x, w).Sum();
        var e = Assert.Throws<NotSupportedException>(() => Gradients.Grad([y], [x], createGraph: true));
        Assert.Equal("Conv2d: double backward is not supported yet", e.Message);
    }

    [Fact]
    public void Backward_ReturnsGradientsOfTheRightShapes()
    {
        Tensor x = T.Param(1, 2, 4, 6, 6), w = T.Param(2, 8, 2, 3, 3), b = T.Param(3, 8);
        Functional.Conv2d(x, w, b, 2, 1, 1, 2).Sum().Backward();
        Assert.Equal(x.Shape, x.Grad!.Shape);
        Assert.Equal(w.Shape, w.Grad!.Shape);
        // d(sum y)/db[o] = number of output pixels per channel times the batch.
        T.Close([18, 18, 18, 18, 18, 18, 18, 18], b.Grad!, 1e-12);
    }

    [Fact]
    public void Errors_NameOpShapesAndValues()
    {
        Tensor w = Tensor.Zeros([4, 2, 3, 3]);
        var rank = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([4, 5]), w));
        Assert.Contains("Conv2d", rank.Message);
        Assert.Contains("[4, 5]", rank.Message);

        var wrank = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 5, 5]), Tensor.Zeros([4, 2, 3])));
        Assert.Contains("[4, 2, 3]", wrank.Message);

        var channels = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 3, 5, 5]), w));
        Assert.Contains("Conv2d", channels.Message);
        Assert.Contains("[1, 3, 5, 5]", channels.Message);
        Assert.Contains("[4, 2, 3, 3]", channels.Message);

        var groups = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 4, 5, 5]), Tensor.Zeros([3, 2, 3, 3]), groups: 2));
        Assert.Contains("groups=2", groups.Message);
        Assert.Contains("[3, 2, 3, 3]", groups.Message);

        var ingroups = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 3, 5, 5]), Tensor.Zeros([4, 1, 3, 3]), groups: 2));
        Assert.Contains("groups=2", ingroups.Message);
        Assert.Contains("[1, 3, 5, 5]", ingroups.Message);

        var big = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 2, 5]), w));
        Assert.Contains("[1, 2, 2, 5]", big.Message);
        Assert.Contains("larger than the padded input", big.Message);

        var dilated = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 4, 4]), w, dilation: 2));
        Assert.Contains("dilation (2, 2)", dilated.Message);

        var dtype = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 5, 5], DType.Int64), Tensor.Zeros([4, 2, 3, 3], DType.Int64)));
        Assert.Contains("int64", dtype.Message);

        var mixed = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 5, 5], DType.Float64), w));
        Assert.Contains("float32", mixed.Message);

        var bias = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 5, 5]), w, Tensor.Zeros([3])));
        Assert.Contains("[3]", bias.Message);

        var stride = Assert.Throws<ArgumentException>(() => Functional.Conv2d(Tensor.Zeros([1, 2, 5, 5]), w, stride: 0));
        Assert.Contains("stride", stride.Message);
    }
}
