using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Batches of byte windows for a causal language model such as a GPT: every row is a window of
/// <see cref="Context"/> + 1 consecutive bytes, split into inputs (the first <see cref="Context"/>) and
/// targets (the last <see cref="Context"/>, the inputs shifted by one), both int64 [batch, context]
/// holding byte values 0–255. <see cref="Random(ReadOnlyMemory{byte}, int, int, ulong, int?)"/> draws
/// the windows at seeded random positions (training); <see cref="Tiled"/> cuts the text into
/// consecutive non-overlapping windows in order (evaluation: every byte after the first is predicted once).
/// </summary>
/// <remarks>
/// The random windows of epoch e depend only on the seed and e (drawn from a <see cref="Generator"/>
/// seeded with both), so a resumed run, even one resumed in the middle of an epoch, sees exactly the
/// windows of an uninterrupted run. A batch allocates its two tensors and nothing else; the step's
/// <see cref="Memory.TensorScope"/> adopts them.
/// </remarks>
public sealed class TextWindows : IBatchSource
{
    private readonly ReadOnlyMemory<byte> _text;
    private readonly bool _random;
    private readonly int _windows;

    private TextWindows(ReadOnlyMemory<byte> text, int context, int batchSize, bool random, ulong seed, int batchCount, int windows)
    {
        _text = text;
        Context = context;
        BatchSize = batchSize;
        _random = random;
        Seed = seed;
        BatchCount = batchCount;
        _windows = windows;
    }

    /// <summary>
    /// Windows at random positions (any start from 0 to length − context − 1, uniformly), <paramref name="batchSize"/> per batch.
    /// </summary>
    /// <param name="text">The bytes (at least context + 1).</param>
    /// <param name="context">Tokens per row.</param>
    /// <param name="batchSize">Windows per batch.</param>
    /// <param name="seed">Seeds the positions; epoch e uses a generator seeded from it and e.</param>
    /// <param name="batchCount">Batches per epoch; default: as many as make one pass over the text in expectation, ⌈length / (batch·context)⌉.</param>
    /// <exception cref="ArgumentException">The text is shorter than one window, or a count is not positive.</exception>
    public static TextWindows Random(ReadOnlyMemory<byte> text, int context, int batchSize, ulong seed, int? batchCount = null)
    {
        Check(text, context, batchSize);
        long pass = ((long)text.Length + (long)batchSize * context - 1) / ((long)batchSize * context);
        int count = batchCount ?? (int)Math.Min(pass, int.MaxValue);
        if (count < 1)
            throw new ArgumentException($"TextWindows: the batch count must be at least 1, got {count}", nameof(batchCount));
        return new TextWindows(text, context, batchSize, random: true, seed, count, windows: 0);
    }

    /// <summary>
    /// Consecutive windows starting at 0, context, 2·context, … (each overlapping the next by the one byte
    /// that is a target of one and an input of the other), in order, <paramref name="batchSize"/> per batch
    /// (the last batch may be smaller); the bytes after the last whole window are not used.
    /// </summary>
    /// <exception cref="ArgumentException">The text is shorter than one window, or a count is not positive.</exception>
    public static TextWindows Tiled(ReadOnlyMemory<byte> text, int context, int batchSize)
    {
        Check(text, context, batchSize);
        int windows = (text.Length - 1) / context;
        return new TextWindows(text, context, batchSize, random: false, 0, (windows + batchSize - 1) / batchSize, windows);
    }

    private static void Check(ReadOnlyMemory<byte> text, int context, int batchSize)
    {
        if (context < 1) throw new ArgumentOutOfRangeException(nameof(context), context, "TextWindows: the context must be at least 1");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "TextWindows: the batch size must be at least 1");
        if (text.Length < context + 1)
            throw new ArgumentException($"TextWindows: {text.Length} bytes of text are fewer than one window of context + 1 = {context + 1} bytes");
    }

    /// <summary>Tokens per row (the window is one byte longer).</summary>
    public int Context { get; }

    /// <summary>Windows per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The seed of the random positions (0 for tiled windows).</summary>
    public ulong Seed { get; }

    /// <inheritdoc/>
    public int BatchCount { get; }

    /// <summary>Predicted bytes per epoch: batches × rows × context (for tiled windows, the windows' targets).</summary>
    public long TokensPerEpoch => _random ? (long)BatchCount * BatchSize * Context : (long)_windows * Context;

    /// <summary>The generator of epoch <paramref name="epoch"/>'s window starts (random windows), or null for tiled windows.</summary>
    private Generator? Positions(int epoch) => _random ? new Generator(Seed * 0x9E3779B97F4A7C15UL + (ulong)epoch + 1) : null;

    /// <inheritdoc/>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> Epoch(int epoch, int startBatch = 0)
    {
        if ((uint)startBatch > (uint)BatchCount)
            throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"TextWindows: the start batch must be in [0, {BatchCount}]");
        return Batches(epoch, startBatch);
    }

    private IEnumerable<(Tensor Inputs, Tensor Targets)> Batches(int epoch, int startBatch)
    {
        Generator? g = Positions(epoch);
        long starts = _text.Length - Context; // a window starts anywhere in [0, starts)
        if (g is not null)
            for (long skip = (long)startBatch * BatchSize; skip > 0; skip--) g.NextInt64(starts);
        var rowStarts = new int[BatchSize];
        for (int b = startBatch; b < BatchCount; b++)
        {
            int rows = g is not null ? BatchSize : Math.Min(BatchSize, _windows - b * BatchSize);
            for (int r = 0; r < rows; r++)
                rowStarts[r] = g is not null ? (int)g.NextInt64(starts) : (b * BatchSize + r) * Context;
            yield return Make(rowStarts.AsSpan(0, rows));
        }
    }

    private (Tensor Inputs, Tensor Targets) Make(ReadOnlySpan<int> rowStarts)
    {
        long mark = Storage.LastSerial;
        var shape = new Shape(rowStarts.Length, Context);
        Tensor x = Tensor.Uninitialized(shape, DType.Int64), y = Tensor.Uninitialized(shape, DType.Int64);
        Span<long> xs = x.Elements<long>(), ys = y.Elements<long>();
        ReadOnlySpan<byte> text = _text.Span;
        for (int r = 0; r < rowStarts.Length; r++)
        {
            ReadOnlySpan<byte> window = text.Slice(rowStarts[r], Context + 1);
            Span<long> xr = xs.Slice(r * Context, Context), yr = ys.Slice(r * Context, Context);
            for (int i = 0; i < Context; i++)
            {
                xr[i] = window[i];
                yr[i] = window[i + 1];
            }
        }
        BatchOwnership.Offer(x, mark);
        BatchOwnership.Offer(y, mark);
        return (x, y);
    }
}
