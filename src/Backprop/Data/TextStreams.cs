using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Batches for a recurrent language model trained with truncated backpropagation through time: the
/// text is cut into <see cref="Streams"/> equal, contiguous segments, one per batch row, and batch i
/// holds the next <see cref="Length"/> bytes of every segment, so row b of batch i continues exactly
/// where row b of batch i − 1 stopped and a model can carry its state from one batch to the next
/// (<see cref="Training.IStatefulModel"/>). Inputs and targets are int64 [streams, length] byte values,
/// the targets shifted by one byte.
/// </summary>
/// <remarks>
/// With a seed, epoch e rotates the text by a random offset drawn from a generator seeded with the seed
/// and e (reading past the end continues at the start), so the segment boundaries move from epoch to
/// epoch while the batches of an epoch depend only on the seed and e (a resumed run sees the same
/// batches). Without a seed (evaluation), every epoch starts at byte 0 and reads straight through.
/// </remarks>
/// <example>
/// <code>
/// // 64 streams of 128 steps: row b of batch i + 1 continues row b of batch i.
/// var train = new TextStreams(corpus.Training, streams: 64, length: 128, seed: 1);
/// var validation = new TextStreams(corpus.Validation, streams: 64, length: 128);
/// </code>
/// </example>
public sealed class TextStreams : IBatchSource
{
    private readonly ReadOnlyMemory<byte> _text;
    private readonly int _segment;

    /// <summary>Cuts <paramref name="text"/> into <paramref name="streams"/> segments read <paramref name="length"/> bytes per batch.</summary>
    /// <param name="text">The bytes.</param>
    /// <param name="streams">Batch rows (parallel segments).</param>
    /// <param name="length">Tokens per row per batch (the truncated-BPTT length).</param>
    /// <param name="seed">Seeds the per-epoch rotation; null reads every epoch from byte 0 without rotation.</param>
    /// <param name="batchCount">Batches per epoch, at most (and by default) one pass: ⌊(segment − 1) / length⌋ with segment = ⌊bytes / streams⌋.</param>
    /// <exception cref="ArgumentException">The text is too short for one batch, or the batch count is not positive or more than a pass.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The streams or the length are not positive.</exception>
    public TextStreams(ReadOnlyMemory<byte> text, int streams, int length, ulong? seed = null, int? batchCount = null)
    {
        if (streams < 1) throw new ArgumentOutOfRangeException(nameof(streams), streams, "TextStreams: there must be at least 1 stream");
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "TextStreams: the length must be at least 1");
        _text = text;
        _segment = text.Length / streams;
        int pass = _segment < 1 ? 0 : (_segment - 1) / length;
        if (pass < 1)
            throw new ArgumentException($"TextStreams: {text.Length} bytes of text are too few for {streams} streams of {length} + 1 bytes (at least {(long)streams * (length + 1)} bytes)");
        if (batchCount is int n && (n < 1 || n > pass))
            throw new ArgumentException($"TextStreams: {n} batches per epoch is outside [1, {pass}] (at most one pass over {streams} segments of {_segment} bytes)", nameof(batchCount));
        Streams = streams;
        Length = length;
        Seed = seed;
        BatchCount = batchCount ?? pass;
    }

    /// <summary>Batch rows: the parallel segments.</summary>
    public int Streams { get; }

    /// <summary>Tokens per row per batch.</summary>
    public int Length { get; }

    /// <summary>The seed of the per-epoch rotation, or null for none.</summary>
    public ulong? Seed { get; }

    /// <inheritdoc/>
    public int BatchCount { get; }

    /// <summary>Predicted bytes per epoch: batches × streams × length.</summary>
    public long TokensPerEpoch => (long)BatchCount * Streams * Length;

    /// <summary>Where epoch <paramref name="epoch"/> starts reading (0 without a seed).</summary>
    public int Offset(int epoch)
        => Seed is ulong s ? (int)new Generator(s * 0x9E3779B97F4A7C15UL + (ulong)epoch + 1).NextInt64(_text.Length) : 0;

    /// <inheritdoc/>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> Epoch(int epoch, int startBatch = 0)
    {
        if ((uint)startBatch > (uint)BatchCount)
            throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"TextStreams: the start batch must be in [0, {BatchCount}]");
        return Batches(Offset(epoch), startBatch);
    }

    private IEnumerable<(Tensor Inputs, Tensor Targets)> Batches(int offset, int startBatch)
    {
        for (int b = startBatch; b < BatchCount; b++)
            yield return Make(offset, b);
    }

    private (Tensor Inputs, Tensor Targets) Make(int offset, int batch)
    {
        long mark = Storage.LastSerial;
        var shape = new Shape(Streams, Length);
        Tensor x = Tensor.Uninitialized(shape, DType.Int64), y = Tensor.Uninitialized(shape, DType.Int64);
        Span<long> xs = x.Elements<long>(), ys = y.Elements<long>();
        ReadOnlySpan<byte> text = _text.Span;
        int n = text.Length;
        for (int r = 0; r < Streams; r++)
        {
            // Row r reads segment r from step batch·length on, wrapping past the end of the text.
            long start = ((long)offset + (long)r * _segment + (long)batch * Length) % n;
            Span<long> xr = xs.Slice(r * Length, Length), yr = ys.Slice(r * Length, Length);
            int at = (int)start;
            byte current = text[at];
            for (int i = 0; i < Length; i++)
            {
                at = at + 1 == n ? 0 : at + 1;
                byte next = text[at];
                xr[i] = current;
                yr[i] = next;
                current = next;
            }
        }
        BatchOwnership.Offer(x, mark);
        BatchOwnership.Offer(y, mark);
        return (x, y);
    }
}
