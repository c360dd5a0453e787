using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Mirrors an image top to bottom with probability <see cref="P"/>, as <c>torchvision.transforms.RandomVerticalFlip(p)</c>:
/// one uniform draw u, flipped when u &lt; p; otherwise the input itself is returned. Draws as <see cref="RandomHorizontalFlip"/>.
/// </summary>
public sealed class RandomVerticalFlip : Transform
{
    /// <summary>Flips with probability <paramref name="p"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public RandomVerticalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "RandomVerticalFlip: the probability must be in [0, 1]");
        P = p;
    }

    /// <summary>The probability of a flip.</summary>
    public double P { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a [..., H, W] tensor.</exception>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ImageTransforms.CheckImage(input, "RandomVerticalFlip");
        return generator.NextDouble() < P ? ImageTransforms.VerticalFlip(input) : input;
    }
}
