using Backprop.IO;

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

    [Fact]
    public void FailedSave_LeavesPreviousCheckpointLoadable()
    {
        string path = Path.Combine(_dir, "keep.ckpt");
        Sample(1).Save(path);
        // A tensor whose storage cannot be read mid-write makes the save throw after the temp file was opened.
        var broken = new Checkpoint([new("w", Tensor.Zeros([2])), new("bad", null!)], []);
        Assert.ThrowsAny<Exception>(() => broken.Save(path));
        Assert.Equal(1f, Checkpoint.Load(path).Get("model.weight").ToArray<float>()[0]);
        Assert.Single(Directory.GetFiles(_dir)); // the temp file was removed
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
