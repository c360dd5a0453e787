using Backprop.Kernels.Image;
using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Decoded pixel bytes to a float image tensor, as <c>torchvision.transforms.ToTensor</c>: interleaved
/// rows of height × width × channels bytes become float32 [channels, height, width] with values byte / 255.
/// </summary>
public static class ToTensor
{
    /// <summary>Interleaved pixels (row by row, the channels of a pixel together) → float32 [channels, height, width] in [0, 1].</summary>
    /// <exception cref="ArgumentException">A size is negative, channels is below 1, or the byte count is not height × width × channels.</exception>
    public static Tensor FromBytes(ReadOnlySpan<byte> pixels, int height, int width, int channels)
    {
        if (height < 0 || width < 0 || channels < 1)
            throw new ArgumentException($"ToTensor: an image needs sizes of 0 or more and at least one channel, got {height}×{width}×{channels}");
        long expected = (long)height * width * channels;
        if (pixels.Length != expected)
            throw new ArgumentException($"ToTensor: a {height}×{width} image of {channels} channels has {expected} bytes, got {pixels.Length}");
        Tensor image = Tensor.Uninitialized(new Shape(channels, height, width), DType.Float32);
        ImageKernels.BytesToPlanes(pixels, height * width, channels, image.Elements<float>());
        return image;
    }
}
