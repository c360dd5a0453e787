using Backprop.Kernels.Image;
using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Resizes [..., H, W] images, as <c>torchvision.transforms.Resize</c> on tensors (torchvision ≥ 0.17 defaults:
/// bilinear with antialias). One size matches the smaller edge, keeping the aspect ratio (the other edge is
/// truncated: int(size · long / short)), optionally capped by a largest edge; a (height, width) pair is the exact
/// output size. The generator is not used.
/// </summary>
/// <remarks>
/// Bilinear with antialias gives the numbers of <c>F.interpolate(x, size, mode="bilinear", antialias=True)</c>,
/// which is what torchvision's tensor path calls and PIL's bilinear filter computes; without antialias those of
/// <c>antialias=False</c>. Nearest is PyTorch's "nearest" (input floor(i·n/m)). Difference from torchvision, on
/// purpose: images are float tensors here (<see cref="ToTensor"/> runs first), so the results are not rounded to
/// bytes as PIL's resize of an 8-bit image is (they differ from PIL's by less than 1/255 per pixel); bicubic and
/// the other PIL filters are not offered.
/// </remarks>
public sealed class Resize : Transform
{
    private readonly int _size, _height, _width;
    private readonly int? _maxSize;

    /// <summary>Matches the smaller edge to <paramref name="size"/> (the larger keeps the aspect ratio, at most <paramref name="maxSize"/>).</summary>
    /// <exception cref="ArgumentException">size is below 1, or maxSize is not larger than size.</exception>
    public Resize(int size, Interpolation interpolation = Interpolation.Bilinear, int? maxSize = null, bool antialias = true)
    {
        if (size < 1) throw new ArgumentException($"Resize: the size must be at least 1, got {size}");
        if (maxSize is int max && max <= size)
            throw new ArgumentException($"Resize: maxSize ({max}) must be larger than the size of the smaller edge ({size})");
        _size = size;
        _maxSize = maxSize;
        Interpolation = interpolation;
        Antialias = antialias;
    }

    /// <summary>Resizes to exactly <paramref name="height"/> × <paramref name="width"/> (the aspect ratio may change).</summary>
    /// <exception cref="ArgumentException">A size is below 1.</exception>
    public Resize(int height, int width, Interpolation interpolation = Interpolation.Bilinear, bool antialias = true)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"Resize: the size must be at least 1×1, got {height}×{width}");
        (_height, _width) = (height, width);
        Interpolation = interpolation;
        Antialias = antialias;
    }

    /// <summary>How pixels are read between samples.</summary>
    public Interpolation Interpolation { get; }

    /// <summary>Whether shrinking low-pass filters first (bilinear only; nearest ignores it, as torchvision).</summary>
    public bool Antialias { get; }

    /// <summary>The output size of an image of <paramref name="height"/> × <paramref name="width"/> (torchvision's <c>_compute_resized_output_size</c>).</summary>
    public (int Height, int Width) OutputSize(int height, int width)
    {
        if (_size == 0) return (_height, _width);
        if (height == 0 || width == 0) return (height, width);
        bool wide = width > height;
        int shortEdge = wide ? height : width, longEdge = wide ? width : height;
        int newShort = _size, newLong = (int)((double)_size * longEdge / shortEdge);
        if (_maxSize is int max && newLong > max)
            (newShort, newLong) = ((int)((double)max * newShort / newLong), max);
        return wide ? (newShort, newLong) : (newLong, newShort);
    }

    /// <summary>The resized image (new, contiguous, not recorded by autograd).</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims or is not floating point.</exception>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2) throw new ArgumentException($"Resize: expected an image tensor [..., H, W], got shape {input.Shape}");
        var (h, w) = OutputSize(input.Shape.Dims[^2], input.Shape.Dims[^1]);
        return To(input, h, w, Interpolation, Antialias);
    }

    /// <summary>
    /// <paramref name="image"/> [..., H, W] resized to [..., <paramref name="height"/>, <paramref name="width"/>], as
    /// <c>torchvision.transforms.functional.resize(image, [height, width], interpolation, antialias=antialias)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims or is not floating point, a size is below 1, or the image is empty.</exception>
    public static Tensor To(Tensor image, int height, int width, Interpolation interpolation = Interpolation.Bilinear, bool antialias = true)
    {
        const string op = "Resize";
        Tensor x = ImageTransforms.CheckImage(image, op);
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: expected a floating-point image (float32 or float64), got {x.DType.Name()} {x.Shape}");
        if (height < 1 || width < 1) throw new ArgumentException($"{op}: the output size must be at least 1×1, got {height}×{width}");
        int h = x.Shape.Dims[^2], w = x.Shape.Dims[^1];
        if (h == 0 || w == 0) throw new ArgumentException($"{op}: cannot resize an empty image of shape {x.Shape}");
        ResampleTaps rows = Taps(h, height, interpolation, antialias), columns = Taps(w, width, interpolation, antialias);
        int[] dims = x.Shape.ToArray();
        dims[^2] = height;
        dims[^1] = width;
        Tensor y = Tensor.Uninitialized(new Shape(dims), x.DType);
        int planes = ImageTransforms.Planes(x);
        if (x.DType == DType.Float32)
            ResizeKernels.Resize(x.ReadOnlyElements<float>(), planes, h, w, y.Elements<float>(), rows, columns);
        else
            ResizeKernels.Resize(x.ReadOnlyElements<double>(), planes, h, w, y.Elements<double>(), rows, columns);
        return y;
    }

    private static ResampleTaps Taps(int n, int m, Interpolation interpolation, bool antialias) => interpolation switch
    {
        Interpolation.Nearest => ResampleTaps.Nearest(n, m),
        _ => antialias ? ResampleTaps.Antialiased(n, m) : ResampleTaps.Linear(n, m),
    };
}
