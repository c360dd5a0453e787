using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;
using F = Backprop.Tests.Ops.EverydayFixtures;

namespace Backprop.Tests.Ops.Sorting;

/// <summary>Sort, ArgSort and TopK: values and indices against torch.sort/torch.topk (ties, NaN, ±0), gradients, errors.</summary>
public class SortTests
{
    private static Tensor SortInput() => T.F64(F.SortInput, 3, 5);

    [Fact]
    public void Sort_MatchesPyTorch_StableWithNaNLastAndSignedZerosEqual()
    {
        (Tensor v, Tensor i) = SortInput().Sort();
        EverydayAssert.Close(F.SortLastValues, v, 0, 0);
        Assert.Equal(F.SortLastIndices, i.ToArray<long>());
        Assert.Equal(DType.Int64, i.DType);
        // −0 and +0 keep their order (row 1: +0 at 0 before −0 at 1).
        Assert.Equal(0.0, v[1, 1]);
        Assert.False(double.IsNegative(v[1, 1]));
        Assert.True(double.IsNegative(v[1, 2]));
    }

    [Fact]
    public void Sort_DescendingAlongDim0_PutsNaNFirst()
    {
        (Tensor v, Tensor i) = SortInput().Sort(0, descending: true);
        EverydayAssert.Close(F.SortFirstDescValues, v, 0, 0);
        Assert.Equal(F.SortFirstDescIndices, i.ToArray<long>());
        (Tensor v2, Tensor i2) = SortInput().Sort(-2, descending: true, stable: true);
        Assert.Equal(i.ToArray<long>(), i2.ToArray<long>());
        Assert.Equal(F.SortFirstDescIndices, SortInput().ArgSort(0, descending: true).ToArray<long>());
        EverydayAssert.Close(v.ToDoubleArray(), v2, 0, 0);
    }

    [Fact]
    public void Sort_Int64AndFloat32_AndNonContiguousInput()
    {
        Tensor ints = Tensor.FromArray(new long[] { 3, -1, 3, long.MinValue, long.MaxValue, 0 });
        (Tensor v, Tensor i) = ints.Sort(descending: true);
        Assert.Equal(new long[] { long.MaxValue, 3, 3, 0, -1, long.MinValue }, v.ToArray<long>());
        Assert.Equal(new long[] { 4, 0, 2, 5, 1, 3 }, i.ToArray<long>());

        Tensor f = T.F32([2f, float.NaN, -1f, 2f], 4);
        (Tensor fv, Tensor fi) = f.Sort();
        Assert.Equal(new long[] { 2, 0, 3, 1 }, fi.ToArray<long>());
        Assert.True(float.IsNaN(fv.ToArray<float>()[3]));

        Tensor t = SortInput().T();                 // [5, 3] view, sorted along its dim 1 = the input's dim 0
        (Tensor tv, Tensor ti) = t.Sort(1, descending: true);
        Assert.Equal(F.SortFirstDescIndices, ti.T().Contiguous().ToArray<long>());
        EverydayAssert.Close(F.SortFirstDescValues, tv.T().Contiguous(), 0, 0);
    }

    [Fact]
    public void Sort_ScalarAndEmpty()
    {
        (Tensor v, Tensor i) = Tensor.Scalar(3, DType.Float64).Sort();
        Assert.Equal(0, v.Rank);
        Assert.Equal(3.0, v.Item());
        Assert.Equal(0.0, i.Item());
        (Tensor ev, Tensor ei) = Tensor.Zeros([2, 0]).Sort();
        Assert.Equal(new Shape(2, 0), ev.Shape);
        Assert.Equal(new Shape(2, 0), ei.Shape);
    }

    [Fact]
    public void Sort_LongRowsInParallel_MatchSortingEachRowAlone()
    {
        // 64 rows of 1,000: above the parallel threshold; each row must equal the same row sorted alone.
        Tensor x = Tensor.Randn([64, 1000], DType.Float64, new Generator(3)).Round();  // many ties
        (Tensor v, Tensor i) = x.Sort(1, descending: true);
        for (int r = 0; r < 64; r += 21)
        {
            (Tensor rv, Tensor ri) = x.Select(0, r).Sort(descending: true);
            Assert.Equal(ri.ToArray<long>(), i.Select(0, r).Contiguous().ToArray<long>());
            Assert.Equal(rv.ToArray<double>(), v.Select(0, r).Contiguous().ToArray<double>());
        }
    }

    [Fact]
    public void TopK_MatchesPyTorch()
    {
        Tensor x = SineFill.Tensor(1, 3, 5);
        (Tensor v, Tensor i) = x.TopK(2, dim: 1);
        EverydayAssert.Close(F.TopK2Dim1Values, v, 0, 0);
        Assert.Equal(F.TopK2Dim1Indices, i.ToArray<long>());
        Assert.Equal(new Shape(3, 2), v.Shape);
        (Tensor sv, Tensor si) = Functional.TopK(x, 2, dim: 0, largest: false);
        EverydayAssert.Close(F.TopK2Dim0SmallestValues, sv, 0, 0);
        Assert.Equal(F.TopK2Dim0SmallestIndices, si.ToArray<long>());
    }

    [Fact]
    public void TopK_TiesTakeTheEarliestPositions_NaNIsLargest()
    {
        // PyTorch's CPU kernel returns [4, 3, 5] here (tie order unspecified); ours is stable: [4, 0, 1].
        Tensor x = T.F64([1, 1, 1, 1, 2, 1], 6);
        Assert.Equal(new long[] { 4, 0, 1 }, x.TopK(3).Indices.ToArray<long>());
        Assert.Equal(new long[] { 0, 1, 2 }, x.TopK(3, largest: false).Indices.ToArray<long>());
        Tensor withNaN = T.F64([0.5, double.NaN, 3, double.NaN], 4);
        Assert.Equal(new long[] { 1, 3, 2 }, withNaN.TopK(3).Indices.ToArray<long>());
        Assert.Equal(new long[] { 0, 2 }, withNaN.TopK(2, largest: false, sorted: false).Indices.ToArray<long>());
    }

    [Fact]
    public void TopK_HeapPathMatchesFullSort()
    {
        // k small against n takes the heap; it must pick exactly what sorting everything picks.
        Tensor x = Tensor.Randn([7, 300], DType.Float64, new Generator(5)).Mul(Tensor.Scalar(3, DType.Float64)).Round();
        foreach (bool largest in new[] { true, false })
        {
            (Tensor v, Tensor i) = x.TopK(5, 1, largest);
            (Tensor sv, Tensor si) = x.Sort(1, descending: largest);
            Assert.Equal(si.Narrow(1, 0, 5).Contiguous().ToArray<long>(), i.ToArray<long>());
            Assert.Equal(sv.Narrow(1, 0, 5).Contiguous().ToArray<double>(), v.ToArray<double>());
        }
        (Tensor v0, Tensor i0) = x.TopK(0, 1);
        Assert.Equal(new Shape(7, 0), v0.Shape);
        Assert.Equal(new Shape(7, 0), i0.Shape);
    }

    [Fact]
    public void Gradients_ScatterBackToTheSourcePositions()
    {
        GradCheck.Verify(t => t[0].Sort().Values, [T.Param(1, 3, 5)]);
        GradCheck.Verify(t => t[0].Sort(0, descending: true).Values, [T.Param(2, 4, 3)]);
        GradCheck.Verify(t => t[0].T().Sort(-2).Values * 2.0, [T.Param(3, 3, 4)]);   // non-contiguous input
        GradCheck.Verify(t => t[0].TopK(2, dim: -1).Values, [T.Param(4, 3, 6)]);
        GradCheck.Verify(t => t[0].TopK(3, dim: 0, largest: false).Values, [T.Param(5, 5, 2)]);
        GradCheck.Verify(t => t[0].Expand(2, 4, 5).TopK(2).Values, [T.Param(6, 4, 5)]);   // broadcast input
        GradCheck.VerifySecondOrder(t => t[0].Sort().Values * t[0], [T.Param(7, 2, 4)]);
        GradCheck.VerifySecondOrder(t => t[0].TopK(2).Values.Square(), [T.Param(8, 2, 5)]);
        Assert.Equal("SortBackward", T.Param(9, 3).Sort().Values.GradFn!.Name);
        Assert.Equal("TopkBackward", T.Param(9, 3).TopK(1).Values.GradFn!.Name);
        Assert.Null(T.Param(9, 3).Sort().Indices.GradFn);
    }

    [Fact]
    public void Errors_NameTheOpAndShape()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Ones([3, 4]).TopK(5));
        Assert.Contains("TopK", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("5", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Ones([3]).TopK(-1));
        var d = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Ones([3]).Sort(1));
        Assert.Contains("Sort", d.Message);
        Assert.Contains("[3]", d.Message);
    }
}
