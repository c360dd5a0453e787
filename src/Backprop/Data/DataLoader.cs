using System.Collections.Concurrent;
using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Iterates a data set in batches: seeded shuffling (the order of epoch e depends only on the seed
/// and e, so resuming at an epoch reproduces it), optional drop-last, and a background thread that
/// assembles the next batches while the current one trains.
/// </summary>
public sealed class DataLoader : IBatchSource
{
    private readonly IBatchDataset _dataset;

    /// <summary>Creates a loader.</summary>
    /// <param name="dataset">The examples.</param>
    /// <param name="batchSize">Examples per batch (≥ 1).</param>
    /// <param name="shuffle">Visit examples in a seeded random order each epoch.</param>
    /// <param name="dropLast">Skip the final partial batch.</param>
    /// <param name="seed">Shuffling seed.</param>
    /// <param name="prefetch">Batches prepared ahead on a background thread (0 = none).</param>
    public DataLoader(IBatchDataset dataset, int batchSize, bool shuffle = false, bool dropLast = false, ulong seed = 0, int prefetch = 2)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"DataLoader: batch size must be at least 1, got {batchSize}");
        ArgumentOutOfRangeException.ThrowIfNegative(prefetch);
        _dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Seed = seed;
        Prefetch = prefetch;
    }

    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether the last partial batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Shuffling seed.</summary>
    public ulong Seed { get; }

    /// <summary>Batches prepared ahead.</summary>
    public int Prefetch { get; }

    /// <summary>The prefetch thread of the most recently started epoch, or null (tests check that it ends).</summary>
    internal Thread? PrefetchThread { get; private set; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => DropLast ? _dataset.Count / BatchSize : (_dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The example order of epoch <paramref name="epoch"/> (identity when not shuffling).</summary>
    public int[] Order(int epoch)
    {
        var order = new int[_dataset.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (!Shuffle) return order;
        var g = new Generator(Seed * 0x9E3779B97F4A7C15UL + (ulong)epoch + 1);
        for (int i = order.Length - 1; i > 0; i--) // Fisher–Yates
        {
            int j = (int)g.NextInt64(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The batches of one epoch, in order, from batch <paramref name="startBatch"/> on (the same batches as those positions of the whole epoch).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startBatch"/> is outside [0, <see cref="BatchCount"/>].</exception>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> Epoch(int epoch, int startBatch = 0)
    {
        if ((uint)startBatch > (uint)BatchCount)
            throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"DataLoader: the start batch must be in [0, {BatchCount}]");
        return Batches(epoch, startBatch);
    }

    private IEnumerable<(Tensor Inputs, Tensor Targets)> Batches(int epoch, int startBatch)
    {
        int[] order = Order(epoch);
        int batches = BatchCount;
        if (Prefetch == 0)
        {
            for (int b = startBatch; b < batches; b++) yield return MakeBatch(order, b);
            yield break;
        }
        using var queue = new BlockingCollection<(Tensor, Tensor)>(Prefetch);
        using var cancel = new CancellationTokenSource();
        Exception? failure = null;
        var producer = new Thread(() =>
        {
            try
            {
                for (int b = startBatch; b < batches; b++) queue.Add(MakeBatch(order, b), cancel.Token);
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        }) { IsBackground = true, Name = "DataLoader prefetch" };
        PrefetchThread = producer;
        producer.Start();
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable())
                yield return batch;
            if (failure is not null) throw new InvalidOperationException("DataLoader: the prefetch thread failed: " + failure.Message, failure);
        }
        finally
        {
            cancel.Cancel();
            producer.Join();
        }
    }

    private (Tensor, Tensor) MakeBatch(int[] order, int b)
    {
        int start = b * BatchSize;
        int count = Math.Min(BatchSize, order.Length - start);
        long mark = Storage.LastSerial;
        (Tensor x, Tensor y) = _dataset.GetBatch(order.AsSpan(start, count));
        BatchOwnership.Offer(x, mark); // made here (outside any scope, e.g. on the prefetch thread): the step's scope may adopt it
        BatchOwnership.Offer(y, mark);
        return (x, y);
    }
}
