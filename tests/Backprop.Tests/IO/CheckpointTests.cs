using Backprop.IO;
using Backprop.Tensors;

namespace Backprop.Tests.IO;

public class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ckpt-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Checkpoint Sample(float scale = 1)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>
        {
            new("model.weight", Tensor.FromArray(new[] { 1f * scale, 2f, 3f, 4f, 5f, 6f }, [2, 3])),
            new("optimizer.state.0.step", Tensor.Scalar(12, DType.Float64)),
            new("labels", Tensor.FromArray(new long[] { 3, 1, 4 })),
            new("transposed", Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0 }, [2, 2]).T()),
        };
        return new Checkpoint(tensors, new() { ["epoch"] = "3", ["model"] = "mlp" });
    }

    [Fact]
    public void SaveLoad_RoundTripsEveryDTypeAndMetadata()
    {
        string path = Path.Combine(_dir, "a.ckpt");
        Sample().Save(path);
        Checkpoint c = Checkpoint.Load(path);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], c.Get("model.weight").ToArray<float>());
        Assert.Equal(new Shape(2, 3), c.Get("model.weight").Shape);
        Assert.Equal(12.0, c.Get("optimizer.state.0.step").Item());
        Assert.Equal([3L, 1L, 4L], c.Get("labels").ToArray<long>());
        Assert.Equal([1.0, 3.0, 2.0, 4.0], c.Get("transposed").ToArray<double>());
        Assert.Equal("3", c.Metadata["epoch"]);
        Assert.Single(c.WithPrefix("model."));
    }

    [Fact]
    public void Load_TruncatedFile_IsRefusedWithClearMessage()
    {
        string path = Path.Combine(_dir, "t.ckpt");
        Sample().Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 5)]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("corrupted or truncated", e.Message);
    }

    [Fact]
    public void Load_FlippedByte_IsRefused()
    {
        string path = Path.Combine(_dir, "c.ckpt");
        Sample().Save(path);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[40] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        Assert.False(Checkpoint.TryLoad(path, out _, out string? error));
        Assert.Contains("checksum", error);
    }

    [Fact]
    public void Load_NotACheckpoint_IsRefused()
    {
        string path = Path.Combine(_dir, "x.ckpt");
        File.WriteAllText(path, "hello world, not a checkpoint");
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains("not a backprop checkpoint", e.Message);
    }

    private static float FirstWeight(string path) => Checkpoint.Load(path).Get("model.weight").ToArray<float>()[0];

    /// <summary>Runs <paramref name="save"/> with <paramref name="interrupt"/> installed at the known point inside Checkpoint.Save.</summary>
    private static void WithInterrupt(Action<string> interrupt, Action save)
    {
        Checkpoint.InterruptSaveForTests = interrupt;
        try { save(); }
        finally { Checkpoint.InterruptSaveForTests = null; }
    }

    [Fact]
    public void CrashMidSave_KeepsThePreviousCheckpoint_AndRemovesTheTempFile()
    {
        string path = Path.Combine(_dir, "keep.ckpt");
        Sample(1).Save(path);
        string? temp = null;
        WithInterrupt(t => { temp = t; throw new InvalidOperationException("simulated crash"); }, () =>
        {
            var e = Assert.Throws<InvalidOperationException>(() => Sample(2).Save(path));
            Assert.Equal("simulated crash", e.Message);
        });
        Assert.NotNull(temp);
        Assert.False(File.Exists(temp));
        Assert.Equal(1f, FirstWeight(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void DiskFailureMidSave_IsAnIOExceptionNamingThePath_AndKeepsThePreviousCheckpoint()
    {
        string path = Path.Combine(_dir, "disk.ckpt");
        Sample(1).Save(path);
        WithInterrupt(_ => throw new IOException("no space left on device"), () =>
        {
            var e = Assert.Throws<IOException>(() => Sample(2).Save(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("no space left on device", e.Message);
            Assert.Contains("unchanged", e.Message);
        });
        Assert.Equal(1f, FirstWeight(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void KillMidSave_WouldLeaveThePreviousCheckpointLoadable_AndATornTempFileThatIsRefused()
    {
        // What a kill -9 in the middle of a save leaves on disk is the state at the hook: look at it there.
        string path = Path.Combine(_dir, "kill.ckpt");
        Sample(1).Save(path);
        long full = new FileInfo(path).Length;
        string? temp = null;
        long written = 0;
        float previous = float.NaN;
        WithInterrupt(t =>
        {
            temp = t;
            written = new FileInfo(t).Length; // the writer holds the file locked; its size is enough
            previous = FirstWeight(path);
        }, () => Sample(2).Save(path));
        // The paused save then finished, so the torn file a kill leaves is the new file's first `written` bytes.
        byte[] torn = File.ReadAllBytes(path)[..(int)written];

        Assert.Equal(1f, previous); // the final name still held the previous checkpoint, complete
        Assert.InRange(written, 9L, full - 9); // the temp file was partly written
        Assert.Equal(_dir, Path.GetDirectoryName(temp));
        Assert.StartsWith(".", Path.GetFileName(temp)); // hidden, and never matched by *.ckpt
        Assert.False(Path.GetFileName(temp)!.EndsWith(".ckpt", StringComparison.Ordinal));
        string leftover = Path.Combine(_dir, "torn.ckpt");
        File.WriteAllBytes(leftover, torn);
        Assert.False(Checkpoint.TryLoad(leftover, out _, out string? error));
        Assert.Contains("corrupted or truncated", error);
        // The new checkpoint replaced the old one, and no temp file is left.
        Assert.Equal(2f, FirstWeight(path));
        Assert.False(File.Exists(temp));
    }

    [Fact]
    public void Save_IntoUnwritableLocation_NamesPath()
    {
        string path = Path.Combine(_dir, "file-as-dir");
        File.WriteAllText(path, "x");
        var e = Assert.ThrowsAny<IOException>(() => Sample().Save(Path.Combine(path, "a.ckpt")));
        Assert.Contains("file-as-dir", e.Message);
    }
}
