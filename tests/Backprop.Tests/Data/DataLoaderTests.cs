using Backprop.Data;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

public class DataLoaderTests
{
    private static TensorDataset Numbers(int n)
    {
        var x = new float[n * 2];
        var y = new long[n];
        for (int i = 0; i < n; i++) { x[2 * i] = i; x[2 * i + 1] = -i; y[i] = i; }
        return new TensorDataset(Tensor.FromArray(x, [n, 2]), Tensor.FromArray(y));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Batches_CoverEveryExampleOnce_WithRowsIntact(int prefetch)
    {
        var loader = new DataLoader(Numbers(10), batchSize: 4, shuffle: true, seed: 3, prefetch: prefetch);
        var seen = new List<long>();
        foreach (var (x, y) in loader.Epoch(0))
        {
            float[] xs = x.ToArray<float>();
            long[] ys = y.ToArray<long>();
            for (int i = 0; i < ys.Length; i++) Assert.Equal(ys[i], (long)xs[2 * i]);
            seen.AddRange(ys);
        }
        Assert.Equal(3, loader.BatchCount);
        seen.Sort();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), seen);
    }

    [Fact]
    public void DropLast_SkipsPartialBatch()
    {
        var loader = new DataLoader(Numbers(10), batchSize: 4, dropLast: true);
        Assert.Equal(2, loader.Epoch(0).Count());
    }

    [Fact]
    public void Shuffle_IsSeededPerEpoch_AndDiffersBetweenEpochs()
    {
        var a = new DataLoader(Numbers(100), 10, shuffle: true, seed: 7);
        var b = new DataLoader(Numbers(100), 10, shuffle: true, seed: 7);
        Assert.Equal(a.Order(3), b.Order(3));
        Assert.NotEqual(a.Order(0), a.Order(1));
        Assert.NotEqual(a.Order(0), new DataLoader(Numbers(100), 10, shuffle: true, seed: 8).Order(0));
    }

    [Fact]
    public void NoShuffle_KeepsFileOrder()
    {
        var loader = new DataLoader(Numbers(5), 2);
        Assert.Equal([0, 1, 2, 3, 4], loader.Order(0));
    }

    [Fact]
    public void StoppingEarly_EndsThePrefetchThread()
    {
        var data = new CountingDataset(Numbers(1000));
        var loader = new DataLoader(data, 10, prefetch: 2);
        int taken = 0;
        foreach (var _ in loader.Epoch(0)) if (++taken == 3) break; // disposing the enumerator cancels and joins the producer
        Thread producer = loader.PrefetchThread!;
        Assert.False(producer.IsAlive);
        Assert.Equal(ThreadState.Stopped, producer.ThreadState & ThreadState.Stopped);
        // Cancelled, not drained: at most the batches taken, the queue's two and the one being added.
        Assert.InRange(data.Batches, 3, 3 + 2 + 1);
    }

    /// <summary>Counts the batches the loader asked for.</summary>
    private sealed class CountingDataset(IBatchDataset inner) : IBatchDataset
    {
        public int Batches;
        public int Count => inner.Count;
        public (Tensor Inputs, Tensor Targets) GetBatch(ReadOnlySpan<int> indices)
        {
            Interlocked.Increment(ref Batches);
            return inner.GetBatch(indices);
        }
    }

    [Fact]
    public void InvalidBatchSize_IsRefused()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbers(5), 0));
}
