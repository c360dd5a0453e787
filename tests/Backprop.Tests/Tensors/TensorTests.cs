using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void Factories_FillShapeAndDType()
    {
        Assert.Equal(new double[6], Tensor.Zeros([2, 3]).ToDoubleArray());
        Assert.Equal(DType.Float32, Tensor.Zeros([2]).DType);
        Assert.Equal([1.0, 1.0], Tensor.Ones([2], DType.Float64).ToDoubleArray());
        Assert.Equal([7L, 7L], Tensor.Full([2], 7, DType.Int64).ToArray<long>());
        Assert.Equal(0, Tensor.Scalar(3).Rank);
        Assert.Equal(3.0, Tensor.Scalar(3).Item());
    }

    [Fact]
    public void Arange_MatchesTorch()
    {
        Assert.Equal([0.0, 1, 2, 3, 4], Tensor.Arange(5).ToDoubleArray());
        T.Close([1.0, 1.5, 2.0, 2.5], Tensor.Arange(1, 3, 0.5, DType.Float64));
        Assert.Equal([5L, 3L, 1L], Tensor.Arange(5, 0, -2, DType.Int64).ToArray<long>());
        Assert.Equal(0, Tensor.Arange(3, 3).Numel);
        Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 5, -1));
    }

    [Fact]
    public void FromArray_CopiesAndChecksCount()
    {
        var data = new float[] { 1, 2, 3, 4 };
        Tensor t = Tensor.FromArray(data, [2, 2]);
        data[0] = 100;
        Assert.Equal(1f, t.ToArray<float>()[0]);
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromArray(data, [3, 2]));
        Assert.Contains("[3, 2]", e.Message);
        Assert.Equal([1.0, 2, 3, 4], Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } }).ToDoubleArray());
    }

    [Fact]
    public void SeededRandom_IsReproducible_AndHasRightMoments()
    {
        Tensor a = Tensor.Randn([10000], DType.Float64, new Generator(42));
        Tensor b = Tensor.Randn([10000], DType.Float64, new Generator(42));
        Assert.Equal(a.ToDoubleArray(), b.ToDoubleArray());
        double[] v = a.ToDoubleArray();
        double mean = v.Average(), var = v.Select(x => (x - mean) * (x - mean)).Average();
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(var, 0.95, 1.05);
        double[] u = Tensor.Uniform([10000], -2, 3, DType.Float64, new Generator(1)).ToDoubleArray();
        Assert.True(u.Min() >= -2 && u.Max() < 3);
        Assert.InRange(u.Average(), 0.4, 0.6);
        Assert.NotEqual(Tensor.Rand([5], generator: new Generator(1)).ToDoubleArray(), Tensor.Rand([5], generator: new Generator(2)).ToDoubleArray());
    }

    [Fact]
    public void Generator_StateRoundTrip_ContinuesTheStream()
    {
        var g = new Generator(9);
        g.NextNormal();
        ulong[] state = g.GetState();
        double expected = g.NextNormal();
        var h = new Generator(0);
        h.SetState(state);
        Assert.Equal(expected, h.NextNormal());
    }

    public static TheoryData<string, ulong[], string> BadGeneratorStates => new()
    {
        { "too short", [1, 2, 3, 4, 0], "6 state words" },
        { "too long", [1, 2, 3, 4, 0, 0, 0], "6 state words" },
        { "all-zero words", [0, 0, 0, 0, 0, 0], "all zero" },
        { "spare flag not 0 or 1", [1, 2, 3, 4, 2, 0], "word 4" },
        { "NaN spare", [1, 2, 3, 4, 1, BitConverter.DoubleToUInt64Bits(double.NaN)], "word 5" },
        { "infinite spare", [1, 2, 3, 4, 1, BitConverter.DoubleToUInt64Bits(double.PositiveInfinity)], "word 5" },
    };

    [Theory]
    [MemberData(nameof(BadGeneratorStates))]
    public void Generator_SetState_RefusesStatesGetStateCannotMake_AndKeepsItsOwn(string why, ulong[] state, string names)
    {
        var g = new Generator(9);
        g.NextNormal();
        ulong[] before = g.GetState();
        Assert.NotNull(Generator.StateProblem(state));
        var e = Assert.Throws<ArgumentException>(() => g.SetState(state));
        Assert.True(e.Message.Contains(names, StringComparison.Ordinal), $"{why}: {e.Message}");
        Assert.Equal(before, g.GetState());
        Assert.Null(Generator.StateProblem(before));
    }

    [Fact]
    public void RandInt_StaysInRange()
    {
        long[] v = Tensor.RandInt([1000], 3, 7, new Generator(5)).ToArray<long>();
        Assert.True(v.All(x => x >= 3 && x < 7));
        Assert.Equal(4, v.Distinct().Count());
    }

    [Fact]
    public void TransposeAndPermute_AreViews()
    {
        Tensor x = T.F32([1, 2, 3, 4, 5, 6], 2, 3);
        Tensor t = x.T();
        Assert.Same(x.Storage, t.Storage);
        Assert.False(t.IsContiguous);
        Assert.Equal(new Shape(3, 2), t.Shape);
        Assert.Equal([1.0, 4, 2, 5, 3, 6], t.ToDoubleArray());
        Tensor p = Tensor.Arange(24).Reshape(2, 3, 4).Permute(2, 0, 1);
        Assert.Equal(new Shape(4, 2, 3), p.Shape);
        Assert.Equal(13.0, p[1, 1, 0]);
    }

    [Fact]
    public void Expand_IsStrideZeroView()
    {
        Tensor x = T.F32([1, 2], 2, 1);
        Tensor e = x.Expand(2, 3);
        Assert.Same(x.Storage, e.Storage);
        Assert.Equal(0, e.Strides[1]);
        Assert.Equal([1.0, 1, 1, 2, 2, 2], e.ToDoubleArray());
        Assert.Throws<ArgumentException>(() => x.Expand(3, 3));
    }

    [Fact]
    public void Reshape_ViewsWhenContiguous_CopiesOtherwise()
    {
        Tensor x = Tensor.Arange(6);
        Assert.Same(x.Storage, x.Reshape(2, -1).Storage);
        Tensor t = x.Reshape(2, 3).T();
        Tensor r = t.Reshape(6);
        Assert.NotSame(x.Storage, r.Storage);
        Assert.Equal([0.0, 3, 1, 4, 2, 5], r.ToDoubleArray());
        Assert.Throws<InvalidOperationException>(() => t.View(6));
        var e = Assert.Throws<ArgumentException>(() => x.Reshape(4, -1));
        Assert.Contains("[6]", e.Message);
    }

    [Fact]
    public void ViewOps_GradCheck()
    {
        GradCheck.Verify(x => x[0].T() * T.F64([1.0, 2, 3, 4, 5, 6], 3, 2), [T.Param(1, 2, 3)]);
        GradCheck.Verify(x => x[0].Permute(2, 0, 1).Reshape(4, 6), [T.Param(2, 2, 3, 4)]);
        GradCheck.Verify(x => x[0].Expand(3, 2, 4) * T.Param(3, 3, 2, 4).Detach(), [T.Param(4, 2, 1)]);
        GradCheck.Verify(x => x[0].Flatten(), [T.Param(5, 2, 3)]);
        GradCheck.Verify(x => x[0].T().Clone(), [T.Param(6, 3, 2)]);
        GradCheck.VerifySecondOrder(x => x[0].T().Reshape(6) * x[0].Reshape(6), [T.Param(7, 3, 2)]);
    }

    [Fact]
    public void To_ConvertsAndIsDifferentiable()
    {
        Tensor x = T.F64([1.25, -2.75]);
        Assert.Equal([1.25f, -2.75f], x.To(DType.Float32).ToArray<float>());
        Assert.Equal([1L, -2L], x.To(DType.Int64).ToArray<long>());
        Tensor p = T.F64([1.5]).RequireGrad();
        (p.To(DType.Float32) * 2).Sum().Backward();
        Assert.Equal(DType.Float64, p.Grad!.DType);
        T.Close([2.0], p.Grad);
    }

    [Fact]
    public void InPlaceOps_WriteThroughViews_AndBumpVersion()
    {
        Tensor x = Tensor.Zeros([2, 3]);
        Tensor col = x.T();
        int v = x.Storage.Version;
        col.AddInPlace(T.F32([1, 2], 2));
        Assert.Equal([1.0, 1, 1, 2, 2, 2], x.ToDoubleArray());
        Assert.True(x.Storage.Version > v);
        x.MulInPlace(2);
        Assert.Equal([2.0, 2, 2, 4, 4, 4], x.ToDoubleArray());
        x.FillInPlace(5);
        Assert.Equal(5.0, x[1, 2]);
        x.CopyFrom(T.F32([9, 8, 7], 3));
        Assert.Equal([9.0, 8, 7, 9, 8, 7], x.ToDoubleArray());
        x.ZeroInPlace();
        Assert.Equal(new double[6], x.ToDoubleArray());
    }

    [Fact]
    public void Indexer_ChecksBounds()
    {
        Tensor x = Tensor.Arange(6).Reshape(2, 3);
        Assert.Equal(5.0, x[1, 2]);
        Assert.Equal(5.0, x[-1, -1]);
        var e = Assert.Throws<IndexOutOfRangeException>(() => x[2, 0]);
        Assert.Contains("size 2", e.Message);
    }

    [Fact]
    public void ToString_ShowsValuesShapeDTypeAndGradFn()
    {
        string s = T.F32([1, 2.5f, -3, 4], 2, 2).ToString();
        Assert.Contains("[[ 1.0000,  2.5000]", s);
        Assert.Contains("shape=[2, 2]", s);
        Assert.Contains("dtype=float32", s);
        Tensor y = T.F64([1.0]).RequireGrad() * 2;
        Assert.Contains("grad_fn=MulBackward", y.ToString());
        Assert.Contains("...", Tensor.Zeros([2000]).ToString());
        Assert.Contains("tensor(7, shape=[], dtype=int64)", Tensor.Scalar(7, DType.Int64).ToString());
    }

    [Fact]
    public void RequiresGrad_OnlyOnFloatLeaves()
    {
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros([2], DType.Int64).RequireGrad());
        Tensor y = T.Param(1, 2) * 2;
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
    }

    [Fact]
    public void Shape_BroadcastAndNormalizeDim()
    {
        Assert.True(Shape.TryBroadcast([3, 1, 5], [4, 1], out Shape s));
        Assert.Equal(new Shape(3, 4, 5), s);
        Assert.False(Shape.TryBroadcast([3], [4], out _));
        Assert.Equal(2, new Shape(2, 3, 4).NormalizeDim(-1, "op"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Shape(2, 3).NormalizeDim(2, "Sum"));
        Assert.Contains("Sum", e.Message);
        Assert.Equal("[2, 3]", new Shape(2, 3).ToString());
    }

    [Fact]
    public void Sum_OverDims_ForwardAndGradCheck()
    {
        Tensor x = Tensor.Arange(24, DType.Float64).Reshape(2, 3, 4);
        Assert.Equal(276.0, x.Sum().Item());
        Assert.Equal(new Shape(2, 4), x.Sum(1).Shape);
        Assert.Equal(new Shape(2, 1, 4), x.Sum(1, keepDim: true).Shape);
        T.Close([60.0, 66, 72, 78], x.Sum([0, 1]));
        T.Close([60.0 + 0, 0], [x.Sum([0, 2])[0], 0.0]); // 0+1+2+3+12+13+14+15 = 60
        GradCheck.Verify(t => t[0].Sum([0, 2]), [T.Param(1, 2, 3, 4)]);
        GradCheck.Verify(t => t[0].Sum(-1, keepDim: true), [T.Param(2, 2, 3, 4)]);
        GradCheck.Verify(t => t[0].T().Sum(0), [T.Param(3, 3, 5)]);
        GradCheck.VerifySecondOrder(t => (t[0] * t[0]).Sum(1), [T.Param(4, 3, 2)]);
    }
}
