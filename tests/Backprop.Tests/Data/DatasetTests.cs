using Backprop.Data;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

/// <summary>Per-example data sets: Subset, ConcatDataset, RandomSplit (PyTorch's fraction rounding), collate, TensorDataset's examples.</summary>
public class DatasetTests
{
    /// <summary>Example i is the number offset + i.</summary>
    private sealed class Numbers(int count, int offset = 0) : Dataset<int>
    {
        public override int Count => count;
        public override int Get(int index)
        {
            CheckIndex(index, "Numbers");
            return offset + index;
        }
    }

    private static int[] All(Dataset<int> d) => Enumerable.Range(0, d.Count).Select(d.Get).ToArray();

    [Fact]
    public void Subset_ReadsTheGivenIndices_InOrder_WithRepeats()
    {
        var s = new Subset<int>(new Numbers(10), [7, 2, 2, 9]);
        Assert.Equal(4, s.Count);
        Assert.Equal([7, 2, 2, 9], All(s));
        Assert.Equal(9, s[3]);
        Assert.Equal([7, 2, 2, 9], s.Indices);
    }

    [Fact]
    public void Subset_RefusesIndicesOutsideTheDataset_WhenMade()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Subset<int>(new Numbers(5), [1, 5]));
        Assert.Contains("index 5 at position 1", e.Message);
        Assert.Contains("0..4", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Subset<int>(new Numbers(5), [-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Subset<int>(new Numbers(5), [0]).Get(1));
    }

    [Fact]
    public void Concat_JoinsInOrder_AcrossEmptyParts()
    {
        var c = new ConcatDataset<int>(new Numbers(3, 100), new Numbers(0), new Numbers(2, 200), new Numbers(1, 300));
        Assert.Equal(6, c.Count);
        Assert.Equal([100, 101, 102, 200, 201, 300], All(c));
        Assert.Equal([3, 3, 5, 6], c.CumulativeSizes);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => c.Get(6));
        Assert.Contains("ConcatDataset: index 6 is outside 0..5", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => c.Get(-1));
        Assert.Throws<ArgumentException>(() => new ConcatDataset<int>());
    }

    [Theory]
    [InlineData(11, new[] { 0.8, 0.2 }, new[] { 9, 2 })]        // floor 8, 2; the one left over goes to the first
    [InlineData(10, new[] { 0.33, 0.33, 0.34 }, new[] { 4, 3, 3 })]
    [InlineData(10, new[] { 0.1, 0.1, 0.1, 0.7 }, new[] { 1, 1, 1, 7 })]
    [InlineData(5, new[] { 0.5, 0.5 }, new[] { 3, 2 })]
    [InlineData(3, new[] { 0.25, 0.25, 0.25, 0.25 }, new[] { 1, 1, 1, 0 })]
    [InlineData(0, new[] { 0.5, 0.5 }, new[] { 0, 0 })]
    public void RandomSplit_Fractions_RoundAsPyTorch(int n, double[] fractions, int[] sizes)
    {
        Subset<int>[] parts = Dataset.RandomSplit(new Numbers(n), fractions, new Generator(1));
        Assert.Equal(sizes, parts.Select(p => p.Count));
    }

    [Fact]
    public void RandomSplit_IsAPartition_RepeatableForASeed_AndDiffersForAnother()
    {
        var data = new Numbers(50);
        int[][] Split(ulong seed) => Dataset.RandomSplit(data, new[] { 20, 25, 5 }, new Generator(seed)).Select(All).ToArray();
        int[][] a = Split(3);
        Assert.Equal([20, 25, 5], a.Select(p => p.Length));
        Assert.Equal(Enumerable.Range(0, 50), a.SelectMany(p => p).Order());
        Assert.Equal(a, Split(3));
        Assert.NotEqual(a[0], Split(4)[0]);
        // Fractions and the counts they round to draw the same permutation, so they give the same split.
        Assert.Equal(a, Dataset.RandomSplit(data, [0.4, 0.5, 0.1], new Generator(3)).Select(All).ToArray());
    }

    [Fact]
    public void RandomSplit_RefusesBadSizes_NamingThem()
    {
        var data = new Numbers(10);
        Assert.Contains("sum to 0.8, not 1", Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(data, [0.5, 0.3])).Message);
        Assert.Contains("sum to", Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(data, [0.5, 0.5000001])).Message);
        Assert.Contains("fraction -0.5 at index 0", Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(data, [-0.5, 1.5])).Message);
        Assert.Contains("add up to 9, but the data set has 10", Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(data, new[] { 4, 5 })).Message);
        Assert.Contains("length -1 at index 1", Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(data, new[] { 11, -1 })).Message);
        Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(data, Array.Empty<int>()));
    }

    [Fact]
    public void TensorDataset_Examples_AreTheRows()
    {
        var data = new TensorDataset(Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]), Tensor.FromArray(new long[] { 7, 8, 9 }));
        var (x, y) = data[1];
        Assert.Equal([3f, 4f], x.ToArray<float>());
        Assert.Equal(new Shape(2), x.Shape);
        Assert.Equal(Shape.Scalar, y.Shape);
        Assert.Equal(8, y.Item());
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Get(3));
    }

    [Fact]
    public void DefaultCollate_StacksInputsAndTargets()
    {
        (Tensor, Tensor)[] items =
        [
            (Tensor.FromArray(new float[] { 1, 2 }), Tensor.Scalar(0, DType.Int64)),
            (Tensor.FromArray(new float[] { 3, 4 }), Tensor.Scalar(1, DType.Int64)),
            (Tensor.FromArray(new float[] { 5, 6 }), Tensor.Scalar(2, DType.Int64)),
        ];
        var (x, y) = Collate.Default(items);
        Assert.Equal(new Shape(3, 2), x.Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], x.ToArray<float>());
        Assert.Equal(DType.Int64, y.DType);
        Assert.Equal([0L, 1, 2], y.ToArray<long>());
        Assert.Null(x.GradFn);
    }

    [Fact]
    public void DefaultCollate_OfLongTargets_MakesAnInt64Vector()
    {
        (Tensor, long)[] items = [(Tensor.Ones([2, 2]), 4), (Tensor.Zeros([2, 2]), -1)];
        var (x, y) = Collate.Default(items);
        Assert.Equal(new Shape(2, 2, 2), x.Shape);
        Assert.Equal(new Shape(2), y.Shape);
        Assert.Equal([4L, -1], y.ToArray<long>());
    }

    [Fact]
    public void DefaultCollate_RefusesUnequalShapes_NamingTheItems()
    {
        (Tensor, Tensor)[] items = [(Tensor.Ones([3, 28, 28]), Tensor.Scalar(0)), (Tensor.Ones([3, 28, 28]), Tensor.Scalar(0)), (Tensor.Ones([3, 32, 32]), Tensor.Scalar(0))];
        var e = Assert.Throws<ArgumentException>(() => Collate.Default(items));
        Assert.Contains("Collate: cannot stack the inputs of a batch: item 0 is float32 [3, 28, 28] but item 2 is float32 [3, 32, 32]", e.Message);
        (Tensor, Tensor)[] dtypes = [(Tensor.Ones([2]), Tensor.Scalar(0)), (Tensor.Ones([2]), Tensor.Scalar(0, DType.Int64))];
        Assert.Contains("targets of a batch: item 0 is float32 [] but item 1 is int64 []", Assert.Throws<ArgumentException>(() => Collate.Default(dtypes)).Message);
        Assert.Contains("empty batch", Assert.Throws<ArgumentException>(() => Collate.Default(ReadOnlySpan<(Tensor, Tensor)>.Empty)).Message);
    }
}
