using System.Text;
using Backprop.Data;
using Backprop.Memory;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

/// <summary>GPT windows (random and tiled) and LSTM streams: shapes, the one-byte shift, determinism, continuity, resuming at a batch, ownership.</summary>
public class TextBatchesTests
{
    private static readonly byte[] Text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 300).Select(i => $"<{i}>")));

    private static long[][] Rows(Tensor t)
    {
        long[] v = t.ToArray<long>();
        int n = t.Shape[0], w = t.Shape[1];
        return [.. Enumerable.Range(0, n).Select(r => v.AsSpan(r * w, w).ToArray())];
    }

    private static int Find(long[] row)
    {
        byte[] needle = [.. row.Select(v => (byte)v)];
        int at = Text.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, "the row is not a substring of the text");
        return at;
    }

    private static List<(long[] X, long[] Y)> Arrays(IEnumerable<(Tensor Inputs, Tensor Targets)> batches)
        => [.. batches.Select(b => (b.Inputs.ToArray<long>(), b.Targets.ToArray<long>()))];

    /// <summary>Every batch as one comparable line: "inputs | targets".</summary>
    private static List<string> All(IEnumerable<(Tensor Inputs, Tensor Targets)> batches)
        => [.. Arrays(batches).Select(b => string.Join(",", b.X) + " | " + string.Join(",", b.Y))];

    [Fact]
    public void RandomWindows_AreTextWindowsShiftedByOne_AndDependOnlyOnSeedAndEpoch()
    {
        var windows = TextWindows.Random(Text, context: 16, batchSize: 4, seed: 7);
        Assert.Equal((Text.Length + 63) / 64, windows.BatchCount);
        foreach (var (x, y) in windows.Epoch(0))
        {
            Assert.Equal(DType.Int64, x.DType);
            Assert.Equal(new Shape(4, 16), x.Shape);
            Assert.Equal(new Shape(4, 16), y.Shape);
            long[][] xr = Rows(x), yr = Rows(y);
            for (int r = 0; r < 4; r++)
            {
                int at = Find(xr[r]);
                Assert.Equal(Text.AsSpan(at + 1, 16).ToArray().Select(b => (long)b), yr[r]);
            }
        }
        Assert.Equal(All(windows.Epoch(1)), All(TextWindows.Random(Text, 16, 4, seed: 7).Epoch(1)));
        Assert.NotEqual(All(windows.Epoch(0)), All(windows.Epoch(1)));
        Assert.NotEqual(All(windows.Epoch(0)), All(TextWindows.Random(Text, 16, 4, seed: 8).Epoch(0)));
    }

    [Fact]
    public void RandomWindows_FromAStartBatch_AreTheRestOfTheEpoch()
    {
        var windows = TextWindows.Random(Text, context: 8, batchSize: 3, seed: 1, batchCount: 10);
        Assert.Equal(All(windows.Epoch(2)).Skip(4), All(windows.Epoch(2, startBatch: 4)));
        Assert.Empty(windows.Epoch(2, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => windows.Epoch(2, 11));
    }

    [Fact]
    public void TiledWindows_CoverTheTextInOrder()
    {
        byte[] text = Encoding.ASCII.GetBytes("abcdefghijklmnopqrstuvw"); // 23 bytes: (23 − 1) / 5 = 4 windows
        var tiled = TextWindows.Tiled(text, context: 5, batchSize: 3);
        Assert.Equal(2, tiled.BatchCount);
        Assert.Equal(20, tiled.TokensPerEpoch);
        var batches = Arrays(tiled.Epoch(0));
        Assert.Equal(15, batches[0].X.Length);
        Assert.Equal(5, batches[1].X.Length); // the last batch holds the one window left
        string inputs = string.Concat(batches.SelectMany(b => b.X).Select(v => (char)v));
        string targets = string.Concat(batches.SelectMany(b => b.Y).Select(v => (char)v));
        Assert.Equal("abcdefghijklmnopqrst", inputs);
        Assert.Equal("bcdefghijklmnopqrstu", targets);
    }

    [Fact]
    public void Windows_RefuseTextShorterThanOneWindow()
    {
        var e = Assert.Throws<ArgumentException>(() => TextWindows.Random(new byte[16], context: 16, batchSize: 2, seed: 0));
        Assert.Contains("16 bytes of text are fewer than one window of context + 1 = 17 bytes", e.Message);
        Assert.Throws<ArgumentException>(() => TextWindows.Tiled(new byte[3], context: 3, batchSize: 1));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(5UL)]
    public void Streams_RowBOfBatchIContinuesRowBOfBatchIMinus1(ulong? seed)
    {
        var streams = new TextStreams(Text, streams: 4, length: 10, seed: seed);
        int segment = Text.Length / 4;
        Assert.Equal((segment - 1) / 10, streams.BatchCount);
        var batches = streams.Epoch(3).Select(b => (X: Rows(b.Inputs), Y: Rows(b.Targets))).ToList();
        Assert.Equal(streams.BatchCount, batches.Count);
        int offset = streams.Offset(3);
        if (seed is null) Assert.Equal(0, offset);
        for (int r = 0; r < 4; r++)
        {
            // The rows of a stream, joined, are the text read from the stream's start (wrapping at the end).
            long[] joined = [.. batches.SelectMany(b => b.X[r])];
            for (int i = 0; i < joined.Length; i++)
                Assert.Equal(Text[(offset + r * segment + i) % Text.Length], joined[i]);
            for (int i = 0; i < batches.Count; i++)
            {
                Assert.Equal(batches[i].X[r].Skip(1), batches[i].Y[r].SkipLast(1));           // targets: the inputs shifted by one
                if (i > 0) Assert.Equal(batches[i - 1].Y[r][^1], batches[i].X[r][0]);          // the next batch starts where this one ended
            }
        }
    }

    [Fact]
    public void Streams_EpochsRotateWithASeed_AndResumeAtABatch()
    {
        var streams = new TextStreams(Text, streams: 3, length: 7, seed: 9);
        Assert.NotEqual(streams.Offset(0), streams.Offset(1));
        Assert.Equal(All(streams.Epoch(1)).Skip(2), All(streams.Epoch(1, 2)));
        Assert.Equal(All(streams.Epoch(1)), All(new TextStreams(Text, 3, 7, seed: 9).Epoch(1)));
        Assert.Equal(4, new TextStreams(Text, 3, 7, seed: 9, batchCount: 4).Epoch(0).Count());
    }

    [Fact]
    public void Streams_RefuseTooLittleText_AndMoreThanAPass()
    {
        var e = Assert.Throws<ArgumentException>(() => new TextStreams(new byte[40], streams: 4, length: 10));
        Assert.Contains("40 bytes of text are too few for 4 streams of 10 + 1 bytes", e.Message);
        int pass = new TextStreams(Text, 4, 10).BatchCount;
        var more = Assert.Throws<ArgumentException>(() => new TextStreams(Text, 4, 10, batchCount: pass + 1));
        Assert.StartsWith($"TextStreams: {pass + 1} batches per epoch is outside [1, {pass}]", more.Message);
    }

    [Fact]
    public void Batches_AreAdoptedByTheStepScope()
    {
        var windows = TextWindows.Random(Text, context: 64, batchSize: 32, seed: 2); // 2,048 elements: pooled
        var streams = new TextStreams(Text, streams: 2, length: 512);
        foreach (IBatchSource source in new IBatchSource[] { windows, streams })
        {
            var (x, y) = source.Epoch(0).First();
            using (TensorScope.Begin(x, y)) { }
            Assert.True(x.Storage.IsRecycled);
            Assert.True(y.Storage.IsRecycled);
        }
    }
}
