using Backprop.Data;
using Backprop.Data.Transforms;
using Backprop.Tensors;
using Backprop.Vision;
using SkiaSharp;

namespace Backprop.Tests.Data;

/// <summary>ImageFolder and ImageDecoder (Backprop.Vision) on tiny PNG and JPEG files the tests write with SkiaSharp.</summary>
public class ImageFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("imagefolder").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Pixel (x, y) of image <paramref name="seed"/>: (r, g, b, a) bytes that differ per pixel and image.</summary>
    private static (byte R, byte G, byte B, byte A) Pixel(int seed, int x, int y)
        => ((byte)(seed * 40 + x * 7), (byte)(y * 30 + x), (byte)(255 - seed * 20 - y), (byte)(200 + x));

    private static byte[] Encode(int seed, int width, int height, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (r, g, b, a) = Pixel(seed, x, y);
                bitmap.SetPixel(x, y, new SKColor(r, g, b, format == SKEncodedImageFormat.Png ? a : (byte)255));
            }
        using SKData data = bitmap.Encode(format, 95);
        return data.ToArray();
    }

    private string Write(string relative, byte[] bytes)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private void MakeFolder()
    {
        Write("dog/b.png", Encode(2, 3, 2));
        Write("dog/a.PNG", Encode(1, 3, 2));
        Write("dog/sub/c.png", Encode(3, 3, 2));
        Write("cat/z.png", Encode(0, 3, 2));
        Write("cat/notes.txt", "not an image"u8.ToArray());
        Write(".ipynb_checkpoints/x.png", Encode(9, 3, 2));
    }

    [Fact]
    public void Classes_AreSubfolders_AndExamplesTheirImages_InOrder()
    {
        MakeFolder();
        var folder = new ImageFolder(_root);
        Assert.Equal(["cat", "dog"], folder.Classes);
        Assert.Equal(4, folder.Count);
        Assert.Equal(["cat/z.png", "dog/a.PNG", "dog/b.png", "dog/sub/c.png"],
            folder.Samples.Select(s => Path.GetRelativePath(_root, s.Path).Replace('\\', '/')));
        Assert.Equal([0, 1, 1, 1], folder.Samples.Select(s => s.Class));
    }

    [Fact]
    public void AnExample_IsTheDecodedRgbImageOver255_AndItsClass()
    {
        MakeFolder();
        var (image, label) = new ImageFolder(_root).Get(2); // dog/b.png, image 2
        Assert.Equal(new Shape(3, 2, 3), image.Shape);
        Assert.Equal(DType.Int64, label.DType);
        Assert.Equal(Shape.Scalar, label.Shape);
        Assert.Equal(1, label.Item());
        float[] v = image.ToArray<float>();
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
            {
                var (r, g, b, _) = Pixel(2, x, y);
                Assert.Equal(r / 255f, v[0 * 6 + y * 3 + x]);
                Assert.Equal(g / 255f, v[1 * 6 + y * 3 + x]);
                Assert.Equal(b / 255f, v[2 * 6 + y * 3 + x]);
            }
    }

    [Fact]
    public void Modes_GrayscaleIsPilsLuma_AndAlphaIsKept()
    {
        string path = Write("one.png", Encode(1, 3, 2));
        Tensor gray = ImageDecoder.Decode(path, ImageMode.Grayscale);
        Assert.Equal(new Shape(1, 2, 3), gray.Shape);
        var (r, g, b, a) = Pixel(1, 2, 1);
        int luma = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
        Assert.Equal(luma / 255f, gray.ToArray<float>()[1 * 3 + 2]);
        Tensor rgba = ImageDecoder.Decode(path, ImageMode.RgbAlpha);
        Assert.Equal(new Shape(4, 2, 3), rgba.Shape);
        Assert.Equal(a / 255f, rgba.ToArray<float>()[3 * 6 + 1 * 3 + 2]);
        // (200, 100, 50): 124.2 by the floating formula, 124 by PIL's fixed point.
        Assert.Equal(124, (200 * 19595 + 100 * 38470 + 50 * 7471 + 0x8000) >> 16);
    }

    [Fact]
    public void Jpeg_DecodesCloseToWhatWasEncoded()
    {
        // One flat colour: JPEG's loss (and chroma subsampling) leaves it within a few levels.
        using var bitmap = new SKBitmap(new SKImageInfo(16, 8, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(new SKColor(200, 100, 50));
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        string path = Write("photo/a.jpg", data.ToArray());
        Tensor image = ImageDecoder.Decode(path);
        Assert.Equal(new Shape(3, 8, 16), image.Shape);
        float[] v = image.ToArray<float>();
        byte[] expected = [200, 100, 50];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 128; p++)
                Assert.InRange(v[c * 128 + p] * 255, expected[c] - 3, expected[c] + 3);
    }

    [Fact]
    public void DataLoader_BatchesAugmentedImages_RepeatablyForASeed()
    {
        MakeFolder();
        var folder = new ImageFolder(_root, transform: new Compose(new RandomCrop(2, padding: 1), new RandomHorizontalFlip()));
        List<(float[], long[])> Batches() => new DataLoader(folder, 3, shuffle: true, seed: 4).Epoch(1)
            .Select(b => (b.Inputs.ToArray<float>(), b.Targets.ToArray<long>())).ToList();
        var first = Batches();
        Assert.Equal([3, 1], first.Select(b => b.Item2.Length));
        Assert.Equal(3 * 3 * 2 * 2, first[0].Item1.Length); // [3, 3, 2, 2]
        var again = Batches();
        Assert.Equal(first.SelectMany(b => b.Item1), again.SelectMany(b => b.Item1));
        Assert.Equal(first.SelectMany(b => b.Item2), again.SelectMany(b => b.Item2));
    }

    [Fact]
    public void LoadAll_DecodesEveryImageOnce_AndRefusesMixedSizes()
    {
        MakeFolder();
        var (images, labels) = new ImageFolder(_root, ImageMode.Grayscale).LoadAll();
        Assert.Equal(new Shape(4, 1, 2, 3), images.Shape);
        Assert.Equal([0L, 1, 1, 1], labels.ToArray<long>());
        Write("dog/wide.png", Encode(4, 5, 2));
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolder(_root).LoadAll());
        Assert.Contains("wide.png is 5×2 pixels but", e.Message);
        var collate = Assert.Throws<ArgumentException>(() => new DataLoader(new ImageFolder(_root), 5, prefetch: 0).Epoch(0).ToList());
        Assert.Contains("Collate: cannot stack the inputs of a batch", collate.Message);
    }

    [Fact]
    public void BadFolders_AndBadFiles_AreRefusedByName()
    {
        Assert.Throws<DirectoryNotFoundException>(() => new ImageFolder(Path.Combine(_root, "missing")));
        Assert.Contains("holds no class folders", Assert.Throws<InvalidDataException>(() => new ImageFolder(_root)).Message);
        Write("cat/a.png", Encode(0, 2, 2));
        Write("dog/readme.md", "no images here"u8.ToArray());
        var e = Assert.Throws<InvalidDataException>(() => new ImageFolder(_root));
        Assert.Contains("found no image file for the class \"dog\"", e.Message);
        Assert.Contains(".png, .jpg, .jpeg, .bmp, .webp", e.Message);

        string garbage = Write("bad.png", "this is not a png"u8.ToArray());
        Assert.StartsWith($"{garbage}: not an image", Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(garbage)).Message);
        byte[] png = Encode(0, 32, 32);
        string truncated = Write("cut.png", png[..(png.Length / 2)]);
        Assert.StartsWith(truncated, Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(truncated)).Message);
        Assert.Throws<FileNotFoundException>(() => ImageDecoder.Decode(Path.Combine(_root, "none.png")));
    }
}
