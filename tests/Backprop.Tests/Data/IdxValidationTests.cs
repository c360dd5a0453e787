using Backprop.Data;
using Backprop.Tests.Support;

namespace Backprop.Tests.Data;

/// <summary>Hostile IDX files: headers that lie, files that are not files, and Fashion-MNIST content checks.</summary>
public class IdxValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("idx-validation").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static byte[] Idx(int[] dims, byte[] data, int type = 8)
    {
        var bytes = new List<byte> { 0, 0, (byte)type, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return [.. bytes];
    }

    private string Write(string name, byte[] content, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, gzip ? Fuzz.Gzip(content) : content);
        return path;
    }

    private static InvalidDataException Refused(string path, out long allocated)
    {
        InvalidDataException? e = null;
        allocated = Fuzz.Allocated(() => e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path)));
        Assert.Contains(path, e!.Message);
        return e;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DimsWhoseProductWrapsToZero_AreRefused_NotReadAsEmpty(bool gzip)
    {
        // 2^21 · 2^21 · 2^22 = 2^64: an unchecked long product wraps to 0 and the file "loads" with no data.
        string path = Write("wrap", Idx([1 << 21, 1 << 21, 1 << 22], []), gzip);
        var e = Refused(path, out long allocated);
        Assert.Contains("dimension 1", e.Message);
        Assert.True(allocated < Fuzz.AllocationSlack, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DimsWhoseProductOverflowsAnArray_AreRefused(bool gzip)
    {
        string path = Write("overflow", Idx([65536, 65536], [1, 2, 3]), gzip);
        var e = Refused(path, out _);
        Assert.Contains("[65536, 65536]", e.Message);
    }

    [Fact]
    public void TwelveByteFileDeclaringTwoGigabytes_IsRefusedWithoutAllocatingThem()
    {
        string path = Write("huge", Idx([0x7FFFFFC7], [1, 2, 3, 4]));
        Assert.Equal(12, new FileInfo(path).Length);
        var e = Refused(path, out long allocated);
        Assert.Contains("truncated", e.Message);
        Assert.True(allocated < Fuzz.AllocationSlack, $"allocated {allocated} bytes");
    }

    [Fact]
    public void GzipDeclaringMoreThanDeflateCanHold_IsRefusedBeforeReading()
    {
        string path = Write("huge.gz", Idx([100_000_000], new byte[100]), gzip: true);
        var e = Refused(path, out long allocated);
        Assert.Contains("more than a", e.Message);
        Assert.True(allocated < Fuzz.AllocationSlack, $"allocated {allocated} bytes");
    }

    [Fact]
    public void GzipWithForgedTrailer_AllocatesOnlyWhatItsSizeAllows()
    {
        // Random bytes do not compress: the file is ~20 KB, so deflate allows the 10 MB declared, and the
        // trailer is forged to agree with the header. Only 20 KB of data exist.
        var data = new byte[20_000];
        new Random(1).NextBytes(data);
        byte[] gz = Fuzz.Gzip(Idx([10_000_000], data));
        uint declared = 4 + 4 + 10_000_000;
        gz[^4] = (byte)declared; gz[^3] = (byte)(declared >> 8); gz[^2] = (byte)(declared >> 16); gz[^1] = (byte)(declared >> 24);
        string path = Write("forged.gz", gz);
        File.WriteAllBytes(path, gz);
        var e = Refused(path, out long allocated);
        Assert.Contains(path, e.Message);
        Assert.True(allocated <= 1032L * gz.Length + Fuzz.AllocationSlack, $"allocated {allocated} bytes");
    }

    [Fact]
    public void GzipHeaderThatOverstatesTheData_GrowsOnlyWithTheBytesThatArrive()
    {
        var data = new byte[30_000];
        new Random(2).NextBytes(data);
        string path = Write("over.gz", Idx([20_000_000], data), gzip: true);
        var e = Refused(path, out long allocated);
        Assert.Contains("truncated", e.Message);
        Assert.True(allocated < 4 * data.Length + Fuzz.AllocationSlack, $"allocated {allocated} bytes");
    }

    [Fact]
    public void GzipBombAfterTheData_StopsCountingTrailingBytes()
    {
        byte[] content = Idx([2], [1, 2]).Concat(new byte[50_000_000]).ToArray();
        string path = Write("bomb.gz", content, gzip: true);
        var e = Refused(path, out _);
        Assert.Contains("at least", e.Message);
        Assert.Contains("unexpected bytes", e.Message);
    }

    [Fact]
    public void ZeroDimension_IsAnEmptyFile_EvenWithHugeOtherDims()
    {
        string path = Write("empty", Idx([int.MaxValue, 0, int.MaxValue], []));
        IdxFile f = IdxReader.Read(path);
        Assert.Empty(f.Data);
    }

    [Fact]
    public void Parse_InMemory_RefusesWrappingDims()
    {
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Parse(Idx([1 << 21, 1 << 21, 1 << 22], []), "mem"));
        Assert.Contains("mem", e.Message);
    }

    [Fact]
    public void Directory_IsRefusedByName()
    {
        string sub = Directory.CreateDirectory(Path.Combine(_dir, "train-images-idx3-ubyte")).FullName;
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(sub));
        Assert.Contains(sub, e.Message);
        Assert.Contains("directory", e.Message);
    }

    [Fact]
    public void Fifo_IsRefusedWithoutBlocking()
    {
        string fifo = Path.Combine(_dir, "pipe");
        Fuzz.MakeFifo(fifo);
        var e = Assert.IsType<InvalidDataException>(Fuzz.ReturnsPromptly(() => IdxReader.Read(fifo)));
        Assert.Contains(fifo, e.Message);
        Assert.Contains("not a regular file", e.Message);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    public void Device_IsRefusedWithoutReading(string device)
    {
        var e = Assert.IsType<InvalidDataException>(Fuzz.ReturnsPromptly(() => IdxReader.Read(device)));
        Assert.Contains(device, e.Message);
    }

    [Fact]
    public void SymlinkToADevice_IsRefused()
    {
        string link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, "/dev/zero");
        var e = Assert.IsType<InvalidDataException>(Fuzz.ReturnsPromptly(() => IdxReader.Read(link)));
        Assert.Contains(link, e.Message);
    }

    [Fact]
    public void EmptyFile_IsRefusedByName()
    {
        string path = Write("empty-file", []);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    private static byte[] Labels(params byte[] labels)
    {
        byte[] b = Idx([labels.Length], labels);
        return b; // magic 0x00000801 = 2049
    }

    [Fact]
    public void FashionMnist_WrongImageSize_NamesBothSizes()
    {
        Write("t10k-images-idx3-ubyte", Idx([2, 10, 10], new byte[200]));
        Write("t10k-labels-idx1-ubyte", Labels(1, 2));
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_dir, train: false));
        Assert.Contains("10×10", e.Message);
        Assert.Contains("28×28", e.Message);
        Assert.Contains("t10k-images", e.Message);
    }

    [Fact]
    public void FashionMnist_NoImages_IsRefused()
    {
        Write("t10k-images-idx3-ubyte", Idx([0, 28, 28], []));
        Write("t10k-labels-idx1-ubyte", Idx([0], []));
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_dir, train: false));
        Assert.Contains("no images", e.Message);
    }

    [Fact]
    public void FashionMnist_LabelOutOfRange_NamesItsPosition()
    {
        Write("t10k-images-idx3-ubyte", Idx([2, 28, 28], new byte[2 * 784]));
        Write("t10k-labels-idx1-ubyte", Labels(3, 10));
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_dir, train: false));
        Assert.Contains("label 10 at position 1", e.Message);
    }

    [Fact]
    public void FashionMnist_LabelFileWithImageMagic_IsRefused()
    {
        Write("t10k-images-idx3-ubyte", Idx([1, 28, 28], new byte[784]));
        Write("t10k-labels-idx1-ubyte", Idx([1, 1], [0]));
        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_dir, train: false));
        Assert.Contains("not a label file", e.Message);
    }

    [Fact]
    public void FashionMnist_ImagesDeclaringMoreThanTheFileHolds_AreRefusedBeforeTheFloatBuffer()
    {
        Write("t10k-images-idx3-ubyte.gz", Idx([1_000_000, 28, 28], new byte[784]), gzip: true);
        Write("t10k-labels-idx1-ubyte", Labels(new byte[1_000_000]));
        InvalidDataException? e = null;
        long allocated = Fuzz.Allocated(() => e = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_dir, train: false)));
        Assert.Contains("t10k-images", e!.Message);
        Assert.True(allocated < 8_000_000 + Fuzz.AllocationSlack, $"allocated {allocated} bytes"); // the labels, not 3 GB of floats
    }
}
