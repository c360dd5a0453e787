using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Reduce;

public class ReductionTests
{
    // A 3x4 matrix shared with the PyTorch reference values below.
    private static Tensor V() => T.F64([1.0, 2.5, -0.5, 4.0, 0.3, 0.3, 1.7, -2.2, 5.0, -1.0, 0.0, 2.0], 3, 4);

    public static TheoryData<int[], bool> DimCases => new()
    {
        { [0], false },
        { [1], true },
        { [-1], false },
        { [-3], true },
        { [0, 2], false },   // non-adjacent
        { [2, 0], true },
        { [-1, 0], false },  // negative, non-adjacent
        { [0, 1], true },
        { [1, 2], false },
    };

    // ---------------- Mean ----------------

    [Fact]
    public void Mean_All_GradCheck()
    {
        GradCheck.Verify(x => x[0].Mean(), [T.Param(1, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Mean() * x[0].Mean(), [T.Param(1, 3, 4)]);
    }

    [Theory]
    [MemberData(nameof(DimCases))]
    public void Mean_Dims_GradCheck(int[] dims, bool keepDim)
    {
        GradCheck.Verify(x => x[0].Mean(dims, keepDim), [T.Param(2, 2, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Mean(dims, keepDim) * x[0].Mean(dims, keepDim), [T.Param(2, 2, 3, 4)]);
    }

    [Fact]
    public void Mean_ForwardValues_AndShapes()
    {
        Tensor v = V();
        T.Close([13.1 / 12], v.Mean(), 1e-12);
        T.Close([1.75, 0.025, 1.5], v.Mean(1), 1e-12);
        T.Close([1.75, 0.025, 1.5], v.Mean(-1, keepDim: true), 1e-12);
        Assert.Equal(new Shape(3, 1), v.Mean(-1, keepDim: true).Shape);
        T.Close([2.1, 0.6, 0.4, 3.8 / 3], v.Mean(0), 1e-12);
        Tensor x = Tensor.Arange(24, DType.Float64).Reshape(2, 3, 4);
        Tensor m = x.Mean([0, 2]);
        Assert.Equal(new Shape(3), m.Shape);
        T.Close([7.5, 11.5, 15.5], m); // mean of {0..3, 12..15}, {4..7, 16..19}, {8..11, 20..23}
        Assert.Equal(new Shape(1, 3, 1), x.Mean([0, 2], keepDim: true).Shape);
    }

    [Fact]
    public void Mean_Float32_OnTransposedView()
    {
        Tensor x = T.F32([1, 2, 3, 4, 5, 6], 2, 3).T(); // [[1,4],[2,5],[3,6]]
        T.Close([2, 5], x.Mean(0), 1e-6);
        Assert.Equal(DType.Float32, x.Mean().DType);
    }

    [Fact]
    public void Mean_Empty_IsNaN()
    {
        Assert.True(double.IsNaN(Tensor.Zeros([0, 3]).Mean().Item()));
    }

    [Fact]
    public void Mean_Int64_NamesDType()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Arange(4, DType.Int64).Mean());
        Assert.Contains("Mean", e.Message);
        Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void Mean_RepeatedDim_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 3]).Mean([1, -1]));
        Assert.Contains("[2, 3]", e.Message);
    }

    // ---------------- Max / Min ----------------

    [Fact]
    public void MaxMin_All_GradCheck()
    {
        GradCheck.Verify(x => x[0].Max(), [T.Param(3, 3, 4)]);
        GradCheck.Verify(x => x[0].Min(), [T.Param(3, 3, 4)]);
    }

    [Fact]
    public void MaxAll_Ties_ShareGradientEqually()
    {
        Tensor x = T.F64([1.0, 3.0, 3.0, 2.0, 3.0, -1.0]).RequireGrad();
        Tensor y = x.Max();
        Assert.Equal(Shape.Scalar, y.Shape);
        Assert.Equal(3.0, y.Item());
        y.Backward();
        T.Close([0, 1.0 / 3, 1.0 / 3, 0, 1.0 / 3, 0], x.Grad!);

        Tensor z = T.F64([2.0, -4.0, -4.0]).RequireGrad();
        (z.Min() * 6).Backward();
        T.Close([0, 3, 3], z.Grad!);
    }

    [Fact]
    public void MaxAll_NaN_Propagates_AndEmptyThrows()
    {
        Assert.True(double.IsNaN(T.F64([1.0, double.NaN, 3.0]).Max().Item()));
        Assert.True(double.IsNaN(T.F32([1f, float.NaN]).Min().Item()));
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([0, 2]).Max());
        Assert.Contains("[0, 2]", e.Message);
    }

    public static TheoryData<int, bool> SingleDims => new()
    {
        { 0, false }, { 1, true }, { 2, false }, { -1, true }, { -2, false },
    };

    [Theory]
    [MemberData(nameof(SingleDims))]
    public void MaxMin_Dim_GradCheck(int dim, bool keepDim)
    {
        GradCheck.Verify(x => x[0].Max(dim, keepDim), [T.Param(4, 2, 3, 4)]);
        GradCheck.Verify(x => x[0].Min(dim, keepDim), [T.Param(4, 2, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Max(dim, keepDim) * x[0].Min(dim, keepDim), [T.Param(4, 2, 3, 4)]);
    }

    [Fact]
    public void MaxWithIndices_ValuesIndicesAndGradient()
    {
        Tensor x = T.F64([1.0, 7.0, 7.0, -2.0, 0.5, 0.25], 2, 3).RequireGrad();
        (Tensor values, Tensor indices) = x.MaxWithIndices(1);
        T.Close([7.0, 0.5], values);
        Assert.Equal(DType.Int64, indices.DType);
        Assert.Equal(new long[] { 1, 1 }, indices.ToArray<long>()); // first of the tied 7s
        values.Sum().Backward();
        T.Close([0, 1, 0, 0, 1, 0], x.Grad!);

        (Tensor v0, Tensor i0) = x.Detach().MinWithIndices(0, keepDim: true);
        Assert.Equal(new Shape(1, 3), v0.Shape);
        T.Close([-2.0, 0.5, 0.25], v0);
        Assert.Equal(new long[] { 1, 1, 1 }, i0.ToArray<long>());
    }

    [Fact]
    public void ArgMaxArgMin_FirstOccurrence_NaNWins_Int64()
    {
        Tensor x = T.F32([3f, 1f, 3f, 1f, 2f, 2f, 0f, 5f], 2, 4);
        Assert.Equal(new long[] { 0, 3 }, x.ArgMax(1).ToArray<long>());
        Assert.Equal(new long[] { 1, 2 }, x.ArgMin(-1).ToArray<long>());
        Assert.Equal(new long[] { 0, 1, 0, 1 }, x.ArgMax(0).ToArray<long>());
        Assert.Equal(new Shape(2, 1), x.ArgMax(1, keepDim: true).Shape);
        Assert.Equal(7L, (long)x.ArgMax().Item());
        Assert.Equal(6L, (long)x.ArgMin().Item());
        Tensor n = T.F64([1.0, double.NaN, 9.0, double.NaN]);
        Assert.Equal(1L, (long)n.ArgMax(0).Item());
        Assert.Equal(1L, (long)n.ArgMin(0).Item());
        Tensor ints = Tensor.FromArray(new long[] { 4, 9, 9, -3 });
        Assert.Equal(1L, (long)ints.ArgMax(0).Item());
        Assert.Equal(9L, (long)ints.Max(0).Item());
        Assert.Equal(-3L, (long)ints.Min().Item());
    }

    [Fact]
    public void MaxDim_MiddleDim_MatchesManual()
    {
        Tensor x = Tensor.Randn([3, 5, 4], DType.Float32, new Generator(9));
        (Tensor v, Tensor idx) = x.MaxWithIndices(1);
        for (int a = 0; a < 3; a++)
            for (int c = 0; c < 4; c++)
            {
                double best = double.NegativeInfinity; int at = -1;
                for (int b = 0; b < 5; b++) if (x[a, b, c] > best) { best = x[a, b, c]; at = b; }
                Assert.Equal(best, v[a, c]);
                Assert.Equal(at, (int)idx[a, c]);
            }
    }

    [Fact]
    public void MaxDim_EmptyDim_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 0]).Max(1));
        Assert.Contains("[2, 0]", e.Message);
    }

    // ---------------- Var / Std ----------------

    public static TheoryData<int[]?, int, bool> VarCases => new()
    {
        { null, 1, false },
        { null, 0, true },
        { [1], 1, false },
        { [0, 2], 0, true },   // non-adjacent
        { [-1, 0], 1, false },
        { [-2], 2, true },
        { [1, 2], 1, false },
    };

    [Theory]
    [MemberData(nameof(VarCases))]
    public void Var_GradCheck(int[]? dims, int correction, bool keepDim)
    {
        GradCheck.Verify(x => x[0].Var(dims, correction, keepDim), [T.Param(5, 2, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Var(dims, correction, keepDim), [T.Param(5, 2, 3, 4)]);
    }

    [Theory]
    [MemberData(nameof(VarCases))]
    public void Std_GradCheck(int[]? dims, int correction, bool keepDim)
    {
        GradCheck.Verify(x => x[0].Std(dims, correction, keepDim), [T.Param(6, 2, 3, 4)]);
        GradCheck.VerifySecondOrder(x => x[0].Std(dims, correction, keepDim), [T.Param(6, 2, 3, 4)]);
    }

    [Fact]
    public void VarStd_MatchPyTorch()
    {
        // torch.tensor(V).var(), .var(unbiased=False), .var(0), .var(1, unbiased=False), .std(1), .std(unbiased=False) (PyTorch 1.13, float64)
        Tensor v = V();
        T.Close([4.282651515152], v.Var(), 1e-9);
        T.Close([3.925763888889], v.Var(correction: 0), 1e-9);
        T.Close([6.43, 3.13, 1.33, 10.013333333333], v.Var(0), 1e-9);
        T.Close([2.8125, 1.976875, 5.25], v.Var(1, correction: 0), 1e-9);
        T.Close([1.936491673104, 1.623524971577, 2.645751311065], v.Std(1), 1e-9);
        T.Close([1.9813540544], v.Std(correction: 0), 1e-9);
        T.Close([6.43, 3.13, 1.33, 10.013333333333], v.To(DType.Float32).Var(0), 1e-5);
        T.Close([2.8125, 1.976875, 5.25], v.T().Contiguous().Var(0, correction: 0), 1e-9);
    }

    [Fact]
    public void Var_SingleElementWithCorrection_IsNaN_AsPyTorch()
    {
        Assert.True(double.IsNaN(T.F64([3.0]).Var().Item()));
        Assert.Equal(0.0, T.F64([3.0]).Var(correction: 0).Item());
    }

    [Fact]
    public void Std_OfConstantRow_HasZeroGradient()
    {
        Tensor x = T.F64([2.0, 2.0, 2.0, 1.0, 3.0, 5.0], 2, 3).RequireGrad();
        x.Std(1).Sum().Backward();
        double[] g = x.Grad!.ToDoubleArray();
        T.Close([0, 0, 0], g[..3]);
        T.Close([-0.5, 0, 0.5], g[3..], 1e-12); // (x − mean) / ((n − 1)·std) with std = 2
    }

    [Fact]
    public void Var_Int64_NamesDType()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Arange(4, DType.Int64).Var());
        Assert.Contains("int64", e.Message);
    }
}
