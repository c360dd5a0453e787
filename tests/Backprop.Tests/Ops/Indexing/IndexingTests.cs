using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Indexing;

public class IndexingTests
{
    private static Tensor I64(long[] values, params int[] shape)
        => Tensor.FromArray(values, shape.Length == 0 ? null : new Shape(shape));

    // ---------------- Gather ----------------

    [Fact]
    public void Gather_Dim0_HandValues()
    {
        Tensor x = T.F64([1, 2, 3, 4, 5, 6], 3, 2);
        Tensor y = x.Gather(0, I64([0, 0, 2, 1, 0, 2], 3, 2));
        Assert.Equal(new Shape(3, 2), y.Shape);
        T.Close([1, 2, 5, 4, 1, 6], y);
    }

    [Fact]
    public void Gather_Dim1_IndexWiderThanInput_AndSmallerElsewhere()
    {
        Tensor x = T.F64([1, 2, 3, 4, 5, 6], 2, 3);
        T.Close([3, 3, 1, 2, 5, 4, 4, 4], x.Gather(1, I64([2, 2, 0, 1, 1, 0, 0, 0], 2, 4)));
        T.Close([3, 1], x.Gather(-1, I64([2, 0], 1, 2)));         // only the first row
        T.Close([2, 6], x.T().Gather(0, I64([1, 2], 1, 2)));       // strided input: x.T()[1][0], x.T()[2][1]
        Assert.Equal(new Shape(2, 0), x.Gather(1, Tensor.Zeros([2, 0], DType.Int64)).Shape);
        Assert.Equal(new long[] { 30, 10 }, I64([10, 20, 30]).Gather(0, I64([2, 0])).ToArray<long>());
        Assert.Equal(7.0, Tensor.Scalar(7, DType.Float64).Gather(0, Tensor.Scalar(0, DType.Int64)).Item());
    }

    [Fact]
    public void Gather_Backward_AccumulatesRepeatedIndices()
    {
        Tensor x = T.Param(1, 2, 3);
        x.Gather(1, I64([2, 2, 0, 1, 1, 0, 0, 0], 2, 4)).Sum().Backward();
        T.Close([1, 1, 2, 3, 1, 0], x.Grad!);
    }

    [Fact]
    public void Gather_GradCheck_Dims0And1_RepeatedIndices()
    {
        Tensor i0 = I64([0, 0, 2, 1, 0, 2, 2, 2], 4, 2);
        Tensor i1 = I64([2, 2, 0, 1, 1, 1, 1, 0], 2, 4);
        GradCheck.Verify(x => x[0].Gather(0, i0), [T.Param(1, 3, 2)]);
        GradCheck.Verify(x => x[0].Gather(1, i1), [T.Param(2, 2, 3)]);
        GradCheck.Verify(x => x[0].Gather(-1, I64([1, 1], 1, 2)), [T.Param(3, 3, 3)]);
        GradCheck.Verify(x => x[0].T().Gather(0, i0), [T.Param(4, 2, 3)]);
        GradCheck.VerifySecondOrder(x => (x[0] * x[0]).Gather(1, i1), [T.Param(5, 2, 3)]);
        GradCheck.VerifySecondOrder(x => (x[0] * x[0]).Gather(0, i0) * x[1], [T.Param(6, 3, 2), T.Param(7, 4, 2)]);
    }

    [Fact]
    public void Gather_Errors()
    {
        Tensor x = Tensor.Zeros([3, 2]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => x.Gather(0, I64([0, 3], 1, 2)));
        Assert.Contains("Gather: index 3 is out of range for dimension 0 with size 3", e.Message);
        Assert.Contains("index -1", Assert.Throws<ArgumentOutOfRangeException>(() => x.Gather(1, I64([-1], 1, 1))).Message);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => x.Gather(0, Tensor.Zeros([1, 2]))).Message);
        Assert.Contains("same number of dimensions", Assert.Throws<ArgumentException>(() => x.Gather(0, I64([0, 1]))).Message);
        Assert.Contains("dimension 1", Assert.Throws<ArgumentException>(() => x.Gather(0, Tensor.Zeros([1, 3], DType.Int64))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Gather(2, I64([0, 1], 1, 2)));
    }

    // ---------------- ScatterAdd ----------------

    [Fact]
    public void ScatterAdd_Dim0_HandValues()
    {
        Tensor self = Tensor.Full([3, 2], 10, DType.Float64);
        Tensor y = self.ScatterAdd(0, I64([0, 1, 0, 0], 2, 2), T.F64([1, 2, 3, 4], 2, 2));
        T.Close([14, 14, 10, 12, 10, 10], y);
        T.Close([10, 10, 10, 10, 10, 10], self); // out of place
    }

    [Fact]
    public void ScatterAdd_Dim1_SrcLargerThanIndex()
    {
        Tensor y = Tensor.Zeros([2, 3], DType.Float64).ScatterAdd(1, I64([2, 2], 1, 2), T.F64([1, 2, 3, 4, 5, 6], 2, 3));
        T.Close([0, 0, 3, 0, 0, 0], y);
        Tensor z = Tensor.Zeros([2, 2], DType.Float64).ScatterAdd(-1, I64([1, 1, 0, 0], 2, 2), T.F64([1, 2, 3, 4], 2, 2).T());
        T.Close([0, 4, 6, 0], z); // src is x.T() = [[1, 3], [2, 4]]
        Assert.Equal(new long[] { 0, 5 }, Tensor.Zeros([2], DType.Int64).ScatterAdd(0, I64([1, 1]), I64([2, 3])).ToArray<long>());
    }

    [Fact]
    public void ScatterAdd_GradCheck_Dims0And1_RepeatedIndices()
    {
        Tensor i0 = I64([0, 1, 0, 0, 2, 2], 3, 2);
        Tensor i1 = I64([2, 2, 0, 1, 1, 1], 2, 3);
        GradCheck.Verify(x => x[0].ScatterAdd(0, i0, x[1]), [T.Param(1, 3, 2), T.Param(2, 3, 2)]);
        GradCheck.Verify(x => x[0].ScatterAdd(1, i1, x[1]), [T.Param(3, 2, 4), T.Param(4, 2, 3)]);
        GradCheck.Verify(x => x[0].ScatterAdd(1, I64([0, 0], 1, 2), x[1]), [T.Param(5, 2, 3), T.Param(6, 3, 4)]); // src larger than index
        GradCheck.VerifySecondOrder(x => x[0].ScatterAdd(0, i0, x[1] * x[1]) * x[0], [T.Param(7, 3, 2), T.Param(8, 3, 2)]);

        Tensor self = T.Param(9, 2, 3), src = T.Param(10, 3, 4);
        self.ScatterAdd(1, I64([0, 0], 1, 2), src).Sum().Backward();
        T.Close([1, 1, 1, 1, 1, 1], self.Grad!);
        T.Close([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], src.Grad!);
    }

    [Fact]
    public void ScatterAdd_Errors()
    {
        Tensor self = Tensor.Zeros([2, 3]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => self.ScatterAdd(1, I64([0, 3], 1, 2), Tensor.Ones([1, 2])));
        Assert.Contains("ScatterAdd: index 3 is out of range for dimension 1 with size 3", e.Message);
        Assert.Contains("src shape [1, 1]", Assert.Throws<ArgumentException>(() => self.ScatterAdd(1, I64([0, 1], 1, 2), Tensor.Ones([1, 1]))).Message);
        Assert.Contains("float64", Assert.Throws<ArgumentException>(() => self.ScatterAdd(1, I64([0, 1], 1, 2), Tensor.Ones([1, 2], DType.Float64))).Message);
        Assert.Contains("self shape [2, 3]", Assert.Throws<ArgumentException>(() => self.ScatterAdd(1, Tensor.Zeros([3, 1], DType.Int64), Tensor.Ones([3, 1]))).Message);
    }

    // ---------------- IndexSelect / IndexAdd ----------------

    [Fact]
    public void IndexSelect_HandValues()
    {
        Tensor x = Tensor.Arange(12, DType.Float64).Reshape(3, 4);
        T.Close([8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11], x.IndexSelect(0, I64([2, 0, 2])));
        Tensor c = x.IndexSelect(1, I64([3, 1]));
        Assert.Equal(new Shape(3, 2), c.Shape);
        T.Close([3, 1, 7, 5, 11, 9], c);
        Tensor s = x.IndexSelect(-1, Tensor.Scalar(1, DType.Int64));
        Assert.Equal(new Shape(3, 1), s.Shape);
        T.Close([1, 5, 9], s);
        T.Close([6, 10], x.T().IndexSelect(0, I64([2])).Narrow(1, 1, 2)); // strided input
        Assert.Equal(new Shape(0, 4), x.IndexSelect(0, Tensor.Zeros([0], DType.Int64)).Shape);
        Assert.NotSame(x.Storage, x.IndexSelect(0, I64([0, 1, 2])).Storage);
    }

    [Fact]
    public void IndexSelect_GradCheck_RepeatedIndices()
    {
        Tensor idx = I64([2, 0, 2, 2]);
        GradCheck.Verify(x => x[0].IndexSelect(0, idx), [T.Param(1, 3, 2)]);
        GradCheck.Verify(x => x[0].IndexSelect(1, idx), [T.Param(2, 2, 3, 2)]);
        GradCheck.Verify(x => x[0].IndexSelect(-1, idx), [T.Param(3, 2, 3)]);
        GradCheck.VerifySecondOrder(x => (x[0] * x[0]).IndexSelect(1, idx), [T.Param(4, 2, 3)]);
        Tensor p = T.Param(5, 3, 2);
        p.IndexSelect(0, idx).Sum().Backward();
        T.Close([1, 1, 0, 0, 3, 3], p.Grad!);
    }

    [Fact]
    public void IndexAdd_HandValuesAndGradCheck()
    {
        Tensor y = Tensor.Zeros([3, 2], DType.Float64).IndexAdd(0, I64([0, 2, 0]), T.F64([1, 2, 3, 4, 5, 6], 3, 2));
        T.Close([6, 8, 0, 0, 3, 4], y);
        Tensor z = Tensor.Ones([2, 3], DType.Float64).IndexAdd(1, I64([1, 1]), T.F64([1, 2, 3, 4], 2, 2));
        T.Close([1, 4, 1, 1, 8, 1], z);
        Tensor idx = I64([1, 0, 1]);
        GradCheck.Verify(x => x[0].IndexAdd(1, idx, x[1]), [T.Param(1, 2, 2, 3), T.Param(2, 2, 3, 3)]);
        GradCheck.VerifySecondOrder(x => x[0].IndexAdd(0, idx, x[1] * x[1]) * x[0], [T.Param(3, 2, 2), T.Param(4, 3, 2)]);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([3, 2]).IndexAdd(0, idx, Tensor.Zeros([2, 2])));
        Assert.Contains("[2, 2]", e.Message);
        Assert.Contains("index length 3", e.Message);
    }

    [Fact]
    public void IndexSelect_Errors()
    {
        Tensor x = Tensor.Zeros([3, 4]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => x.IndexSelect(1, I64([0, 4])));
        Assert.Contains("IndexSelect: index 4 is out of range for dimension 1 with size 4", e.Message);
        Assert.Contains("1-D", Assert.Throws<ArgumentException>(() => x.IndexSelect(0, I64([0, 1], 1, 2))).Message);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => x.IndexSelect(0, Tensor.Zeros([2]))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.IndexAdd(0, I64([3]), Tensor.Zeros([1, 4])));
    }

    // ---------------- Embedding ----------------

    [Fact]
    public void Embedding_HandValues_AnyIndexShape()
    {
        Tensor w = Tensor.Arange(8, DType.Float64).Reshape(4, 2);
        Tensor y = Functional.Embedding(I64([1, 3, 1, 0], 2, 2), w);
        Assert.Equal(new Shape(2, 2, 2), y.Shape);
        T.Close([2, 3, 6, 7, 2, 3, 0, 1], y);
        Assert.Equal(new Shape(2), Functional.Embedding(Tensor.Scalar(2, DType.Int64), w).Shape);
        Assert.Equal(new Shape(0, 2), Functional.Embedding(Tensor.Zeros([0], DType.Int64), w).Shape);
    }

    [Fact]
    public void Embedding_PaddingIdx_RowGetsNoGradient()
    {
        Tensor w = T.Param(1, 4, 2);
        Tensor y = Functional.Embedding(I64([1, 3, 1, 0], 2, 2), w, paddingIdx: 1);
        T.Close(Functional.Embedding(I64([1, 3, 1, 0], 2, 2), w.Detach()).ToDoubleArray(), y); // forward unchanged
        y.Sum().Backward();
        T.Close([1, 1, 0, 0, 0, 0, 1, 1], w.Grad!);

        Tensor v = T.Param(2, 4, 2);
        Functional.Embedding(I64([1, 3, 1, 0], 2, 2), v, paddingIdx: -3).Sum().Backward(); // −3 is row 1
        T.Close([1, 1, 0, 0, 0, 0, 1, 1], v.Grad!);

        Tensor u = T.Param(3, 4, 2);
        Functional.Embedding(I64([1, 3, 1, 0], 2, 2), u).Sum().Backward();
        T.Close([1, 1, 2, 2, 0, 0, 1, 1], u.Grad!);
    }

    [Fact]
    public void Embedding_GradCheck_RepeatedIndicesAndPadding()
    {
        Tensor idx = I64([1, 3, 1, 0, 3, 3], 3, 2);
        GradCheck.Verify(x => Functional.Embedding(idx, x[0]), [T.Param(1, 4, 3)]);
        GradCheck.VerifySecondOrder(x => Functional.Embedding(idx, x[0]) * Functional.Embedding(idx, x[0]), [T.Param(4, 4, 3)]);
        // The padding row deliberately gets no gradient, so finite differences only apply to the
        // other rows: they are the checked input, the padding row is a constant spliced in with Cat.
        Tensor padRow = Tensor.Full([1, 3], 0.25, DType.Float64);
        GradCheck.Verify(x => Functional.Embedding(idx, Tensor.Cat([x[0], padRow]), paddingIdx: 3), [T.Param(2, 3, 3)]);
        Tensor PadRow1(Tensor[] x)
        {
            Tensor w = Tensor.Cat([x[0].Narrow(0, 0, 1), padRow, x[0].Narrow(0, 1, 2)]); // padding row at index 1
            return Functional.Embedding(idx, w * w, paddingIdx: 1) * x[1];
        }
        GradCheck.Verify(PadRow1, [T.Param(3, 3, 3), T.Param(5, 3)]);
        GradCheck.VerifySecondOrder(PadRow1, [T.Param(3, 3, 3), T.Param(5, 3)]);
    }

    [Fact]
    public void Embedding_Errors()
    {
        Tensor w = Tensor.Zeros([4, 2]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Embedding(I64([0, 4]), w));
        Assert.Contains("Embedding: index 4 is out of range for dimension 0 with size 4", e.Message);
        Assert.Contains("paddingIdx 4", Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Embedding(I64([0]), w, 4)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Embedding(I64([0]), w, -5));
        Assert.Contains("2-D", Assert.Throws<ArgumentException>(() => Functional.Embedding(I64([0]), Tensor.Zeros([4]))).Message);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => Functional.Embedding(Tensor.Zeros([2]), w)).Message);
    }

    // ---------------- Where / MaskedFill ----------------

    /// <summary>A bool mask from 1/0 values.</summary>
    private static Tensor Mask(long[] values, params int[] shape) => I64(values, shape).To(DType.Bool);

    [Fact]
    public void Where_HandValues_Broadcasting()
    {
        Tensor cond = Mask([1, 0, 2]);
        Tensor a = T.F64([1, 2], 2, 1);
        Tensor b = Tensor.Scalar(10, DType.Float64);
        Tensor y = Tensor.Where(cond, a, b);
        Assert.Equal(new Shape(2, 3), y.Shape);
        T.Close([1, 10, 1, 2, 10, 2], y);
        // To(Bool) makes NaN true and −0 false, as bool() does in PyTorch.
        T.Close([1, 0, 1], Tensor.Where(T.F32([float.NaN, -0f, 0.5f]).To(DType.Bool), Tensor.Ones([3]), Tensor.Zeros([3])));
        // A transposed condition and a transposed operand.
        Tensor m = Mask([1, 0, 0, 1], 2, 2).T(); // [[1, 0], [0, 1]]
        T.Close([1, 20, 30, 4], Tensor.Where(m, T.F64([1, 3, 2, 4], 2, 2).T(), T.F64([10, 20, 30, 40], 2, 2)));
        Assert.Equal(new long[] { 5, -1 }, Tensor.Where(Mask([1, 0]), I64([5, 6]), Tensor.Scalar(-1, DType.Int64)).ToArray<long>());
        Assert.Equal(new[] { true, true }, Tensor.Where(Mask([1, 0]), Mask([1, 1]), Mask([0, 1])).ToArray<bool>()); // bool values too
    }

    [Fact]
    public void Where_PromotesAAndB_AsTorch()
    {
        // torch.where(tensor([T, F, T]), tensor([1, 2, 3]), tensor([.5, .5, .5])) = float32 [1, 0.5, 3]
        Tensor y = Tensor.Where(Mask([1, 0, 1]), I64([1, 2, 3]), T.F32([0.5f, 0.5f, 0.5f]));
        Assert.Equal(DType.Float32, y.DType);
        T.Close([1, 0.5, 3], y);
        Tensor z = Tensor.Where(Mask([1, 0]), T.F64([1, 2]), 0.25); // a number for b
        Assert.Equal(DType.Float64, z.DType);
        T.Close([1, 0.25], z);
        Assert.Equal([5L, 0], Tensor.Where(Mask([1, 0]), I64([5, 6]), 0).ToArray<long>());        // a C# int keeps int64, as a Python int
        Assert.Equal(DType.Float32, Tensor.Where(Mask([1, 0]), I64([5, 6]), 0.5).DType);          // a double is a Python float
        GradCheck.Verify(x => Tensor.Where(Mask([1, 0, 1]), x[0], I64([7, 8, 9])), [T.Param(1, 3)]);
    }

    [Fact]
    public void Where_GradCheck_BroadcastingAllThree()
    {
        Tensor cond = Mask([1, 0, 0, 1, 1, 1, 1, 0], 2, 1, 4);
        GradCheck.Verify(x => Tensor.Where(cond, x[0], x[1]), [T.Param(1, 3, 1), T.Param(2, 4)]);
        GradCheck.Verify(x => Tensor.Where(cond.T(), x[0], x[1]), [T.Param(3, 4, 3), T.Param(4)]);
        GradCheck.Verify(x => Tensor.Where(Mask([1, 0, 1]), x[0], x[1]), [T.Param(5, 2, 3), T.Param(6, 2, 1)]);
        GradCheck.VerifySecondOrder(x => Tensor.Where(cond, x[0] * x[0], x[1] * x[0]), [T.Param(7, 3, 1), T.Param(8, 4)]);
        Tensor p = T.Param(9, 3, 1), q = T.Param(10, 4);
        Tensor.Where(cond, p, q).Sum().Backward();
        T.Close([5, 5, 5], p.Grad!);        // 2 + 3 true entries over the two batches
        T.Close([0, 3, 3, 3], q.Grad!);     // false count per column, times 3 rows
    }

    [Fact]
    public void Where_Errors()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Where(Tensor.Zeros([3], DType.Bool), Tensor.Zeros([2, 4]), Tensor.Zeros([4])));
        Assert.Contains("Where", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[2, 4]", e.Message);
        // torch: where expected condition to be a boolean tensor, but got a tensor with dtype Long
        var c = Assert.Throws<ArgumentException>(() => Tensor.Where(I64([1, 0]), Tensor.Zeros([2]), Tensor.Zeros([2])));
        Assert.Contains("Where", c.Message);
        Assert.Contains("bool", c.Message);
        Assert.Contains("int64", c.Message);
    }

    [Fact]
    public void MaskedFill_HandValuesAndGradCheck()
    {
        Tensor x = T.F64([1, 2, 3, 4], 2, 2);
        T.Close([-1, 2, -1, 4], x.MaskedFill(Mask([1, 0]), -1));
        Tensor b = T.F64([1, 2]).MaskedFill(Mask([0, 1, 1, 0], 2, 2), 9); // result broadcasts to the mask
        Assert.Equal(new Shape(2, 2), b.Shape);
        T.Close([1, 9, 9, 2], b);
        T.Close([1, 2, 3, 4], x); // out of place
        Tensor mask = Mask([0, 1, 1, 0, 0, 1], 2, 3);
        GradCheck.Verify(t => t[0].MaskedFill(mask, 0.5), [T.Param(1, 2, 3)]);
        GradCheck.Verify(t => t[0].MaskedFill(mask, double.NegativeInfinity).Exp(), [T.Param(2, 3)]);
        Tensor p = T.Param(3, 2, 3);
        p.MaskedFill(mask, 7).Sum().Backward();
        T.Close([1, 0, 0, 1, 1, 0], p.Grad!);
        Assert.Contains("[4]", Assert.Throws<ArgumentException>(() => x.MaskedFill(Mask([1, 0, 1, 0]), 0)).Message);
        // torch: masked_fill_ only supports boolean masks, but got mask with dtype long
        var e = Assert.Throws<ArgumentException>(() => x.MaskedFill(I64([1, 0]), 0));
        Assert.Contains("MaskedFill", e.Message);
        Assert.Contains("bool", e.Message);
        Assert.Equal(new[] { true, false }, Mask([0, 0]).MaskedFill(Mask([1, 0]), 1).ToArray<bool>());
    }

    // ---------------- MaskedSelect ----------------

    [Fact]
    public void MaskedSelect_BroadcastsAndMatchesTorch()
    {
        // torch: x.masked_select(tensor([T, F, T])) on [[1, 2, 3], [4, 5, 6]] = [1, 3, 4, 6];
        // (sel * [1, 2, 3, 4]).sum().backward() gives x.grad [[1, 0, 2], [3, 0, 4]]
        Tensor x = T.F64([1, 2, 3, 4, 5, 6], 2, 3).RequireGrad();
        Tensor sel = x.MaskedSelect(Mask([1, 0, 1]));
        T.Close([1, 3, 4, 6], sel);
        (sel * T.F64([1, 2, 3, 4])).Sum().Backward();
        T.Close([1, 0, 2, 3, 0, 4], x.Grad!);
        Assert.Equal(0, T.F64([1, 2]).MaskedSelect(Mask([0, 0])).Numel);
        Tensor small = T.F64([7, 8]);
        T.Close([7, 8, 8], small.MaskedSelect(Mask([1, 1, 0, 1], 2, 2))); // the input broadcasts to the mask
    }

    [Fact]
    public void MaskedSelect_GradCheck()
    {
        Tensor mask = Mask([1, 0, 1, 1, 0, 0, 1, 1], 2, 4);
        GradCheck.Verify(x => x[0].MaskedSelect(mask), [T.Param(1, 2, 4)]);
        GradCheck.Verify(x => x[0].MaskedSelect(mask), [T.Param(2, 4)]);        // broadcast input: summed back
        GradCheck.Verify(x => x[0].T().MaskedSelect(mask.T()), [T.Param(3, 2, 4)]); // strided
        GradCheck.VerifySecondOrder(x => (x[0] * x[0]).MaskedSelect(mask), [T.Param(4, 2, 4)]);
        Assert.Contains("bool", Assert.Throws<ArgumentException>(() => T.F64([1]).MaskedSelect(T.F64([1]))).Message);
    }
}
