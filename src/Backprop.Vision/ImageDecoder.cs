using Backprop.Data.Transforms;
using Backprop.Tensors;
using SkiaSharp;

namespace Backprop.Vision;

/// <summary>
/// Decodes image files (PNG, JPEG, BMP, WebP, GIF's first frame: whatever SkiaSharp decodes) into float32
/// [C, H, W] tensors with values in [0, 1], as torchvision's <c>ToTensor()(Image.open(path).convert(mode))</c>.
/// No colour management and no EXIF rotation are applied (PIL applies neither); JPEG pixels may differ from
/// PIL's by a level or two, as two JPEG decoders may.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Decodes the image file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an image SkiaSharp decodes, or it is truncated or damaged; the message names the file.</exception>
    public static Tensor Decode(string path, ImageMode mode = ImageMode.Rgb)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"image file not found: {path}", path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new InvalidDataException($"{path}: the file could not be read ({e.Message})", e);
        }
        return Decode(bytes, path, mode);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> stands for the file in messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an image SkiaSharp decodes, or they are truncated or damaged.</exception>
    public static Tensor Decode(ReadOnlySpan<byte> encoded, string name, ImageMode mode = ImageMode.Rgb)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (encoded.IsEmpty) throw new InvalidDataException($"{name}: the file is empty, not an image");
        using SKData data = SKData.CreateCopy(encoded);
        using SKCodec? codec = SKCodec.Create(data);
        if (codec is null)
            throw new InvalidDataException($"{name}: not an image in a format SkiaSharp decodes (PNG, JPEG, BMP, WebP, GIF)");
        int width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0 || (long)width * height > Array.MaxLength / 4)
            throw new InvalidDataException($"{name}: an image of {width}×{height} pixels cannot be decoded into one tensor");
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        SKCodecResult result = codec.GetPixels(info, rgba);
        if (result != SKCodecResult.Success)
            throw new InvalidDataException(result == SKCodecResult.IncompleteInput
                ? $"{name}: the image is truncated (SkiaSharp decoded only part of its {width}×{height} pixels)"
                : $"{name}: the {width}×{height} image could not be decoded ({result})");
        return FromRgba(rgba, height, width, mode);
    }

    /// <summary>The size of the image file at <paramref name="path"/> and whether it is stored as grayscale, read from its header (no pixels are decoded).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty, unreadable or not an image SkiaSharp decodes; the message names the file.</exception>
    public static ImageHeader ReadHeader(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"image file not found: {path}", path);
        try
        {
            using FileStream file = File.OpenRead(path);
            if (file.Length == 0) throw new InvalidDataException($"{path}: the file is empty, not an image");
            using SKCodec? codec = SKCodec.Create(file);
            if (codec is null)
                throw new InvalidDataException($"{path}: not an image in a format SkiaSharp decodes (PNG, JPEG, BMP, WebP, GIF)");
            return new ImageHeader(codec.Info.Width, codec.Info.Height, codec.Info.ColorType == SKColorType.Gray8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: the file could not be read ({e.Message})", e);
        }
    }

    /// <summary>Non-premultiplied RGBA bytes [H·W·4] to a tensor in <paramref name="mode"/>.</summary>
    internal static Tensor FromRgba(byte[] rgba, int height, int width, ImageMode mode)
    {
        int pixels = height * width;
        switch (mode)
        {
            case ImageMode.RgbAlpha:
                return ToTensor.FromBytes(rgba, height, width, 4);
            case ImageMode.Rgb:
            {
                var rgb = new byte[pixels * 3];
                for (int p = 0; p < pixels; p++)
                {
                    rgb[3 * p] = rgba[4 * p];
                    rgb[3 * p + 1] = rgba[4 * p + 1];
                    rgb[3 * p + 2] = rgba[4 * p + 2];
                }
                return ToTensor.FromBytes(rgb, height, width, 3);
            }
            case ImageMode.Grayscale:
            {
                var gray = new byte[pixels];
                for (int p = 0; p < pixels; p++) // PIL's L24: fixed-point ITU-R 601-2 luma, rounded
                    gray[p] = (byte)((rgba[4 * p] * 19595 + rgba[4 * p + 1] * 38470 + rgba[4 * p + 2] * 7471 + 0x8000) >> 16);
                return ToTensor.FromBytes(gray, height, width, 1);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "ImageDecoder: unknown image mode");
        }
    }
}
