using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Reduce;

public class SoftmaxTests
{
    public static TheoryData<int[], int> Cases => new()
    {
        { [5], 0 },
        { [3, 4], 1 },
        { [3, 4], 0 },          // not the last dim: strided middle-axis path
        { [2, 3, 4], 1 },
        { [2, 3, 4], -1 },
        { [2, 3, 4], -3 },
        { [], 0 },              // 0-d, as PyTorch allows
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softmax_GradCheck(int[] shape, int dim)
    {
        GradCheck.Verify(x => x[0].Softmax(dim), [T.Param(1, shape)]);
        GradCheck.VerifySecondOrder(x => x[0].Softmax(dim), [T.Param(1, shape)]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogSoftmax_GradCheck(int[] shape, int dim)
    {
        GradCheck.Verify(x => x[0].LogSoftmax(dim), [T.Param(2, shape)]);
        GradCheck.VerifySecondOrder(x => x[0].LogSoftmax(dim), [T.Param(2, shape)]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogSumExp_GradCheck(int[] shape, int dim)
    {
        GradCheck.Verify(x => x[0].LogSumExp(dim), [T.Param(3, shape)]);
        GradCheck.Verify(x => x[0].LogSumExp(dim, keepDim: true), [T.Param(3, shape)]);
        GradCheck.VerifySecondOrder(x => x[0].LogSumExp(dim), [T.Param(3, shape)]);
        GradCheck.VerifySecondOrder(x => x[0].LogSumExp(dim, keepDim: true), [T.Param(3, shape)]);
    }

    [Fact]
    public void Softmax_OnTransposedInput_GradCheck()
        => GradCheck.Verify(x => x[0].T().Softmax(1), [T.Param(4, 3, 5)]);

    // torch.softmax(V, 0), torch.log_softmax(V, 1), torch.logsumexp(V, 0) for the 3x4 float64 V below (PyTorch 1.13).
    private static Tensor V() => T.F64([1.0, 2.5, -0.5, 4.0, 0.3, 0.3, 1.7, -2.2, 5.0, -1.0, 0.0, 2.0], 3, 4);

    [Fact]
    public void Forward_MatchesPyTorch()
    {
        T.Close([0.017826984903, 0.876423773153, 0.085662388232, 0.879225447917, 0.008852618714, 0.097110522129,
                 0.77310421019, 0.00178432706, 0.973320396383, 0.026465704718, 0.141233401578, 0.118990225023],
                V().Softmax(0), 1e-10);
        T.Close([-3.250000629556, -1.750000629556, -4.750000629556, -0.250000629556, -1.814382456331, -1.814382456331,
                 -0.414382456331, -4.314382456331, -0.057328624256, -6.057328624256, -5.057328624256, -3.057328624256],
                V().LogSoftmax(1), 1e-10);
        T.Close([5.027041963864, 2.631905545713, 1.957341426816, 4.128713931911], V().LogSumExp(0), 1e-10);
        T.Close([5.027041963864, 2.631905545713, 1.957341426816, 4.128713931911], V().To(DType.Float32).LogSumExp(0), 1e-5);
        Assert.Equal(new Shape(1, 4), V().LogSumExp(0, keepDim: true).Shape);
        T.Close(V().Softmax(-1).ToDoubleArray(), Functional.Softmax(V(), 1));
        T.Close(V().LogSoftmax(0).ToDoubleArray(), Functional.LogSoftmax(V(), -2));
    }

    [Fact]
    public void LargeLogits_StayFinite_Float32()
    {
        Tensor x = T.F32([1000f, -1000f, 0f, 1000f], 4);
        T.Close([0.5, 0, 0, 0.5], x.Softmax(0));
        T.Close([-Math.Log(2), -2000 - Math.Log(2), -1000 - Math.Log(2), -Math.Log(2)], x.LogSoftmax(0), 1e-3);
        T.Close([1000 + Math.Log(2)], x.LogSumExp(0), 1e-3);

        // The same logits along a non-last dim (the column path).
        Tensor col = x.Reshape(4, 1).Expand(4, 3).Contiguous();
        Tensor s = col.Softmax(0), ls = col.LogSoftmax(0), lse = col.LogSumExp(0);
        foreach (double v in s.ToDoubleArray().Concat(ls.ToDoubleArray()).Concat(lse.ToDoubleArray()))
            Assert.True(double.IsFinite(v), $"non-finite value {v}");
        T.Close([0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0.5], s, 1e-6);
    }

    [Fact]
    public void LargeLogits_GradientsFinite()
    {
        Tensor x = T.F64([1000, -1000, 0, 999, -1000, 2], 2, 3).RequireGrad();
        (x.LogSoftmax(1).Sum() + x.Softmax(0).Max() + x.LogSumExp(1).Sum()).Backward();
        foreach (double g in x.Grad!.ToDoubleArray()) Assert.True(double.IsFinite(g));
    }

    [Fact]
    public void LogSumExp_InfiniteRows_AsPyTorch()
    {
        Tensor x = T.F64([double.NegativeInfinity, double.NegativeInfinity, double.PositiveInfinity, 1.0], 2, 2);
        double[] y = x.LogSumExp(1).ToDoubleArray();
        Assert.Equal(double.NegativeInfinity, y[0]);
        Assert.Equal(double.PositiveInfinity, y[1]);
        Assert.Equal(double.NegativeInfinity, Tensor.Zeros([2, 0], DType.Float64).LogSumExp(1).ToDoubleArray()[0]);
    }

    [Fact]
    public void Softmax_RowsSumToOne_Float32_AllDims()
    {
        Tensor x = Tensor.Randn([3, 17, 5], DType.Float32, new Generator(4)) * 10;
        for (int d = 0; d < 3; d++)
        {
            Tensor s = x.Softmax(d).Sum(d);
            foreach (double v in s.ToDoubleArray()) Assert.True(Math.Abs(v - 1) < 1e-5, $"dim {d}: row sums to {v}");
            Tensor e = x.LogSoftmax(d).Exp().Sum(d);
            foreach (double v in e.ToDoubleArray()) Assert.True(Math.Abs(v - 1) < 1e-5, $"dim {d}: exp(log-softmax) sums to {v}");
        }
    }

    [Fact]
    public void Softmax_Int64_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Arange(3, DType.Int64).Softmax(0));
        Assert.Contains("Softmax", e.Message);
        Assert.Contains("int64", e.Message);
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros([2, 3]).LogSoftmax(2));
        Assert.Contains("[2, 3]", d.Message);
    }
}
