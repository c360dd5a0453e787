using Backprop.IO;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.IO;

/// <summary>
/// Checkpoints whose checksum matches but whose fields lie (the checksum is unkeyed, so anyone can
/// make one), and paths that are not files: every one is refused naming the file and the field,
/// TryLoad returns false, and nothing is allocated beyond what the file's size implies.
/// </summary>
public class CheckpointValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ckpt-validation").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static string Refused(string path)
    {
        bool ok = true;
        string? error = null;
        long allocated = Fuzz.Allocated(() => ok = Checkpoint.TryLoad(path, out _, out error));
        Assert.False(ok);
        Assert.NotNull(error);
        Assert.Contains(path, error);
        Assert.True(allocated < 64 * new FileInfo(path).Length + Fuzz.AllocationSlack, $"allocated {allocated} bytes");
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Equal(error, e.Message);
        return error;
    }

    [Fact]
    public void HandWrittenFileInTheDocumentedLayout_Loads_AndSaveWritesTheSameBytes()
    {
        // The format is unchanged: a file written from the layout in Checkpoint's remarks loads, and
        // saving what it holds reproduces it byte for byte.
        byte[] weights = new byte[8];
        BitConverter.TryWriteBytes(weights.AsSpan(0), 1.5f);
        BitConverter.TryWriteBytes(weights.AsSpan(4), -2f);
        byte[] step = BitConverter.GetBytes(7L);
        byte[] file = new CheckpointBytes()
            .Int(2).Tensor("w", 0, [1, 2], weights).Tensor("step", 2, [], step)
            .Int(1).String("epoch").String("4").Signed();
        string path = Write("old.ckpt", file);
        Checkpoint c = Checkpoint.Load(path);
        Assert.Equal([1.5f, -2f], c.Get("w").ToArray<float>());
        Assert.Equal(new Shape(1, 2), c.Get("w").Shape);
        Assert.Equal([7L], c.Get("step").ToArray<long>());
        Assert.Equal("4", c.Metadata["epoch"]);
        string again = Path.Combine(_dir, "again.ckpt");
        c.Save(again);
        Assert.Equal(file, File.ReadAllBytes(again));
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MaxValue - 8)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void TensorCountNearTwoToThe31_InA30ByteFile_IsRefused(int count)
    {
        byte[] file = new CheckpointBytes().Int(count).Int(0).Raw(new byte[6]).Signed();
        Assert.InRange(file.Length, 16, 40);
        string error = Refused(Write("count.ckpt", file));
        Assert.Contains("tensor count", error);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(-1)]
    public void MetadataCountNearTwoToThe31_IsRefused(int count)
    {
        string error = Refused(Write("meta.ckpt", new CheckpointBytes().Int(0).Int(count).Raw(new byte[10]).Signed()));
        Assert.Contains("metadata count", error);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1 << 30)]
    [InlineData(-1)]
    public void RankNearTwoToThe31_IsRefused(int rank)
    {
        string error = Refused(Write("rank.ckpt", new CheckpointBytes().Int(1).String("w").Raw([0]).Int(rank).Int(0).Signed()));
        Assert.Contains("rank of 'w'", error);
    }

    [Theory]
    [InlineData(new[] { 65536, 65536, 65536 })] // product 2^48: overflows int, fits long
    [InlineData(new[] { 1 << 21, 1 << 21, 1 << 22 })] // product 2^64: wraps a long to 0
    [InlineData(new[] { int.MaxValue, 2 })]
    [InlineData(new[] { 3 })] // needs 12 bytes, 4 are there
    public void DimsNeedingMoreBytesThanTheFileHolds_AreRefused(int[] dims)
    {
        var b = new CheckpointBytes().Int(1).String("w").Raw([0]).Int(dims.Length);
        foreach (int d in dims) b.Int(d);
        string error = Refused(Write("dims.ckpt", b.Raw(new byte[4]).Int(0).Signed()));
        Assert.Contains("'w'", error);
    }

    [Fact]
    public void Fuzz_DimsWhosePartialProductPassesATensorBeforeAZero_AreRefused()
    {
        // Found by CheckpointFuzzTests (seed 0Dos-5LrY-r2): [2, 2^30, 0] has 0 elements, but Shape refuses
        // the partial product 2^31 with an ArgumentException, which escaped TryLoad.
        string error = Refused(Write("zero.ckpt", new CheckpointBytes().Int(1).String("w").Raw([0]).Int(3).Int(2).Int(1 << 30).Int(0).Int(0).Signed()));
        Assert.Contains("more elements than a tensor holds", error);
    }

    [Fact]
    public void NegativeDim_IsRefusedNamingIt()
    {
        string error = Refused(Write("neg.ckpt", new CheckpointBytes().Int(1).String("w").Raw([0]).Int(2).Int(1).Int(-4).Int(0).Signed()));
        Assert.Contains("dimension 1 of 'w' is negative", error);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MaxValue - 3)]
    [InlineData(-1)]
    public void StringLengthNearTwoToThe31_IsRefused(int length)
    {
        string error = Refused(Write("str.ckpt", new CheckpointBytes().Int(1).Int(length).Raw(new byte[12]).Signed()));
        Assert.Contains("the name of tensor 0", error);
    }

    [Fact]
    public void UnknownDType_IsRefusedNamingTheTensor()
    {
        string error = Refused(Write("dtype.ckpt", new CheckpointBytes().Int(1).String("w").Raw([9]).Int(0).Raw(new byte[8]).Int(0).Signed()));
        Assert.Contains("unknown dtype code 9 for 'w'", error);
    }

    [Fact]
    public void Directory_IsRefusedByName()
    {
        string sub = Directory.CreateDirectory(Path.Combine(_dir, "epoch-1.ckpt")).FullName;
        Assert.False(Checkpoint.TryLoad(sub, out _, out string? error));
        Assert.Contains(sub, error);
        Assert.Contains("directory", error);
        Assert.Throws<InvalidDataException>(() => Checkpoint.Load(sub));
    }

    [Fact]
    public void Fifo_IsRefusedWithoutBlocking()
    {
        string fifo = Path.Combine(_dir, "pipe.ckpt");
        Fuzz.MakeFifo(fifo);
        string? error = null;
        bool ok = true;
        Assert.Null(Fuzz.ReturnsPromptly(() => ok = Checkpoint.TryLoad(fifo, out _, out error)));
        Assert.False(ok);
        Assert.Contains(fifo, error);
        Assert.Contains("not a regular file", error);
    }

    [Fact]
    public void DevZero_IsRefusedWithoutReading()
    {
        var e = Fuzz.ReturnsPromptly(() => Checkpoint.Load("/dev/zero"));
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains("/dev/zero", e!.Message);
    }

    [Fact]
    public void MissingFile_IsStillAFileNotFoundException()
    {
        string path = Path.Combine(_dir, "absent.ckpt");
        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(path));
        Assert.False(Checkpoint.TryLoad(path, out _, out string? error));
        Assert.Contains("file not found", error);
    }

    [Fact]
    public void LargeNonCheckpoint_IsRefusedFromItsHeader_WithoutReadingItWhole()
    {
        string path = Write("big.bin", new byte[4_000_000]);
        string? error = null;
        long allocated = Fuzz.Allocated(() => Checkpoint.TryLoad(path, out _, out error));
        Assert.Contains("not a backprop checkpoint", error);
        Assert.True(allocated < Fuzz.AllocationSlack, $"allocated {allocated} bytes");
    }
}
