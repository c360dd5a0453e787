using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Backprop.IO;
using Backprop.IO.Safetensors;
using Backprop.Tensors;

namespace Backprop.Tests.IO.Safetensors;

/// <summary>Writing and reading safetensors files: round trips, the reference writer's layout, atomic saves, lazy reads.</summary>
public class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetensors").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<KeyValuePair<string, Tensor>> Sample() =>
    [
        new("w", Tensor.FromArray([1.5f, -0f, float.NaN, float.PositiveInfinity, 1e-45f, -3.25f], [2, 3])),
        new("d", Tensor.FromArray([Math.PI, -0.0, double.Epsilon], [3])),
        new("steps", Tensor.FromArray([long.MinValue, 7L, long.MaxValue], [3, 1])),
        new("mask", Tensor.FromArray([true, false, false, true], [2, 2])),
        new("scalar", Tensor.WrapArray([42f], Shape.Scalar)),
        new("empty", Tensor.Zeros([0, 4])),
        new("ünïcode.名前", Tensor.FromArray([1f], [1])),
    ];

    private static void AssertSameBits(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape, actual.Shape);
        switch (expected.DType)
        {
            case DType.Float32: Assert.Equal(expected.ToArray<float>().Select(BitConverter.SingleToUInt32Bits), actual.ToArray<float>().Select(BitConverter.SingleToUInt32Bits)); break;
            case DType.Float64: Assert.Equal(expected.ToArray<double>().Select(BitConverter.DoubleToUInt64Bits), actual.ToArray<double>().Select(BitConverter.DoubleToUInt64Bits)); break;
            case DType.Int64: Assert.Equal(expected.ToArray<long>(), actual.ToArray<long>()); break;
            default: Assert.Equal(expected.ToArray<bool>(), actual.ToArray<bool>()); break;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SaveThenLoad_EveryDType_SameBitsAndMetadata(bool memoryMap)
    {
        string path = Path.Combine(_dir, "all.safetensors");
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["epoch"] = "3", ["note"] = "naïve \"quoted\"\n" };
        SafetensorsWriter.Save(path, Sample(), meta);
        SafetensorsData loaded = SafetensorsFile.Load(path, memoryMap);
        Assert.Equal(Sample().Count, loaded.Tensors.Count);
        foreach (var (name, t) in Sample()) AssertSameBits(t, loaded.Get(name));
        Assert.Equal(meta, loaded.Metadata);
    }

    [Fact]
    public void Save_NonContiguousTensor_WritesRowMajorValues()
    {
        Tensor m = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], [2, 3]);
        string path = Path.Combine(_dir, "t.safetensors");
        SafetensorsWriter.Save(path, [new("mt", m.T())]);
        Assert.Equal(new[] { 1f, 4f, 2f, 5f, 3f, 6f }, SafetensorsFile.Load(path).Get("mt").ToArray<float>());
    }

    [Fact]
    public void Write_FollowsTheReferenceLayout()
    {
        using var stream = new MemoryStream();
        SafetensorsWriter.Write(stream, Sample(), new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        byte[] bytes = stream.ToArray();
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + n) % 8); // the data section starts 8-byte aligned
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.EndsWith("}", header.TrimEnd(' '));
        Assert.StartsWith("{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"},", header);
        using JsonDocument doc = JsonDocument.Parse(header);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).Skip(1).ToList();
        // I64, then F64, then F32 by name (UTF-8 bytes), then BOOL, as safetensors' writer orders them.
        Assert.Equal(["steps", "d", "empty", "scalar", "w", "ünïcode.名前", "mask"], names);
        long expected = 0;
        foreach (string name in names)
        {
            JsonElement e = doc.RootElement.GetProperty(name);
            long begin = e.GetProperty("data_offsets")[0].GetInt64(), end = e.GetProperty("data_offsets")[1].GetInt64();
            Assert.Equal(expected, begin);
            int size = e.GetProperty("dtype").GetString() switch { "I64" or "F64" => 8, "F32" => 4, _ => 1 };
            Assert.Equal(0, begin % size);
            expected = end;
        }
        Assert.Equal(bytes.Length - 8 - (long)n, expected);
    }

    [Fact]
    public void Write_NoTensorsNoMetadata_IsAnEmptyObjectPaddedToEightBytes()
    {
        using var stream = new MemoryStream();
        SafetensorsWriter.Write(stream, []);
        Assert.Equal([8, 0, 0, 0, 0, 0, 0, 0, .. "{}      "u8.ToArray()], stream.ToArray());
    }

    [Fact]
    public void Save_BadNames_ThrowsBeforeWritingAnything()
    {
        string path = Path.Combine(_dir, "bad.safetensors");
        Tensor t = Tensor.Zeros([1]);
        Assert.Contains("'x' appears more than once", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("x", t), new("x", t)])).Message);
        Assert.Contains("__metadata__", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("__metadata__", t)])).Message);
        Assert.Contains("empty name", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("", t)])).Message);
        Assert.Contains("'y' is null", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("y", null!)])).Message);
        Assert.Contains("lone surrogate", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("a\ud800", t)])).Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void Save_FailingBeforeTheRename_LeavesThePreviousFileAndNoTemporary()
    {
        string path = Path.Combine(_dir, "keep.safetensors");
        SafetensorsWriter.Save(path, [new("a", Tensor.FromArray([1f, 2f], [2]))]);
        byte[] before = File.ReadAllBytes(path);
        AtomicFile.BeforeRenameForTests = temp =>
        {
            Assert.True(File.Exists(temp));
            throw new IOException("disk full (simulated)");
        };
        try
        {
            IOException e = Assert.Throws<IOException>(() => SafetensorsWriter.Save(path, [new("b", Tensor.Zeros([1000]))]));
            Assert.Contains(path, e.Message);
            Assert.Contains("unchanged", e.Message);
        }
        finally
        {
            AtomicFile.BeforeRenameForTests = null;
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.EnumerateFiles(_dir));
    }

    [Fact]
    public void Save_RemovesTheStaleTemporaryOfADeadProcess_ButNotOtherFiles()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        string stale = Path.Combine(_dir, ".m.safetensors.999999999.tmp"); // no such process
        File.WriteAllBytes(stale, [16, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'"']);
        string foreign = Path.Combine(_dir, ".m.safetensors.999999998.tmp");
        File.WriteAllBytes(foreign, "not ours at all"u8.ToArray());
        SafetensorsWriter.Save(path, [new("a", Tensor.Zeros([1]))]);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(foreign));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_ReadsOnlyTheTensorsAskedFor(bool memoryMap)
    {
        string path = Path.Combine(_dir, "lazy.safetensors");
        SafetensorsWriter.Save(path, Sample());
        using SafetensorsFile file = SafetensorsFile.Open(path, memoryMap);
        Assert.Equal(memoryMap, file.IsMemoryMapped);
        Assert.Equal(Sample().Count, file.Entries.Count);
        SafetensorsEntry w = file.Entries.Single(e => e.Name == "w");
        Assert.Equal(("F32", 24L), (w.DType, w.ByteLength));
        Assert.Equal([2, 3], w.Shape);
        Assert.True(file.Contains("mask"));
        AssertSameBits(Sample()[0].Value, file.Read("w"));
        Assert.Contains("'nope'", Assert.Throws<KeyNotFoundException>(() => file.Read("nope")).Message);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.Read("w"));
    }

    [Fact]
    public void StateDict_SavedAndLoadedIntoAFreshModel_GivesTheSameOutputs()
    {
        var gen = new Generator(5);
        Backprop.NN.Module Make(Generator g) => new Backprop.NN.Layers.Sequential(
            new Backprop.NN.Layers.Linear(4, 6, generator: g), new Backprop.NN.Layers.BatchNorm1d(6), new Backprop.NN.Layers.Relu(),
            new Backprop.NN.Layers.Linear(6, 2, generator: g));
        var a = Make(gen);
        var b = Make(new Generator(6));
        Tensor x = Tensor.Randn([3, 4], generator: gen);
        a.Call(x); // one training step's batch statistics move the running buffers
        string path = Path.Combine(_dir, "model.safetensors");
        SafetensorsWriter.Save(path, a.StateDict(), new Dictionary<string, string> { ["format"] = "pt" });
        b.LoadStateDict(SafetensorsFile.Load(path).Tensors);
        a.Eval();
        b.Eval();
        Assert.Equal(a.Call(x).ToArray<float>(), b.Call(x).ToArray<float>());
    }
}
