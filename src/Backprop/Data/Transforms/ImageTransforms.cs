using Backprop.Autograd;
using Backprop.Kernels.Image;
using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Deterministic image operations on [..., H, W] tensors, as <c>torchvision.transforms.functional</c>: the
/// random transforms draw their parameters and call these. Every plane gets the same operation; results
/// are new contiguous tensors of the input's dtype, not recorded by autograd.
/// </summary>
public static class ImageTransforms
{
    /// <summary>Pads the last two dims: [..., H, W] → [..., top + H + bottom, left + W + right], as <c>F.pad</c>.</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims, a padding is negative, or the dtype is not float32, float64 or int64.</exception>
    public static Tensor Pad(Tensor image, int left, int top, int right, int bottom, double fill = 0, PaddingMode mode = PaddingMode.Constant)
    {
        const string op = "Pad";
        Tensor x = CheckImage(image, op);
        if (left < 0 || top < 0 || right < 0 || bottom < 0)
            throw new ArgumentException($"{op}: padding must be 0 or more, got left {left}, top {top}, right {right}, bottom {bottom}");
        int h = x.Shape.Dims[^2], w = x.Shape.Dims[^1];
        if (mode != PaddingMode.Constant && (h == 0 || w == 0) && (left | top | right | bottom) != 0)
            throw new ArgumentException($"{op}: {mode} padding needs a non-empty image, got shape {x.Shape}");
        return Remap(x, AxisMap(top, h + top + bottom, h, ToBorder(mode)), AxisMap(left, w + left + right, w, ToBorder(mode)), fill, op);
    }

    /// <summary>
    /// The [..., height, width] window whose top-left pixel is (<paramref name="top"/>, <paramref name="left"/>),
    /// as <c>F.crop</c>: parts of the window outside the image are 0.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims, a size is negative, or the dtype is not float32, float64 or int64.</exception>
    public static Tensor Crop(Tensor image, int top, int left, int height, int width)
    {
        const string op = "Crop";
        Tensor x = CheckImage(image, op);
        if (height < 0 || width < 0)
            throw new ArgumentException($"{op}: the crop size must be 0 or more, got {height}×{width}");
        return Remap(x, AxisMap(-top, height, x.Shape.Dims[^2], Border.Constant), AxisMap(-left, width, x.Shape.Dims[^1], Border.Constant), 0, op);
    }

    /// <summary>Mirrors the image left to right, as <c>F.hflip</c>.</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims or the dtype is not float32, float64 or int64.</exception>
    public static Tensor HorizontalFlip(Tensor image)
    {
        const string op = "HorizontalFlip";
        Tensor x = CheckImage(image, op);
        int h = x.Shape.Dims[^2], w = x.Shape.Dims[^1];
        int planes = Planes(x);
        Tensor y = Tensor.Uninitialized(x.Shape, x.DType);
        switch (x.DType)
        {
            case DType.Float32: ImageKernels.FlipRows(x.ReadOnlyElements<float>(), planes, h, w, y.Elements<float>()); break;
            case DType.Float64: ImageKernels.FlipRows(x.ReadOnlyElements<double>(), planes, h, w, y.Elements<double>()); break;
            case DType.Int64: ImageKernels.FlipRows(x.ReadOnlyElements<long>(), planes, h, w, y.Elements<long>()); break;
            default: throw Unsupported(x, op);
        }
        return y;
    }

    /// <summary>Mirrors the image top to bottom, as <c>F.vflip</c>: whole rows copied in reverse order (any dtype).</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims.</exception>
    public static Tensor VerticalFlip(Tensor image)
    {
        Tensor x = CheckImage(image, "VerticalFlip");
        using (GradMode.Disable())
            return x.Flip(x.Rank - 2);
    }

    /// <summary>
    /// Affine transform keeping the image's size, as <c>F.affine(img, angle, translate, scale, shear, interpolation, fill, center)</c>:
    /// rotation by <paramref name="angle"/> degrees clockwise, translation in pixels, scaling, and shear in degrees
    /// (x, y), about <paramref name="center"/> (pixel coordinates from the top-left corner; default the image centre).
    /// Outside the image is <paramref name="fill"/>, blended at the border as torchvision does when a fill is given
    /// (its random transforms always give one, 0 by default); null, as torchvision's functional default, samples
    /// with zero padding and no blend.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The tensor has fewer than 2 dims or is not floating point, the scale is not positive, or a parameter is not finite.
    /// </exception>
    public static Tensor Affine(Tensor image, double angle, (double X, double Y) translate, double scale, (double X, double Y) shear,
        Interpolation interpolation = Interpolation.Nearest, double? fill = null, (double X, double Y)? center = null)
    {
        const string op = "Affine";
        Tensor x = CheckImage(image, op);
        if (!double.IsFinite(angle) || !double.IsFinite(translate.X) || !double.IsFinite(translate.Y) || !double.IsFinite(shear.X) || !double.IsFinite(shear.Y))
            throw new ArgumentException($"{op}: angle {angle}, translate ({translate.X}, {translate.Y}) and shear ({shear.X}, {shear.Y}) must be finite");
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentException($"{op}: scale must be positive and finite, got {scale}");
        return Resample(x, InverseAffineMatrix(CenterOffset(x, center), angle, translate, scale, shear), interpolation, fill, op);
    }

    /// <summary>
    /// Rotation by <paramref name="angle"/> degrees counter-clockwise keeping the image's size, as
    /// <c>F.rotate(img, angle, interpolation, expand=False, center, fill)</c>; outside the image is <paramref name="fill"/>
    /// (null: zero padding without torchvision's blend, as <see cref="Affine"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims or is not floating point, or the angle is not finite.</exception>
    public static Tensor Rotate(Tensor image, double angle, Interpolation interpolation = Interpolation.Nearest, double? fill = null, (double X, double Y)? center = null)
    {
        const string op = "Rotate";
        Tensor x = CheckImage(image, op);
        if (!double.IsFinite(angle)) throw new ArgumentException($"{op}: the angle must be finite, got {angle}");
        // torchvision's rotate is affine with the opposite angle (rotate turns counter-clockwise, affine clockwise).
        return Resample(x, InverseAffineMatrix(CenterOffset(x, center), -angle, (0, 0), 1, (0, 0)), interpolation, fill, op);
    }

    /// <summary>The centre relative to the image centre, as torchvision: (cx − 0.5·W, cy − 0.5·H), or (0, 0).</summary>
    private static (double X, double Y) CenterOffset(Tensor x, (double X, double Y)? center)
    {
        if (center is not { } c) return (0, 0);
        if (!double.IsFinite(c.X) || !double.IsFinite(c.Y)) throw new ArgumentException($"the centre ({c.X}, {c.Y}) must be finite");
        return (c.X - 0.5 * x.Shape.Dims[^1], c.Y - 0.5 * x.Shape.Dims[^2]);
    }

    /// <summary>
    /// torchvision's <c>_get_inverse_affine_matrix(center, angle, translate, scale, shear)</c>: the map from
    /// output to input coordinates (both centred on the image), as 6 numbers of a 2×3 matrix.
    /// </summary>
    internal static double[] InverseAffineMatrix((double X, double Y) center, double angle, (double X, double Y) translate, double scale, (double X, double Y) shear)
    {
        double rot = angle * Math.PI / 180, sx = shear.X * Math.PI / 180, sy = shear.Y * Math.PI / 180;
        double a = Math.Cos(rot - sy) / Math.Cos(sy);
        double b = -Math.Cos(rot - sy) * Math.Tan(sx) / Math.Cos(sy) - Math.Sin(rot);
        double c = Math.Sin(rot - sy) / Math.Cos(sy);
        double d = -Math.Sin(rot - sy) * Math.Tan(sx) / Math.Cos(sy) + Math.Cos(rot);
        double[] m = [d / scale, -b / scale, 0, -c / scale, a / scale, 0];
        m[2] += m[0] * (-center.X - translate.X) + m[1] * (-center.Y - translate.Y);
        m[5] += m[3] * (-center.X - translate.X) + m[4] * (-center.Y - translate.Y);
        m[2] += center.X;
        m[5] += center.Y;
        return m;
    }

    private static Tensor Resample(Tensor x, double[] matrix, Interpolation interpolation, double? fill, string op)
    {
        if (fill is { } f && !double.IsFinite(f)) throw new ArgumentException($"{op}: the fill must be finite, got {f}");
        bool blend = fill is not null;
        double value = fill ?? 0;
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: expected a floating-point image, got {x.DType.Name()} {x.Shape}");
        int h = x.Shape.Dims[^2], w = x.Shape.Dims[^1];
        int planes = Planes(x);
        bool bilinear = interpolation == Interpolation.Bilinear;
        Tensor y = Tensor.Uninitialized(x.Shape, x.DType);
        if (x.DType == DType.Float32)
            ImageKernels.Affine(x.ReadOnlyElements<float>(), planes, h, w, y.Elements<float>(), matrix, bilinear, (float)value, blend);
        else
            ImageKernels.Affine(x.ReadOnlyElements<double>(), planes, h, w, y.Elements<double>(), matrix, bilinear, value, blend);
        return y;
    }

    /// <summary>A contiguous [..., H, W] tensor (checked), without autograd.</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dims.</exception>
    internal static Tensor CheckImage(Tensor image, string op)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Rank < 2)
            throw new ArgumentException($"{op}: expected an image tensor [..., H, W], got shape {image.Shape}");
        if (image.IsContiguous) return image;
        using (GradMode.Disable())
            return image.Contiguous();
    }

    /// <summary>A contiguous copy of any tensor (itself when already contiguous), without autograd.</summary>
    internal static Tensor CheckImageOrAny(Tensor x)
    {
        if (x.IsContiguous) return x;
        using (GradMode.Disable())
            return x.Contiguous();
    }

    /// <summary>The number of H×W planes of an image tensor (the product of its leading dims).</summary>
    internal static int Planes(Tensor x)
    {
        int planes = 1;
        for (int d = 0; d < x.Rank - 2; d++) planes *= x.Shape[d];
        return planes;
    }

    /// <summary>
    /// For each of <paramref name="length"/> output positions k, the input index of position k − <paramref name="before"/>
    /// of an axis of length <paramref name="n"/> under <paramref name="border"/> (−1 for the fill).
    /// </summary>
    internal static int[] AxisMap(int before, int length, int n, Border border)
    {
        var map = new int[length];
        for (int k = 0; k < length; k++) map[k] = ImageKernels.BorderIndex((long)k - before, n, border);
        return map;
    }

    internal static Border ToBorder(PaddingMode mode) => mode switch
    {
        PaddingMode.Constant => Border.Constant,
        PaddingMode.Edge => Border.Edge,
        PaddingMode.Reflect => Border.Reflect,
        PaddingMode.Symmetric => Border.Symmetric,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown padding mode"),
    };

    /// <summary>dst[..., y, x] = src[..., rows[y], columns[x]] (fill where an index is −1), as a new [..., rows, columns] tensor.</summary>
    internal static Tensor Remap(Tensor x, int[] rows, int[] columns, double fill, string op)
    {
        int h = x.Shape.Dims[^2], w = x.Shape.Dims[^1];
        int planes = Planes(x);
        int[] dims = x.Shape.ToArray();
        dims[^2] = rows.Length;
        dims[^1] = columns.Length;
        Tensor y = Tensor.Uninitialized(new Shape(dims), x.DType);
        switch (x.DType)
        {
            case DType.Float32: ImageKernels.Remap(x.ReadOnlyElements<float>(), planes, h, w, y.Elements<float>(), rows, columns, (float)fill); break;
            case DType.Float64: ImageKernels.Remap(x.ReadOnlyElements<double>(), planes, h, w, y.Elements<double>(), rows, columns, fill); break;
            case DType.Int64: ImageKernels.Remap(x.ReadOnlyElements<long>(), planes, h, w, y.Elements<long>(), rows, columns, (long)fill); break;
            default: throw Unsupported(x, op);
        }
        return y;
    }

    private static ArgumentException Unsupported(Tensor x, string op)
        => new($"{op}: images of dtype {x.DType.Name()} are not supported (float32, float64 or int64), got shape {x.Shape}");
}
