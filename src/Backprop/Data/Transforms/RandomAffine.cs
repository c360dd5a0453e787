using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// A random affine transform keeping the image's size, as
/// <c>torchvision.transforms.RandomAffine(degrees, translate, scale, shear, interpolation, fill, center)</c>.
/// Drawn in torchvision's order: the angle uniformly in <see cref="Degrees"/> (clockwise); with
/// <see cref="Translate"/> = (a, b), a horizontal then a vertical shift uniform in ±a·W and ±b·H, rounded to
/// whole pixels (half to even); with <see cref="Scale"/>, the scale; with <see cref="ShearX"/> (and
/// <see cref="ShearY"/>), the shear angles. Then <see cref="ImageTransforms.Affine"/>.
/// </summary>
public sealed class RandomAffine : Transform
{
    /// <summary>Rotation in ±<paramref name="degrees"/>, with the other parts optional.</summary>
    /// <param name="degrees">The largest rotation either way, in degrees (0 for none).</param>
    /// <param name="translate">The largest shift as fractions (of the width, of the height), each in [0, 1]; null for none.</param>
    /// <param name="scale">The range of the scale factor (positive); null for 1.</param>
    /// <param name="shear">A shear parallel to x drawn in ±shear degrees (0 for none).</param>
    /// <param name="interpolation">How pixels are read (torchvision's default: nearest).</param>
    /// <param name="fill">The value outside the transformed image.</param>
    /// <param name="center">The centre of rotation in pixels from the top-left corner; null for the image centre.</param>
    /// <exception cref="ArgumentException">degrees or shear is negative, a translate fraction is outside [0, 1], a scale is not positive, or a value is not finite.</exception>
    public RandomAffine(double degrees, (double X, double Y)? translate = null, (double Min, double Max)? scale = null, double shear = 0,
        Interpolation interpolation = Interpolation.Nearest, double fill = 0, (double X, double Y)? center = null)
        : this(Symmetric(degrees, "RandomAffine", "degrees"), translate, scale, shear == 0 ? null : Symmetric(shear, "RandomAffine", "shear"), null, interpolation, fill, center)
    {
    }

    /// <summary>Rotation in [<paramref name="degrees"/>.Min, .Max], with shears given as ranges (x, then optionally y).</summary>
    /// <exception cref="ArgumentException">A range is reversed, a translate fraction is outside [0, 1], a scale is not positive, or a value is not finite.</exception>
    public RandomAffine((double Min, double Max) degrees, (double X, double Y)? translate = null, (double Min, double Max)? scale = null,
        (double Min, double Max)? shearX = null, (double Min, double Max)? shearY = null,
        Interpolation interpolation = Interpolation.Nearest, double fill = 0, (double X, double Y)? center = null)
    {
        Degrees = CheckRange(degrees, "degrees");
        if (translate is { } t && !(t.X >= 0 && t.X <= 1 && t.Y >= 0 && t.Y <= 1))
            throw new ArgumentException($"RandomAffine: translation values should be between 0 and 1, got ({t.X}, {t.Y})");
        if (scale is { } s && !(CheckRange(s, "scale").Min > 0))
            throw new ArgumentException($"RandomAffine: scale values should be positive, got ({s.Min}, {s.Max})");
        if (shearY is not null && shearX is null)
            throw new ArgumentException("RandomAffine: a y shear needs an x shear range too (use (0, 0) for none)");
        if (!double.IsFinite(fill)) throw new ArgumentException($"RandomAffine: the fill must be finite, got {fill}");
        if (center is { } c && (!double.IsFinite(c.X) || !double.IsFinite(c.Y)))
            throw new ArgumentException($"RandomAffine: the centre ({c.X}, {c.Y}) must be finite");
        Translate = translate;
        Scale = scale;
        ShearX = shearX is { } sx ? CheckRange(sx, "shear") : null;
        ShearY = shearY is { } sy ? CheckRange(sy, "shear") : null;
        Interpolation = interpolation;
        Fill = fill;
        Center = center;
    }

    /// <summary>The range of the rotation angle, degrees clockwise.</summary>
    public (double Min, double Max) Degrees { get; }

    /// <summary>The largest shifts as fractions of the width and the height, or null.</summary>
    public (double X, double Y)? Translate { get; }

    /// <summary>The range of the scale factor, or null (1).</summary>
    public (double Min, double Max)? Scale { get; }

    /// <summary>The range of the shear parallel to x, degrees, or null.</summary>
    public (double Min, double Max)? ShearX { get; }

    /// <summary>The range of the shear parallel to y, degrees, or null.</summary>
    public (double Min, double Max)? ShearY { get; }

    /// <summary>How pixels are read.</summary>
    public Interpolation Interpolation { get; }

    /// <summary>The value outside the transformed image.</summary>
    public double Fill { get; }

    /// <summary>The centre of the transform, or null for the image centre.</summary>
    public (double X, double Y)? Center { get; }

    /// <summary>The parameters one call draws for an image of <paramref name="width"/>×<paramref name="height"/> (torchvision's <c>get_params</c>).</summary>
    public (double Angle, (int X, int Y) Translate, double Scale, (double X, double Y) Shear) DrawParameters(int width, int height, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        double angle = Uniform(Degrees, generator);
        (int, int) shift = (0, 0);
        if (Translate is { } t)
        {
            double maxDx = t.X * width, maxDy = t.Y * height;
            int tx = (int)Math.Round(Uniform((-maxDx, maxDx), generator));
            int ty = (int)Math.Round(Uniform((-maxDy, maxDy), generator));
            shift = (tx, ty);
        }
        double scale = Scale is { } s ? Uniform(s, generator) : 1;
        double shearX = ShearX is { } sx ? Uniform(sx, generator) : 0;
        double shearY = ShearY is { } sy ? Uniform(sy, generator) : 0;
        return (angle, shift, scale, (shearX, shearY));
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a floating-point [..., H, W] tensor.</exception>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        Tensor x = ImageTransforms.CheckImage(input, "RandomAffine");
        var (angle, translate, scale, shear) = DrawParameters(x.Shape.Dims[^1], x.Shape.Dims[^2], generator);
        return ImageTransforms.Affine(x, angle, translate, scale, shear, Interpolation, Fill, Center);
    }

    internal static double Uniform((double Min, double Max) range, Generator g) => range.Min + (range.Max - range.Min) * g.NextDouble();

    internal static (double Min, double Max) Symmetric(double value, string op, string what)
    {
        if (!(value >= 0) || !double.IsFinite(value))
            throw new ArgumentException($"{op}: if {what} is a single number, it must be 0 or positive and finite, got {value}");
        return (-value, value);
    }

    private static (double Min, double Max) CheckRange((double Min, double Max) range, string what)
    {
        if (!double.IsFinite(range.Min) || !double.IsFinite(range.Max) || range.Min > range.Max)
            throw new ArgumentException($"RandomAffine: the {what} range ({range.Min}, {range.Max}) must be finite with min ≤ max");
        return range;
    }
}
