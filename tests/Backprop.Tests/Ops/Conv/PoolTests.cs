using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Conv;

public class PoolTests
{
    // All literals: torch 1.13, float64, x = seq([1,2,6,6], 0.71, 0.3) with seq = scale·sin(a·i + b).
    private static Tensor X(DType dtype = DType.Float64) => ConvReference.Seq([1, 2, 6, 6], 0.71, 0.3, 1, dtype);

    [Fact]
    public void MaxPool_Floor_MatchesPyTorch() // F.max_pool2d(x, 3, 2)
        => T.Close([0.988889766, 0.988889766, 0.9403403914, 0.9712541842, 0.9910971024, 0.9996429656, 0.9967943635, 0.9825837662],
            Functional.MaxPool2d(X(), 3, 2), 1e-9);

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void MaxPool_CeilMode_MatchesPyTorch(DType dtype) // F.max_pool2d(x, 3, 2, ceil_mode=True)
    {
        Tensor y = Functional.MaxPool2d(X(dtype), 3, 2, ceilMode: true);
        Assert.Equal(new Shape(1, 2, 3, 3), y.Shape);
        T.Close([0.988889766, 0.988889766, 0.9674059158, 0.9403403914, 0.9712541842, 0.9712541842, 0.3812504917, 0.9712541842, 0.9712541842,
                 0.9910971024, 0.9996429656, 0.9996429656, 0.9967943635, 0.9825837662, 0.9825837662, 0.331320565, 0.9825837662, 0.9825837662], y, 1e-6);
    }

    [Fact]
    public void MaxPool_Padding_MatchesPyTorch() // F.max_pool2d(x, 3, 2, padding=1)
        => T.Close([0.8468318446, 0.988889766, 0.9674059158, 0.9403403914, 0.9403403914, 0.9674059158, 0.9403403914, 0.9403403914, 0.9712541842,
                    0.9910971024, 0.9910971024, 0.9996429656, 0.9967943635, 0.9967943635, 0.9996429656, 0.9967943635, 0.9967943635, 0.9825837662],
            Functional.MaxPool2d(X(), 3, 2, padding: 1), 1e-9);

    [Fact]
    public void MaxPool_Dilation_MatchesPyTorch() // F.max_pool2d(x, 2, 1, padding=1, dilation=2)
    {
        Tensor y = Functional.MaxPool2d(X(), 2, 1, padding: 1, dilation: 2);
        Assert.Equal(new Shape(1, 2, 6, 6), y.Shape);
        T.Close([-0.8485216855, -0.2985617425, 0.3956859992, 0.8987080958, 0.9674059158, 0.8987080958, 0.8468318446, 0.988889766, 0.8468318446,
                 0.988889766, 0.6530407516, 0.001592652916, 0.9403403914, 0.9348950555, 0.9403403914, 0.9348950555, 0.9674059158, 0.8987080958,
                 -0.1050279826, 0.5685794345, 0.5813965291, 0.9712541842, 0.8917277613, 0.9712541842, 0.9403403914, 0.9348950555, 0.9403403914,
                 0.9348950555, 0.4776371449, -0.210451453, -0.7170466277, -0.08943625919, 0.5813965291, 0.9712541842, 0.8917277613, 0.9712541842,
                 -0.5529716094, 0.1237553732, 0.7406743234, 0.9996429656, 0.7755079059, 0.9996429656, 0.9910971024, 0.8383960771, 0.9910971024,
                 0.8383960771, 0.2805181414, -0.4129275492, 0.9967943635, 0.8080816061, 0.9967943635, 0.9996429656, 0.7755079059, 0.9996429656,
                 -0.363756172, 0.331320565, 0.8662779425, 0.9825837662, 0.8662779425, 0.9825837662, 0.9967943635, 0.8080816061, 0.9967943635,
                 0.7037800809, 0.430022359, -0.2623748537, -0.363756172, 0.331320565, 0.8662779425, 0.9825837662, 0.8662779425, 0.9825837662], y, 1e-9);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void AvgPool_CeilModePadding_MatchesPyTorch(DType dtype) // F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True)
    {
        Tensor y = Functional.AvgPool2d(X(dtype), 3, 2, padding: 1, ceilMode: true);
        Assert.Equal(new Shape(1, 2, 4, 4), y.Shape);
        T.Close([-0.07717565402, 0.1930405482, 0.2517564754, 0.05279679646, 0.006477828552, -0.02559915131, -0.02768798298, -0.004089822846,
                 -0.0239684079, -0.003145434728, 0.03415859148, 0.01869196891, 0.01129573441, -0.3593491911, -0.2678838302, 0.004314478624,
                 0.01560993158, 0.2690521565, 0.164066736, -0.02188454287, -0.004626681783, -0.03329105182, -0.01621286212, 0.004796880295,
                 -0.01742313629, 0.01165240162, 0.034557048, 0.01308062112, -0.1191483055, -0.4166984611, -0.110054171, 0.1075055897], y, 1e-6);
    }

    [Fact]
    public void AvgPool_ExcludePad_MatchesPyTorch() // F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False)
        => T.Close([-0.1736452215, 0.2895608222, 0.377634713, 0.1583903894, 0.009716742828, -0.02559915131, -0.02768798298, -0.008179645692,
                    -0.03595261186, -0.003145434728, 0.03415859148, 0.03738393783, 0.03388720324, -0.7186983822, -0.5357676603, 0.0172579145,
                    0.03512234604, 0.4035782347, 0.246100104, -0.0656536286, -0.006940022674, -0.03329105182, -0.01621286212, 0.009593760591,
                    -0.02613470443, 0.01165240162, 0.034557048, 0.02616124224, -0.3574449166, -0.8333969222, -0.2201083421, 0.430022359],
            Functional.AvgPool2d(X(), 3, 2, padding: 1, ceilMode: true, countIncludePad: false), 1e-9);

    [Fact]
    public void AvgPool_Tuple_MatchesPyTorch() // F.avg_pool2d(x, (2,3), (1,2), padding=(1,0))
    {
        Tensor y = Functional.AvgPool2d(X(), (2, 3), (1, 2), (1, 0));
        Assert.Equal(new Shape(1, 2, 7, 2), y.Shape);
        T.Close([0.3552069695, 0.2739205284, -0.0007088104375, 0.4398925872, -0.3999701831, -0.2530463691, 0.3503750966, -0.2186716366,
                 0.09366145312, 0.4442158669, -0.4322568314, -0.1696755928, -0.1314887849, -0.4135446685, 0.415719603, 0.1176644449,
                 0.1837734724, 0.4283432219, -0.4448912631, -0.07859064929, 0.2051642092, -0.3596368492, 0.2655303754, 0.3929962894,
                 -0.4372990637, 0.01606735627, -0.2847200974, -0.347296356], y, 1e-9);
    }

    [Fact]
    public void MaxPool_Backward_RoutesToArgmaxAndAccumulatesOverlaps()
    {
        // Windows of size 2, stride 1 over [[1, 4, 3], [2, 0, 5]]: maxima 4 (twice) and 5.
        Tensor x = T.F64([1, 4, 3, 2, 0, 5], 1, 1, 2, 3).RequireGrad();
        Tensor y = Functional.MaxPool2d(x, (2, 2), (1, 1));
        T.Close([4, 5], y);
        y.Sum().Backward();
        T.Close([0, 1, 0, 0, 0, 1], x.Grad!);
    }

    [Fact]
    public void MaxPool_NaNPropagates()
    {
        Tensor x = T.F64([1, double.NaN, 3, 2], 1, 1, 2, 2);
        Assert.True(double.IsNaN(Functional.MaxPool2d(x, 2).Item()));
    }

    public static TheoryData<int[], int, int?, int, int, bool> MaxCases => new()
    {
        // input, kernel, stride, padding, dilation, ceilMode
        { [1, 2, 5, 5], 2, null, 0, 1, false },
        { [3, 2, 5, 6], 3, 2, 1, 1, false },
        { [1, 3, 7, 7], 3, 2, 1, 1, true },
        { [3, 1, 6, 5], 2, 2, 1, 2, true },
        { [1, 2, 5, 5], 3, 1, 1, 2, false },
    };

    [Theory]
    [MemberData(nameof(MaxCases))]
    public void MaxPool_GradCheck(int[] shape, int k, int? s, int p, int d, bool ceil)
    {
        GradCheck.Verify(v => Functional.MaxPool2d(v[0], k, s, p, d, ceil), [T.Param(7, shape)]);
        GradCheck.VerifySecondOrder(v => Functional.MaxPool2d(v[0] * v[0], k, s, p, d, ceil), [T.Param(7, shape)]);
    }

    public static TheoryData<int[], int, int?, int, bool, bool> AvgCases => new()
    {
        // input, kernel, stride, padding, ceilMode, countIncludePad
        { [1, 2, 5, 5], 2, null, 0, false, true },
        { [3, 2, 5, 6], 3, 2, 1, false, true },
        { [1, 3, 7, 7], 3, 2, 1, true, true },
        { [3, 1, 6, 5], 3, 2, 1, true, false },
        { [1, 2, 6, 6], 4, 3, 2, true, false },
    };

    [Theory]
    [MemberData(nameof(AvgCases))]
    public void AvgPool_GradCheck(int[] shape, int k, int? s, int p, bool ceil, bool includePad)
    {
        GradCheck.Verify(v => Functional.AvgPool2d(v[0], k, s, p, ceil, includePad), [T.Param(7, shape)]);
        GradCheck.VerifySecondOrder(v => Functional.AvgPool2d(v[0] * v[0], k, s, p, ceil, includePad), [T.Param(7, shape)]);
    }

    [Fact]
    public void Unbatched_MatchesBatched()
    {
        Tensor x = T.Param(3, 2, 5, 5);
        Tensor y = Functional.MaxPool2d(x, 2);
        Assert.Equal(new Shape(2, 2, 2), y.Shape);
        T.Close(Functional.MaxPool2d(x.Reshape(1, 2, 5, 5), 2).ToDoubleArray(), y, 0);
        GradCheck.Verify(v => Functional.AvgPool2d(v[0], 3, 1, 1), [x]);
    }

    [Fact]
    public void NonContiguousInput_IsRead()
    {
        Tensor x = T.Param(3, 1, 2, 5, 4);
        Tensor view = x.Transpose(2, 3);
        T.Close(Functional.MaxPool2d(view.Contiguous(), 2).ToDoubleArray(), Functional.MaxPool2d(view, 2), 0);
        GradCheck.Verify(v => Functional.AvgPool2d(v[0].Transpose(2, 3), 2, 1), [x]);
    }

    [Fact]
    public void Errors_NameOpShapesAndValues()
    {
        var rank = Assert.Throws<ArgumentException>(() => Functional.MaxPool2d(Tensor.Zeros([4, 5]), 2));
        Assert.Contains("MaxPool2d", rank.Message);
        Assert.Contains("[4, 5]", rank.Message);

        var pad = Assert.Throws<ArgumentException>(() => Functional.AvgPool2d(Tensor.Zeros([1, 1, 5, 5]), 3, padding: 2));
        Assert.Contains("AvgPool2d", pad.Message);
        Assert.Contains("padding (2, 2)", pad.Message);

        var small = Assert.Throws<ArgumentException>(() => Functional.MaxPool2d(Tensor.Zeros([1, 1, 2, 2]), 3));
        Assert.Contains("[1, 1, 2, 2]", small.Message);

        var dtype = Assert.Throws<ArgumentException>(() => Functional.MaxPool2d(Tensor.Zeros([1, 1, 4, 4], DType.Int64), 2));
        Assert.Contains("int64", dtype.Message);

        var kernel = Assert.Throws<ArgumentException>(() => Functional.AvgPool2d(Tensor.Zeros([1, 1, 4, 4]), 0));
        Assert.Contains("kernel size", kernel.Message);
    }
}
