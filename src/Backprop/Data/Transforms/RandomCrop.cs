using Backprop.Kernels.Image;
using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Crops a random window of <see cref="Height"/>×<see cref="Width"/> pixels, after optional padding, as
/// <c>torchvision.transforms.RandomCrop(size, padding, pad_if_needed, fill, padding_mode)</c>: the image is
/// padded (left, top, right, bottom), then, with <see cref="PadIfNeeded"/>, padded on both sides of a dim by
/// what the crop lacks; the window's top row is drawn uniformly, then its left column (nothing is drawn for a
/// dim that fits exactly).
/// </summary>
/// <example><c>new RandomCrop(32, padding: 4)</c>: the CIFAR-10 augmentation (pad 4 with zeros, crop 32×32).</example>
public sealed class RandomCrop : Transform
{
    /// <summary>A square crop of <paramref name="size"/> pixels after <paramref name="padding"/> pixels on every side.</summary>
    /// <exception cref="ArgumentException">The size is not positive or the padding is negative.</exception>
    public RandomCrop(int size, int padding = 0, bool padIfNeeded = false, double fill = 0, PaddingMode paddingMode = PaddingMode.Constant)
        : this((size, size), (padding, padding, padding, padding), padIfNeeded, fill, paddingMode)
    {
    }

    /// <summary>A crop of <paramref name="size"/> (height, width) after padding each side as given.</summary>
    /// <exception cref="ArgumentException">A size is not positive, a padding is negative, or the fill is not finite.</exception>
    public RandomCrop((int Height, int Width) size, (int Left, int Top, int Right, int Bottom) padding = default, bool padIfNeeded = false,
        double fill = 0, PaddingMode paddingMode = PaddingMode.Constant)
    {
        if (size.Height < 1 || size.Width < 1)
            throw new ArgumentException($"RandomCrop: the crop size must be positive, got {size.Height}×{size.Width}");
        if (padding.Left < 0 || padding.Top < 0 || padding.Right < 0 || padding.Bottom < 0)
            throw new ArgumentException($"RandomCrop: padding must be 0 or more, got left {padding.Left}, top {padding.Top}, right {padding.Right}, bottom {padding.Bottom}");
        if (!double.IsFinite(fill)) throw new ArgumentException($"RandomCrop: the fill must be finite, got {fill}");
        ImageTransforms.ToBorder(paddingMode);
        (Height, Width) = size;
        Padding = padding;
        PadIfNeeded = padIfNeeded;
        Fill = fill;
        PaddingMode = paddingMode;
    }

    /// <summary>Height of the crop.</summary>
    public int Height { get; }

    /// <summary>Width of the crop.</summary>
    public int Width { get; }

    /// <summary>Padding added before cropping.</summary>
    public (int Left, int Top, int Right, int Bottom) Padding { get; }

    /// <summary>Whether an image smaller than the crop (after padding) is padded to fit instead of refused.</summary>
    public bool PadIfNeeded { get; }

    /// <summary>The value of constant padding.</summary>
    public double Fill { get; }

    /// <summary>What the padding holds.</summary>
    public PaddingMode PaddingMode { get; }

    /// <summary>A random crop of <paramref name="input"/> [..., H, W] → [..., Height, Width].</summary>
    /// <exception cref="ArgumentException">The image (after padding) is smaller than the crop and <see cref="PadIfNeeded"/> is off, or it is not a [..., H, W] tensor.</exception>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        const string op = "RandomCrop";
        Tensor x = ImageTransforms.CheckImage(input, op);
        Border border = ImageTransforms.ToBorder(PaddingMode);
        int h = x.Shape.Dims[^2], w = x.Shape.Dims[^1];
        if (border != Border.Constant && (h == 0 || w == 0))
            throw new ArgumentException($"{op}: {PaddingMode} padding needs a non-empty image, got shape {x.Shape}");
        // Two paddings, as torchvision applies them: the fixed one, then pad_if_needed on the padded image.
        int h1 = h + Padding.Top + Padding.Bottom, w1 = w + Padding.Left + Padding.Right;
        int extraH = PadIfNeeded && h1 < Height ? Height - h1 : 0, extraW = PadIfNeeded && w1 < Width ? Width - w1 : 0;
        int h2 = h1 + 2 * extraH, w2 = w1 + 2 * extraW;
        if (h2 < Height || w2 < Width)
            throw new ArgumentException(
                $"{op}: the crop {Height}×{Width} is larger than the image {h2}×{w2} (shape {x.Shape} with padding {Padding}); pad it (padding, padIfNeeded: true) or crop less");
        int top = h2 == Height ? 0 : (int)generator.NextInt64(h2 - Height + 1);
        int left = w2 == Width ? 0 : (int)generator.NextInt64(w2 - Width + 1);
        var rows = new int[Height];
        var columns = new int[Width];
        for (int k = 0; k < Height; k++) rows[k] = Twice(top + k, extraH, h1, Padding.Top, h, border);
        for (int k = 0; k < Width; k++) columns[k] = Twice(left + k, extraW, w1, Padding.Left, w, border);
        return ImageTransforms.Remap(x, rows, columns, Fill, op);
    }

    /// <summary>Position i of the twice-padded axis → the source index (−1 for the fill).</summary>
    private static int Twice(int i, int before2, int n1, int before1, int n, Border border)
    {
        int j = ImageKernels.BorderIndex(i - before2, n1, border);
        return j < 0 ? -1 : ImageKernels.BorderIndex(j - before1, n, border);
    }
}
