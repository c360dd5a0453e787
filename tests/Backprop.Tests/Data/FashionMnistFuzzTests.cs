using Backprop.Data;
using Backprop.Tensors;
using Backprop.Tests.Support;
using CsCheck;

namespace Backprop.Tests.Data;

/// <summary>
/// Property test over <see cref="FashionMnist.Load"/>: image and label files with sizes, counts,
/// labels and magic numbers drawn near the edges, raw or gzip, some with bits flipped or cut short.
/// Every pair either loads [N, 784] images with labels in [0, 10) or throws InvalidDataException
/// naming one of the files. Runs <see cref="Fuzz.Seconds"/> seconds (BACKPROP_FUZZ_SECONDS).
/// </summary>
public class FashionMnistFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fmnist-fuzz").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Gen<(byte[] Images, byte[] Labels, bool Gzip)> Cases =
        from n in Gen.Int[0, 3]
        from side in Gen.Frequency((4, Gen.Const(28)), (1, Gen.OneOf(0, 1, 27, 29)))
        from labelCount in Gen.Frequency((4, Gen.Const(n)), (1, Gen.Int[0, 4]))
        from labels in Gen.Byte[0, 11].Array[labelCount]
        from pixels in Gen.Byte.Array[n * side * side]
        from imageRank in Gen.Frequency((4, Gen.Const(3)), (1, Gen.Int[1, 4]))
        from gzip in Gen.Bool
        from damage in Gen.Int[0, 3] // 0: none, 1: flip a bit in the images, 2: cut the images, 3: cut the labels
        from at in Gen.Int[0, int.MaxValue]
        select Make(n, side, labels, pixels, imageRank, gzip, damage, at);

    private static (byte[], byte[], bool) Make(int n, int side, byte[] labels, byte[] pixels, int imageRank, bool gzip, int damage, int at)
    {
        int[] dims = imageRank switch { 3 => [n, side, side], 1 => [n * side * side], 2 => [n, side * side], _ => [n, side, side, 1] };
        byte[] images = IdxValidationTests.Idx(dims, pixels);
        byte[] labelFile = IdxValidationTests.Idx([labels.Length], labels);
        if (gzip) { images = Fuzz.Gzip(images); labelFile = Fuzz.Gzip(labelFile); }
        switch (damage)
        {
            case 1: images[at % images.Length] ^= (byte)(1 << (at % 8)); break;
            case 2: images = images[..(at % images.Length)]; break;
            case 3: labelFile = labelFile[..(at % labelFile.Length)]; break;
        }
        return (images, labelFile, gzip);
    }

    [Fact]
    public void Load_EveryPair_LoadsValidTensorsOrIsRefusedNamingAFile()
    {
        Cases.Sample(c =>
        {
            foreach (string f in Directory.GetFiles(_dir)) File.Delete(f);
            string suffix = c.Gzip ? ".gz" : "";
            File.WriteAllBytes(Path.Combine(_dir, "t10k-images-idx3-ubyte" + suffix), c.Images);
            File.WriteAllBytes(Path.Combine(_dir, "t10k-labels-idx1-ubyte" + suffix), c.Labels);
            long holds = c.Gzip ? Fuzz.InflatedLength(c.Images) + Fuzz.InflatedLength(c.Labels) : c.Images.Length + c.Labels.Length;
            (Tensor X, Tensor Y)? loaded = null;
            long allocated = Fuzz.Allocated(() =>
            {
                try { loaded = FashionMnist.Load(_dir, train: false); }
                catch (InvalidDataException e) { Assert.Contains("t10k-", e.Message); }
            });
            if (loaded is var (x, y))
            {
                Assert.Equal(2, x.Rank);
                Assert.Equal(784, x.Shape[1]);
                Assert.True(x.Shape[0] > 0);
                Assert.Equal(new Shape(x.Shape[0]), y.Shape);
                Assert.All(y.ToArray<long>(), l => Assert.InRange(l, 0, 9));
            }
            Assert.True(allocated <= 12 * holds + Fuzz.AllocationSlack, $"allocated {allocated} bytes for files holding {holds}");
        }, time: Fuzz.Seconds, threads: 1, print: c => $"{(c.Gzip ? "gzip " : "")}images {Convert.ToHexString(c.Images)} labels {Convert.ToHexString(c.Labels)}");
    }
}
