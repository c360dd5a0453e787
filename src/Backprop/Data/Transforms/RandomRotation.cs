using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Rotates an image by a random angle keeping its size, as
/// <c>torchvision.transforms.RandomRotation(degrees, interpolation, expand=False, center, fill)</c>: the angle is
/// drawn uniformly in <see cref="Degrees"/> (counter-clockwise), then <see cref="ImageTransforms.Rotate"/>.
/// torchvision's <c>expand=True</c> (growing the image to hold the whole rotation) is not offered.
/// </summary>
public sealed class RandomRotation : Transform
{
    /// <summary>A rotation in ±<paramref name="degrees"/>.</summary>
    /// <exception cref="ArgumentException">degrees is negative or not finite, or the fill or centre is not finite.</exception>
    public RandomRotation(double degrees, Interpolation interpolation = Interpolation.Nearest, double fill = 0, (double X, double Y)? center = null)
        : this(RandomAffine.Symmetric(degrees, "RandomRotation", "degrees"), interpolation, fill, center)
    {
    }

    /// <summary>A rotation in [<paramref name="degrees"/>.Min, .Max].</summary>
    /// <exception cref="ArgumentException">The range is reversed or not finite, or the fill or centre is not finite.</exception>
    public RandomRotation((double Min, double Max) degrees, Interpolation interpolation = Interpolation.Nearest, double fill = 0, (double X, double Y)? center = null)
    {
        if (!double.IsFinite(degrees.Min) || !double.IsFinite(degrees.Max) || degrees.Min > degrees.Max)
            throw new ArgumentException($"RandomRotation: the degrees range ({degrees.Min}, {degrees.Max}) must be finite with min ≤ max");
        if (!double.IsFinite(fill)) throw new ArgumentException($"RandomRotation: the fill must be finite, got {fill}");
        if (center is { } c && (!double.IsFinite(c.X) || !double.IsFinite(c.Y)))
            throw new ArgumentException($"RandomRotation: the centre ({c.X}, {c.Y}) must be finite");
        Degrees = degrees;
        Interpolation = interpolation;
        Fill = fill;
        Center = center;
    }

    /// <summary>The range of the angle, degrees counter-clockwise.</summary>
    public (double Min, double Max) Degrees { get; }

    /// <summary>How pixels are read.</summary>
    public Interpolation Interpolation { get; }

    /// <summary>The value outside the rotated image.</summary>
    public double Fill { get; }

    /// <summary>The centre of rotation in pixels from the top-left corner, or null for the image centre.</summary>
    public (double X, double Y)? Center { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a floating-point [..., H, W] tensor.</exception>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        Tensor x = ImageTransforms.CheckImage(input, "RandomRotation");
        return ImageTransforms.Rotate(x, RandomAffine.Uniform(Degrees, generator), Interpolation, Fill, Center);
    }
}
