using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Mirrors an image left to right with probability <see cref="P"/>, as <c>torchvision.transforms.RandomHorizontalFlip(p)</c>:
/// one uniform draw u, flipped when u &lt; p; otherwise the input itself is returned.
/// </summary>
public sealed class RandomHorizontalFlip : Transform
{
    /// <summary>Flips with probability <paramref name="p"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public RandomHorizontalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "RandomHorizontalFlip: the probability must be in [0, 1]");
        P = p;
    }

    /// <summary>The probability of a flip.</summary>
    public double P { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a [..., H, W] tensor.</exception>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ImageTransforms.CheckImage(input, "RandomHorizontalFlip");
        return generator.NextDouble() < P ? ImageTransforms.HorizontalFlip(input) : input;
    }
}
