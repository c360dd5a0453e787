using System.Collections;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.Versioning;
using Backprop.Tensors;
using Backprop.Threading;

namespace Backprop.Data;

/// <summary>
/// Iterates a data set in batches, as PyTorch's <c>DataLoader</c>: seeded shuffling, optional drop-last,
/// a collate step for per-example data sets, and a background thread that assembles the next batches
/// while the current one trains.
/// </summary>
/// <remarks>
/// <para><b>Epochs.</b> Iterating the loader itself (<c>foreach (var (x, y) in loader)</c>) reads the next
/// epoch, <see cref="NextEpoch"/> (0, 1, 2, …, advanced as each pass starts), so every pass has a new
/// order, as every pass over a PyTorch loader does. <see cref="Epoch"/> reads one epoch by number: the
/// order of epoch e depends only on <see cref="Seed"/> and e, which is what exact resume needs (the
/// <see cref="Training.Trainer"/> reads epoch e with <c>Epoch(e, startBatch)</c>), and it sets
/// <see cref="NextEpoch"/> to e + 1.</para>
/// <para><b>No silent repeats.</b> Reading the same epoch number twice would give the same shuffled order
/// twice (calling <c>Epoch(0)</c> in a loop, or enumerating one <c>Epoch(e)</c> again). So once a shuffled
/// epoch has been read to the end, starting it again throws <see cref="InvalidOperationException"/>; to read
/// it again on purpose (a rollback to a checkpoint in the same process), set <see cref="NextEpoch"/> first
/// (which forgets the epochs read) or use a new loader. An epoch stopped early may be restarted (resume
/// in the middle of an epoch). Unshuffled loaders have one order and may be read any number of times.</para>
/// <para><b>Augmentation.</b> Example i of epoch e is read with <see cref="Dataset{T}.Get(int, Generator)"/>
/// and a generator seeded from (<see cref="Seed"/>, e, i), so random transforms repeat with the seed, differ
/// between epochs, and depend neither on the order, the batch, nor the prefetch thread.</para>
/// <para><b>No threads.</b> Where threads cannot start (Blazor WebAssembly without threading), batches are assembled
/// on the reading thread as with <c>prefetch: 0</c>: the same batches, none prepared ahead.</para>
/// </remarks>
public sealed class DataLoader : IBatchSource, IEnumerable<(Tensor Inputs, Tensor Targets)>
{
    private readonly IBatchDataset _dataset;
    private readonly object _gate = new();
    private readonly HashSet<int> _finished = []; // shuffled epochs read to the end
    private int _nextEpoch;

    /// <summary>Creates a loader over a data set that assembles whole batches.</summary>
    /// <param name="dataset">The examples.</param>
    /// <param name="batchSize">Examples per batch (≥ 1).</param>
    /// <param name="shuffle">Visit examples in a seeded random order each epoch.</param>
    /// <param name="dropLast">Skip the final partial batch.</param>
    /// <param name="seed">Seeds the shuffling and the examples' augmentation.</param>
    /// <param name="prefetch">Batches prepared ahead on a background thread (0 = none).</param>
    /// <exception cref="ArgumentOutOfRangeException">The batch size is below 1 or prefetch is negative.</exception>
    public DataLoader(IBatchDataset dataset, int batchSize, bool shuffle = false, bool dropLast = false, ulong seed = 0, int prefetch = 2)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), $"DataLoader: batch size must be at least 1, got {batchSize}");
        if (prefetch < 0) throw new ArgumentOutOfRangeException(nameof(prefetch), $"DataLoader: prefetch must be 0 or more batches, got {prefetch}");
        _dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Seed = seed;
        Prefetch = prefetch;
    }

    /// <summary>Creates a loader over in-memory tensors (rows gathered straight into each batch).</summary>
    /// <inheritdoc cref="DataLoader(IBatchDataset, int, bool, bool, ulong, int)"/>
    public DataLoader(TensorDataset dataset, int batchSize, bool shuffle = false, bool dropLast = false, ulong seed = 0, int prefetch = 2)
        : this((IBatchDataset)dataset, batchSize, shuffle, dropLast, seed, prefetch)
    {
    }

    /// <summary>
    /// Creates a loader over a per-example data set of (input, target) tensors, stacked into batches by
    /// <see cref="Collate.Default(ReadOnlySpan{ValueTuple{Tensor, Tensor}})"/>.
    /// </summary>
    /// <inheritdoc cref="DataLoader(IBatchDataset, int, bool, bool, ulong, int)"/>
    public DataLoader(Dataset<(Tensor Input, Tensor Target)> dataset, int batchSize, bool shuffle = false, bool dropLast = false, ulong seed = 0, int prefetch = 2)
        : this(ItemBatches(dataset), batchSize, shuffle, dropLast, seed, prefetch)
    {
    }

    /// <summary>
    /// Creates a loader over a per-example data set of (input, class label) pairs, collated by
    /// <see cref="Collate.Default(ReadOnlySpan{ValueTuple{Tensor, long}})"/> into inputs [n, …] and int64 labels [n].
    /// </summary>
    /// <inheritdoc cref="DataLoader(IBatchDataset, int, bool, bool, ulong, int)"/>
    public DataLoader(Dataset<(Tensor Input, long Target)> dataset, int batchSize, bool shuffle = false, bool dropLast = false, ulong seed = 0, int prefetch = 2)
        : this(new CollatingDataset<(Tensor Input, long Target)>(dataset ?? throw new ArgumentNullException(nameof(dataset)), Collate.Default),
               batchSize, shuffle, dropLast, seed, prefetch)
    {
    }

    /// <summary>Creates a loader over any per-example data set, joining each batch's examples with <paramref name="collate"/>.</summary>
    /// <param name="dataset">The examples.</param>
    /// <param name="collate">Makes a batch's (inputs, targets) from its examples.</param>
    /// <param name="batchSize">Examples per batch (≥ 1).</param>
    /// <param name="shuffle">Visit examples in a seeded random order each epoch.</param>
    /// <param name="dropLast">Skip the final partial batch.</param>
    /// <param name="seed">Seeds the shuffling and the examples' augmentation.</param>
    /// <param name="prefetch">Batches prepared ahead on a background thread (0 = none).</param>
    /// <exception cref="ArgumentOutOfRangeException">The batch size is below 1 or prefetch is negative.</exception>
    public static DataLoader Create<T>(Dataset<T> dataset, CollateFunction<T> collate, int batchSize, bool shuffle = false, bool dropLast = false, ulong seed = 0, int prefetch = 2)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(collate);
        return new DataLoader(new CollatingDataset<T>(dataset, collate), batchSize, shuffle, dropLast, seed, prefetch);
    }

    private static IBatchDataset ItemBatches(Dataset<(Tensor Input, Tensor Target)> dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return dataset.Batches ?? new CollatingDataset<(Tensor Input, Tensor Target)>(dataset, Collate.Default);
    }

    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether the last partial batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>Seeds the shuffling and the examples' augmentation.</summary>
    public ulong Seed { get; }

    /// <summary>Batches prepared ahead.</summary>
    public int Prefetch { get; }

    /// <summary>
    /// The epoch the next pass over the loader (<c>foreach</c>) reads; each pass advances it, and
    /// <see cref="Epoch"/> sets it to the epoch it reads + 1. Setting it (e.g. to resume at epoch e)
    /// also forgets which epochs were read, so they may be read again.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int NextEpoch
    {
        get { lock (_gate) return _nextEpoch; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate)
            {
                _nextEpoch = value;
                _finished.Clear();
            }
        }
    }

    /// <summary>The prefetch thread of the most recently started epoch, or null (tests check that it ends).</summary>
    internal Thread? PrefetchThread { get; private set; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => DropLast ? _dataset.Count / BatchSize : (_dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The example order of epoch <paramref name="epoch"/> (identity when not shuffling).</summary>
    public int[] Order(int epoch)
    {
        if (!Shuffle)
        {
            var order = new int[_dataset.Count];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            return order;
        }
        return RandomOrder.Permutation(_dataset.Count, new Generator(Seed * 0x9E3779B97F4A7C15UL + (ulong)epoch + 1));
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>, in order, from batch <paramref name="startBatch"/> on
    /// (the same batches as those positions of the whole epoch). Starting to read them sets
    /// <see cref="NextEpoch"/> to <paramref name="epoch"/> + 1.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startBatch"/> is outside [0, <see cref="BatchCount"/>] or the epoch is negative.</exception>
    /// <exception cref="InvalidOperationException">
    /// When the batches are read: the loader shuffles and this epoch was already read to the end (its order
    /// would repeat); iterate the loader for a new epoch each pass, or set <see cref="NextEpoch"/> to replay.
    /// </exception>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> Epoch(int epoch, int startBatch = 0)
    {
        if (epoch < 0)
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "DataLoader: the epoch must be 0 or more");
        if ((uint)startBatch > (uint)BatchCount)
            throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"DataLoader: the start batch must be in [0, {BatchCount}]");
        return Batches(epoch, startBatch, claimed: false);
    }

    /// <summary>Reads the next epoch (<see cref="NextEpoch"/>, then advanced): a new order on every pass when shuffling.</summary>
    public IEnumerator<(Tensor Inputs, Tensor Targets)> GetEnumerator()
    {
        int epoch;
        lock (_gate) epoch = _nextEpoch++;
        return Batches(epoch, 0, claimed: true).GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void Begin(int epoch, bool claimed)
    {
        lock (_gate)
        {
            if (Shuffle && _finished.Contains(epoch))
                throw new InvalidOperationException(
                    $"DataLoader: epoch {epoch} was already read to the end, and reading it again would repeat its shuffled order " +
                    "(PyTorch reshuffles on every pass). Iterate the loader itself (foreach (var (x, y) in loader)) for a new order each pass, " +
                    $"or pass each pass its own epoch number (loader.Epoch(epoch)). To replay epoch {epoch} on purpose (resuming from a checkpoint), " +
                    $"set loader.NextEpoch = {epoch} first or use a new DataLoader.");
            if (!claimed) _nextEpoch = epoch + 1;
        }
    }

    private void Finish(int epoch)
    {
        if (!Shuffle || _dataset.Count < 2) return; // one order only: nothing can repeat by accident
        lock (_gate) _finished.Add(epoch);
    }

    private IEnumerable<(Tensor Inputs, Tensor Targets)> Batches(int epoch, int startBatch, bool claimed)
    {
        Begin(epoch, claimed);
        int[] order = Order(epoch);
        int batches = BatchCount;
        IEnumerable<(Tensor, Tensor)> source = Prefetch > 0 && ThreadSupport.Available
            ? Prefetched(order, startBatch, batches, epoch)
            : Inline(order, startBatch, batches, epoch);
        foreach (var batch in source) yield return batch;
        Finish(epoch);
    }

    private IEnumerable<(Tensor, Tensor)> Inline(int[] order, int startBatch, int batches, int epoch)
    {
        for (int b = startBatch; b < batches; b++) yield return MakeBatch(order, b, epoch);
    }

    /// <summary>The batches assembled ahead on a background thread, at most <see cref="Prefetch"/> waiting.</summary>
    [UnsupportedOSPlatform("browser")]
    private IEnumerable<(Tensor, Tensor)> Prefetched(int[] order, int startBatch, int batches, int epoch)
    {
        using var queue = new BlockingCollection<(Tensor, Tensor)>(Prefetch);
        using var cancel = new CancellationTokenSource();
        Exception? failure = null;
        Thread? producer = new Thread(() =>
        {
            try
            {
                for (int b = startBatch; b < batches; b++) queue.Add(MakeBatch(order, b, epoch), cancel.Token);
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        }) { IsBackground = true, Name = "DataLoader prefetch" };
        try
        {
            producer.Start();
        }
        catch (PlatformNotSupportedException) // a platform the browser check does not know: read inline from now on
        {
            ThreadSupport.StartRefused();
            producer = null;
        }
        if (producer is null)
        {
            foreach (var batch in Inline(order, startBatch, batches, epoch)) yield return batch;
            yield break;
        }
        PrefetchThread = producer;
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable())
                yield return batch;
            // The data set's own error, as without prefetch (a broken file is an InvalidDataException either way).
            if (failure is not null) ExceptionDispatchInfo.Throw(failure);
        }
        finally
        {
            cancel.Cancel();
            producer.Join();
        }
    }

    private (Tensor, Tensor) MakeBatch(int[] order, int b, int epoch)
    {
        int start = b * BatchSize;
        int count = Math.Min(BatchSize, order.Length - start);
        long mark = Storage.LastSerial;
        ReadOnlySpan<int> indices = order.AsSpan(start, count);
        (Tensor x, Tensor y) = _dataset is ISeededBatchDataset seeded ? seeded.GetBatch(indices, Seed, epoch) : _dataset.GetBatch(indices);
        BatchOwnership.Offer(x, mark); // made here (outside any scope, e.g. on the prefetch thread): the step's scope may adopt it
        BatchOwnership.Offer(y, mark);
        return (x, y);
    }
}
