using Backprop.Autograd;
using Backprop.NN;
using Backprop.Ops.MatMul;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.MatMul;

public class MatMulTests
{
    public static TheoryData<int[], int[], int[]> Shapes => new()
    {
        { [3], [3], [] },                       // dot
        { [3], [3, 4], [4] },                   // vector·matrix
        { [2, 3], [3], [2] },                   // matrix·vector
        { [2, 3], [3, 4], [2, 4] },
        { [1, 1], [1, 1], [1, 1] },
        { [2, 2, 3], [3, 4], [2, 2, 4] },       // batch folded into rows
        { [2, 3], [2, 3, 4], [2, 2, 4] },       // 2-D broadcast against a batch
        { [3], [2, 3, 4], [2, 4] },
        { [2, 3, 4], [4], [2, 3] },
        { [2, 1, 3, 4], [5, 4, 2], [2, 5, 3, 2] }, // broadcast batch dims
        { [1, 2, 3], [4, 3, 2], [4, 2, 2] },
        { [9, 17], [17, 33], [9, 33] },         // edge tiles of the kernel
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatMul_Shape(int[] sa, int[] sb, int[] sy)
    {
        Tensor y = Tensor.Zeros(sa).MatMul(Tensor.Zeros(sb));
        Assert.Equal(new Shape(sy), y.Shape);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatMul_GradCheck(int[] sa, int[] sb, int[] sy)
    {
        _ = sy;
        GradCheck.Verify(x => x[0].MatMul(x[1]), [T.Param(1, sa), T.Param(2, sb)]);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatMul_SecondOrder(int[] sa, int[] sb, int[] sy)
    {
        _ = sy;
        GradCheck.VerifySecondOrder(x => x[0].MatMul(x[1]) * x[0].Sum(), [T.Param(3, sa), T.Param(4, sb)]);
    }

    [Fact]
    public void MatMul_TransposedInputs_GradCheck()
    {
        GradCheck.Verify(x => x[0].T().MatMul(x[1]), [T.Param(1, 3, 2), T.Param(2, 3, 4)]);
        GradCheck.Verify(x => x[0].MatMul(x[1].T()), [T.Param(1, 2, 3), T.Param(2, 4, 3)]);
        GradCheck.Verify(x => x[0].T().MatMul(x[1].T()), [T.Param(1, 3, 2), T.Param(2, 4, 3)]);
        GradCheck.Verify(x => x[0].Transpose(1, 2).MatMul(x[1].Permute(2, 0, 1)), [T.Param(1, 2, 3, 2), T.Param(2, 3, 4, 2)]);
        GradCheck.VerifySecondOrder(x => x[0].T().MatMul(x[1].T()), [T.Param(1, 3, 2), T.Param(2, 4, 3)]);
    }

    [Fact]
    public void MatMul_ForwardValues()
    {
        Tensor a = T.F32([1, 2, 3, 4, 5, 6], 2, 3);
        Tensor b = T.F32([7, 8, 9, 10, 11, 12], 3, 2);
        T.Close([58, 64, 139, 154], a.MatMul(b));
        T.Close([39, 54, 69, 49, 68, 87, 59, 82, 105], b.MatMul(a));
        T.Close([14], T.F32([1, 2, 3], 3).MatMul(T.F32([1, 2, 3], 3)));
        Assert.Equal(0, T.F32([1, 2, 3], 3).MatMul(T.F32([1, 2, 3], 3)).Rank);
        T.Close([58, 139], a.MatMul(T.F32([7, 9, 11], 3)));
        T.Close([27, 30, 33], T.F32([1, 2], 2).MatMul(T.F32([7, 8, 9, 10, 11, 12], 2, 3)));
    }

    [Fact]
    public void MatMul_TransposedViews_MatchCopies()
    {
        var g = new Generator(5);
        Tensor a = Tensor.Randn([37, 21], DType.Float32, g), b = Tensor.Randn([45, 21], DType.Float32, g);
        T.Close(a.MatMul(b.T().Contiguous()).ToDoubleArray(), a.MatMul(b.T()), 1e-4);
        T.Close(a.T().Contiguous().T().MatMul(b.T().Contiguous()).ToDoubleArray(), a.T().Contiguous().T().MatMul(b.T()), 1e-4);
        Tensor x = Tensor.Randn([3, 5, 7], DType.Float64, g), w = Tensor.Randn([3, 4, 7], DType.Float64, g);
        T.Close(x.MatMul(w.Transpose(1, 2).Contiguous()).ToDoubleArray(), x.MatMul(w.Transpose(1, 2)), 1e-12);
        // Neither layout: a non-unit inner stride forces a copy.
        Tensor s = Tensor.Randn([4, 12], DType.Float64, g).Reshape(4, 6, 2).Permute(2, 0, 1);
        Tensor r = Tensor.Randn([6, 3], DType.Float64, g);
        T.Close(s.Contiguous().MatMul(r).ToDoubleArray(), s.MatMul(r), 1e-12);
        GradCheck.Verify(x => x[0].Reshape(4, 6, 2).Permute(2, 0, 1).MatMul(x[1]), [T.Param(1, 4, 12), T.Param(2, 6, 3)]);
    }

    [Fact]
    public void MatrixLayout_TransposedViewNeedsNoCopy()
    {
        Tensor x = Tensor.Zeros([3, 4]).T();
        Tensor same = x;
        Assert.Equal(new Backprop.Ops.MatMul.MatrixLayout(true, 4), Backprop.Ops.MatMul.MatrixLayout.Of(ref same));
        Assert.Same(x, same);
        Tensor batched = Tensor.Zeros([2, 5, 3]).Transpose(1, 2);
        same = batched;
        Assert.Equal(new Backprop.Ops.MatMul.MatrixLayout(true, 3), Backprop.Ops.MatMul.MatrixLayout.Of(ref same));
        Assert.Same(batched, same);
        Tensor strided = Tensor.Zeros([4, 6, 2]).Permute(2, 0, 1);
        same = strided;
        Backprop.Ops.MatMul.MatrixLayout.Of(ref same);
        Assert.NotSame(strided, same);
        Assert.True(same.IsContiguous);
    }

    [Fact]
    public void MatMul_EmptyDims()
    {
        Tensor y = Tensor.Ones([2, 0]).MatMul(Tensor.Ones([0, 3]));
        Assert.Equal(new Shape(2, 3), y.Shape);
        T.Close([0, 0, 0, 0, 0, 0], y);
        Assert.Equal(new Shape(0, 3), Tensor.Ones([0, 4]).MatMul(Tensor.Ones([4, 3])).Shape);
        Assert.Equal(new Shape(2, 0, 3), Tensor.Ones([2, 0, 4]).MatMul(Tensor.Ones([4, 3])).Shape);
    }

    [Fact]
    public void MatMul_Float32LargeMatchesFloat64()
    {
        var g = new Generator(9);
        Tensor a = Tensor.Randn([2, 70, 300], DType.Float64, g), b = Tensor.Randn([300, 90], DType.Float64, g);
        double[] expected = a.MatMul(b).ToDoubleArray();
        T.Close(expected, a.To(DType.Float32).MatMul(b.To(DType.Float32)), 1e-3);
    }

    [Fact]
    public void MatMul_InnerMismatch_NamesBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([3, 4]).MatMul(Tensor.Zeros([5, 6])));
        Assert.Equal("MatMul: inner dimensions differ, [3, 4] by [5, 6] (4 vs 5)", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([3]).MatMul(Tensor.Zeros([4])));
        Assert.Contains("[3] by [4]", e.Message);
    }

    [Fact]
    public void MatMul_BatchMismatch_NamesBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 3, 4]).MatMul(Tensor.Zeros([5, 4, 6])));
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Contains("[5, 4, 6]", e.Message);
    }

    [Fact]
    public void MatMul_DTypeErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 2]).MatMul(Tensor.Zeros([2, 2], DType.Float64)));
        Assert.Contains("float32", e.Message);
        Assert.Contains("float64", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 2], DType.Int64).MatMul(Tensor.Zeros([2, 2], DType.Int64)));
        Assert.Contains("int64", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.Scalar(1).MatMul(Tensor.Zeros([2])));
        Assert.Contains("MatMul", e.Message);
    }

    [Fact]
    public void Linear_ForwardValues()
    {
        Tensor x = T.F32([1, 2, 3, 4, 5, 6], 2, 3);
        Tensor w = T.F32([1, 0, -1, 2, 1, 0], 2, 3);
        Tensor b = T.F32([10, 20], 2);
        T.Close([-2, 4, -2, 13], Functional.Linear(x, w));
        T.Close([8, 24, 8, 33], Functional.Linear(x, w, b));
        T.Close([8, 24], Functional.Linear(T.F32([1, 2, 3], 3), w, b));
    }

    [Fact]
    public void Linear_GradCheck()
    {
        GradCheck.Verify(x => Functional.Linear(x[0], x[1], x[2]), [T.Param(1, 4, 3), T.Param(2, 5, 3), T.Param(3, 5)]);
        GradCheck.Verify(x => Functional.Linear(x[0], x[1]), [T.Param(1, 4, 3), T.Param(2, 5, 3)]);
        GradCheck.Verify(x => Functional.Linear(x[0], x[1], x[2]), [T.Param(1, 2, 3, 4), T.Param(2, 5, 4), T.Param(3, 5)]);
        GradCheck.Verify(x => Functional.Linear(x[0], x[1], x[2]), [T.Param(1, 3), T.Param(2, 2, 3), T.Param(3, 2)]);
        GradCheck.Verify(x => Functional.Linear(x[0].T(), x[1].T(), x[2]), [T.Param(1, 3, 4), T.Param(2, 3, 5), T.Param(3, 5)]);
    }

    [Fact]
    public void Linear_SecondOrder()
    {
        GradCheck.VerifySecondOrder(x => Functional.Linear(x[0], x[1], x[2]) * x[0].Sum(), [T.Param(1, 4, 3), T.Param(2, 5, 3), T.Param(3, 5)]);
        GradCheck.VerifySecondOrder(x => Functional.Linear(x[0], x[1]).Tanh(), [T.Param(1, 2, 3, 4), T.Param(2, 5, 4)]);
    }

    [Fact]
    public void Linear_MatchesMatMulPlusBias()
    {
        var g = new Generator(2);
        Tensor x = Tensor.Randn([3, 7, 40], DType.Float64, g), w = Tensor.Randn([33, 40], DType.Float64, g), b = Tensor.Randn([33], DType.Float64, g);
        T.Close((x.MatMul(w.T()) + b).ToDoubleArray(), Functional.Linear(x, w, b), 1e-12);
    }

    [Fact]
    public void Linear_Errors_NameShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.Linear(Tensor.Zeros([2, 3]), Tensor.Zeros([4, 5])));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4, 5]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Functional.Linear(Tensor.Zeros([2, 3]), Tensor.Zeros([4, 3]), Tensor.Zeros([3])));
        Assert.Contains("bias", e.Message);
        e = Assert.Throws<ArgumentException>(() => Functional.Linear(Tensor.Zeros([2, 3]), Tensor.Zeros([4, 3], DType.Float64)));
        Assert.Contains("float64", e.Message);
    }
}
