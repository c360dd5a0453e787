using System.IO.Compression;
using Backprop.Data;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

public class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("idx-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Idx(int magicType, int[] dims, byte[] data)
    {
        var bytes = new List<byte> { 0, 0, (byte)magicType, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return [.. bytes];
    }

    private string Write(string name, byte[] content, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        if (!gzip) { File.WriteAllBytes(path, content); return path; }
        using var f = File.Create(path);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(content);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_ParsesHeaderAndData(bool gzip)
    {
        string path = Write("a", Idx(8, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), gzip);
        IdxFile f = IdxReader.Read(path);
        Assert.Equal(2051, f.Magic);
        Assert.Equal([2, 2, 3], f.Dims);
        Assert.Equal(12, f.Data[^1]);
    }

    [Fact]
    public void Read_BadMagic_NamesFile()
    {
        byte[] bytes = Idx(8, [2], [1, 2]);
        bytes[0] = 7;
        string path = Write("bad", bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void Read_Truncated_SaysHowManyBytesAreMissing()
    {
        string path = Write("short", Idx(8, [10], [1, 2, 3]));
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Read_TruncatedGzip_IsReportedAsCorrupt()
    {
        string path = Write("full.gz", Idx(8, [1000], new byte[1000]), gzip: true);
        byte[] all = File.ReadAllBytes(path);
        File.WriteAllBytes(path, all[..(all.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Read_UnsupportedType_IsRefused()
    {
        string path = Write("float", Idx(0x0D, [1], [0, 0, 0, 0]));
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
    }

    [Fact]
    public void Read_MissingFile_NamesPath()
    {
        var e = Assert.Throws<FileNotFoundException>(() => IdxReader.Read(Path.Combine(_dir, "nope")));
        Assert.Contains("nope", e.Message);
    }

    [Fact]
    public void FashionMnist_MissingDirectory_SaysHowToInstall()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => FashionMnist.Load(Path.Combine(_dir, "absent"), train: true));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void FashionMnist_CountMismatch_NamesBothFiles()
    {
        Write("train-images-idx3-ubyte", Idx(8, [2, 28, 28], new byte[2 * 784]));
        Write("train-labels-idx1-ubyte", Idx(8, [3], [0, 1, 2]) is var l ? FixMagic(l, 1) : []);
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_dir, train: true));
        Assert.Contains("2 images", e.Message);
        Assert.Contains("3 labels", e.Message);
    }

    [Fact]
    public void FashionMnist_LoadsAndScales()
    {
        var pixels = new byte[784];
        pixels[1] = 255; pixels[2] = 51; pixels[783] = 102;
        Write("t10k-images-idx3-ubyte", Idx(8, [1, 28, 28], pixels));
        Write("t10k-labels-idx1-ubyte", FixMagic(Idx(8, [1], [7]), 1));
        var (x, y) = FashionMnist.Load(_dir, train: false);
        Assert.Equal(new Shape(1, 784), x.Shape);
        float[] xs = x.ToArray<float>();
        Assert.Equal([0f, 1f, 51 * (1f / 255f), 0f], xs[..4]);
        Assert.Equal(102 * (1f / 255f), xs[783]);
        Assert.Equal([7L], y.ToArray<long>());
    }

    // Label files are 1-D: magic 2049 = 0x00000801.
    private static byte[] FixMagic(byte[] b, int rank)
    {
        b[3] = (byte)rank;
        return b;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_TrailingBytes_AreRefused(bool gzip)
    {
        string path = Write("long", Idx(8, [3], [1, 2, 3, 4, 5]), gzip);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.Contains("2 unexpected bytes", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxStream_ChunkedReads_MatchWholeRead(bool gzip)
    {
        var data = new byte[50_001];
        new Random(3).NextBytes(data);
        string path = Write("big", Idx(8, [50_001], data), gzip);
        using IdxStream s = IdxStream.Open(path);
        Assert.Equal(50_001, s.Count);
        var all = new List<byte>();
        var chunk = new byte[4096];
        int got;
        while ((got = s.Read(chunk)) > 0) all.AddRange(chunk.AsSpan(0, got).ToArray());
        Assert.Equal(data, all.ToArray());
    }

    [Fact]
    public void FashionMnist_GzipOverSeveralChunks_ScalesEveryPixel()
    {
        const int n = 40; // 40·28·28 = 31,360 pixels: more than one 16 KiB read chunk
        var pixels = new byte[n * 28 * 28];
        new Random(5).NextBytes(pixels);
        var labels = new byte[n];
        for (int i = 0; i < n; i++) labels[i] = (byte)(i % 10);
        Write("train-images-idx3-ubyte.gz", Idx(8, [n, 28, 28], pixels), gzip: true);
        Write("train-labels-idx1-ubyte.gz", FixMagic(Idx(8, [n], labels), 1), gzip: true);
        var (x, y) = FashionMnist.Load(_dir, train: true);
        Assert.Equal(new Shape(n, 784), x.Shape);
        float[] xs = x.ToArray<float>();
        for (int i = 0; i < pixels.Length; i++) Assert.Equal(pixels[i] * (1f / 255f), xs[i]);
        Assert.Equal(9L, y.ToArray<long>()[^1]);
    }

    [Fact]
    public void RealFashionMnist_HasExpectedShapes()
    {
        // The CI installs dataset-fashion-mnist; this checks the real files parse.
        var (x, y) = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false);
        Assert.Equal(new Shape(10000, 784), x.Shape);
        Assert.Equal(new Shape(10000), y.Shape);
        Assert.Equal(9L, y.ToArray<long>()[0]); // the first test image is an ankle boot
    }

    [Fact]
    public void RealFashionMnist_AllocatesTheResultOnce()
    {
        // The gzip trailer agrees with the header, so the float buffer is made once at its final size
        // and no growth copies happen: the load costs the result plus the labels plus a constant.
        (Tensor x, Tensor y) = (null!, null!);
        long allocated = Backprop.Tests.Support.Fuzz.Allocated(() => (x, y) = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false));
        long result = 10000L * 784 * 4 + 10000L * 8;
        Assert.Equal(new Shape(10000, 784), x.Shape);
        Assert.True(allocated < result + 10000 + Backprop.Tests.Support.Fuzz.AllocationSlack, $"allocated {allocated} bytes for a {result}-byte result");
    }
}
