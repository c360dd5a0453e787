using Backprop.Data;
using Backprop.Data.Transforms;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

/// <summary>
/// The DataLoader over per-example data sets: collated batches equal the tensor fast path, a new epoch per
/// foreach pass, no silent repeat of a shuffled epoch, and augmentation fixed by the seed whatever the
/// prefetching or the point of resume.
/// </summary>
public class DataLoaderItemTests
{
    /// <summary>n images [1, 4, 4] whose pixels encode their index, and labels i % 3.</summary>
    private static TensorDataset Images(int n)
    {
        var x = new float[n * 16];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            for (int p = 0; p < 16; p++) x[i * 16 + p] = i * 100 + p;
            y[i] = i % 3;
        }
        return new TensorDataset(Tensor.FromArray(x, [n, 1, 4, 4]), Tensor.FromArray(y));
    }

    /// <summary>The same examples read one at a time (no fast path).</summary>
    private sealed class PerExample(Dataset<(Tensor Input, Tensor Target)> inner) : Dataset<(Tensor Input, Tensor Target)>
    {
        public int Reads;
        public override int Count => inner.Count;
        public override (Tensor Input, Tensor Target) Get(int index)
        {
            Interlocked.Increment(ref Reads);
            return inner.Get(index);
        }
    }

    private static List<(float[] X, long[] Y)> Read(IEnumerable<(Tensor Inputs, Tensor Targets)> batches)
        => batches.Select(b => (b.Inputs.ToArray<float>(), b.Targets.ToArray<long>())).ToList();

    private static void Same(List<(float[] X, long[] Y)> a, List<(float[] X, long[] Y)> b)
    {
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].X, b[i].X);
            Assert.Equal(a[i].Y, b[i].Y);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void PerExampleDataset_GivesTheBatchesOfTheTensorFastPath(int prefetch)
    {
        var perExample = new PerExample(Images(10));
        var slow = new DataLoader(perExample, 4, shuffle: true, seed: 9, prefetch: prefetch);
        var fast = new DataLoader(Images(10), 4, shuffle: true, seed: 9, prefetch: prefetch);
        var batches = Read(slow.Epoch(3));
        Same(Read(fast.Epoch(3)), batches);
        Assert.Equal(10, perExample.Reads);
        Assert.Equal([4, 4, 2], batches.Select(b => b.Y.Length));
        Assert.Equal(4 * 16, batches[0].X.Length); // [4, 1, 4, 4]
    }

    [Fact]
    public void SubsetOfTensorDataset_BatchesTheSubsetsRows()
    {
        var subset = new Subset<(Tensor Input, Tensor Target)>(Images(10), [9, 0, 4]);
        var (x, y) = new DataLoader(subset, 3).Single();
        Assert.Equal(new Shape(3, 1, 4, 4), x.Shape);
        Assert.Equal([0L, 0, 1], y.ToArray<long>());
        float[] pixels = x.ToArray<float>();
        Assert.Equal([900f, 0, 400], new[] { pixels[0], pixels[16], pixels[32] });
    }

    [Fact]
    public void Foreach_ReadsTheNextEpoch_EachPass()
    {
        var loader = new DataLoader(Images(12), 5, shuffle: true, seed: 2);
        Assert.Equal(0, loader.NextEpoch);
        var first = Read(loader);
        var second = Read(loader);
        Assert.Equal(2, loader.NextEpoch);
        Assert.NotEqual(first.SelectMany(b => b.X).ToArray(), second.SelectMany(b => b.X).ToArray());
        var fresh = new DataLoader(Images(12), 5, shuffle: true, seed: 2);
        Same(Read(fresh.Epoch(0)), first);
        Same(Read(fresh.Epoch(1)), second);
    }

    [Fact]
    public void RereadingAShuffledEpoch_IsRefused_UntilAskedFor()
    {
        var loader = new DataLoader(Images(12), 5, shuffle: true, seed: 2, prefetch: 0);
        IEnumerable<(Tensor Inputs, Tensor Targets)> epoch0 = loader.Epoch(0);
        var once = Read(epoch0);
        Assert.Equal(1, loader.NextEpoch);
        var e = Assert.Throws<InvalidOperationException>(() => Read(loader.Epoch(0)));
        Assert.Contains("epoch 0 was already read to the end", e.Message);
        Assert.Contains("foreach (var (x, y) in loader)", e.Message);
        Assert.Contains("loader.NextEpoch = 0", e.Message);
        Assert.Throws<InvalidOperationException>(() => Read(epoch0)); // enumerating the same sequence again is a repeat too
        Assert.Equal(3, Read(loader).Count); // the next pass is epoch 1, not read before
        Assert.Equal(2, loader.NextEpoch);
        loader.NextEpoch = 0;
        Same(once, Read(loader.Epoch(0)));
    }

    [Fact]
    public void SettingNextEpoch_ReplaysOnPurpose_AndForeachContinuesFromEpoch()
    {
        var loader = new DataLoader(Images(12), 5, shuffle: true, seed: 2, prefetch: 0);
        var once = Read(loader.Epoch(4));
        Assert.Equal(5, loader.NextEpoch);
        var fifth = Read(loader); // epoch 5
        loader.NextEpoch = 4;
        Same(once, Read(loader));
        Same(fifth, Read(loader));
    }

    [Fact]
    public void AnEpochStoppedEarly_MayBeResumed_AndUnshuffledLoadersRepeatFreely()
    {
        var loader = new DataLoader(Images(12), 5, shuffle: true, seed: 2);
        var whole = Read(new DataLoader(Images(12), 5, shuffle: true, seed: 2).Epoch(1));
        Assert.Single(Read(loader.Epoch(1).Take(1)));
        Same(whole.Skip(1).ToList(), Read(loader.Epoch(1, startBatch: 1)));

        var plain = new DataLoader(Images(7), 3);
        Same(Read(plain.Epoch(0)), Read(plain.Epoch(0)));
        Same(Read(plain), Read(plain));
    }

    private static TransformedDataset Augmented(int n)
        => Images(n).WithTransform(new Compose(new RandomCrop(4, padding: 1), new RandomHorizontalFlip()));

    [Fact]
    public void Augmentation_RepeatsForASeed_WithAnyPrefetch_AndOnResume()
    {
        var reference = Read(new DataLoader(Augmented(10), 4, shuffle: true, seed: 5, prefetch: 0).Epoch(2));
        Same(reference, Read(new DataLoader(Augmented(10), 4, shuffle: true, seed: 5, prefetch: 3).Epoch(2)));
        Same(reference.Skip(1).ToList(), Read(new DataLoader(Augmented(10), 4, shuffle: true, seed: 5).Epoch(2, startBatch: 1)));
        // An example's augmentation depends on the seed, the epoch and the example, not on the order:
        // the unshuffled loader crops example i as the shuffled one does.
        var unshuffled = Read(new DataLoader(Augmented(10), 10, seed: 5).Epoch(2)).Single();
        var shuffledEpoch = reference.SelectMany(b => Enumerable.Range(0, b.Y.Length).Select(k => b.X[(k * 16)..((k + 1) * 16)])).ToList();
        int[] order = new DataLoader(Images(10), 4, shuffle: true, seed: 5).Order(2);
        for (int k = 0; k < 10; k++)
            Assert.Equal(unshuffled.X[(order[k] * 16)..((order[k] + 1) * 16)], shuffledEpoch[k]);
    }

    [Fact]
    public void Augmentation_DiffersBetweenEpochsAndSeeds()
    {
        float[] Epoch(ulong seed, int epoch) => Read(new DataLoader(Augmented(32), 32, seed: seed).Epoch(epoch)).Single().X;
        float[] plain = Read(new DataLoader(Images(32), 32).Epoch(0)).Single().X;
        Assert.NotEqual(plain, Epoch(1, 0));
        Assert.NotEqual(Epoch(1, 0), Epoch(1, 1));
        Assert.NotEqual(Epoch(1, 0), Epoch(2, 0));
        Assert.Equal(Epoch(1, 0), Epoch(1, 0));
    }

    private sealed class Labelled(int n) : Dataset<(Tensor Input, long Target)>
    {
        public override int Count => n;
        public override (Tensor Input, long Target) Get(int index) => (Tensor.Full([2], index), 10 + index);
    }

    [Fact]
    public void LongLabels_AreCollatedIntoAnInt64Vector()
    {
        var (x, y) = new DataLoader(new Labelled(3), 3).Single();
        Assert.Equal([0f, 0, 1, 1, 2, 2], x.ToArray<float>());
        Assert.Equal([10L, 11, 12], y.ToArray<long>());
    }

    [Fact]
    public void CustomCollate_MakesTheBatch()
    {
        var loader = DataLoader.Create(new Labelled(5), items =>
        {
            var sum = new float[items.Length];
            var labels = new long[items.Length];
            for (int i = 0; i < items.Length; i++) { sum[i] = (float)items[i].Input.Sum().Item(); labels[i] = items[i].Target; }
            return (Tensor.FromArray(sum), Tensor.FromArray(labels));
        }, batchSize: 2);
        Assert.Equal(new[] { new[] { 0f, 2 }, new[] { 4f, 6 }, new[] { 8f } }, loader.Epoch(0).Select(b => b.Inputs.ToArray<float>()).ToArray());
    }

    private sealed class Broken : Dataset<(Tensor Input, Tensor Target)>
    {
        public override int Count => 8;
        public override (Tensor Input, Tensor Target) Get(int index)
            => index == 5 ? throw new InvalidDataException("cat/5.png: the image is truncated") : (Tensor.Ones([index < 6 ? 2 : 3]), Tensor.Scalar(0, DType.Int64));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void ADataSetsError_ReachesTheReader_WithItsOwnType(int prefetch)
    {
        var loader = new DataLoader(new Broken(), 4, prefetch: prefetch);
        var e = Assert.Throws<InvalidDataException>(() => Read(loader.Epoch(0)));
        Assert.Equal("cat/5.png: the image is truncated", e.Message);
    }

    [Fact]
    public void ACollateError_NamesTheExamplesOfTheBatch()
    {
        var loader = new DataLoader(new Subset<(Tensor Input, Tensor Target)>(new Broken(), [4, 6, 7]), 3, prefetch: 0);
        var e = Assert.Throws<ArgumentException>(() => Read(loader.Epoch(0)));
        Assert.Contains("item 0 is float32 [2] but item 1 is float32 [3]", e.Message);
        Assert.Contains("examples [0, 1, 2] of the data set", e.Message);
    }

    [Fact]
    public void BadArguments_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Augmented(3), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Images(3), 1, prefetch: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Images(3), 1).Epoch(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Images(3), 1).NextEpoch = -1);
    }
}
