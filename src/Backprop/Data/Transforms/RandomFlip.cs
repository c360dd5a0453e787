using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Mirrors an image with probability <see cref="P"/>: one uniform draw u, flipped when u &lt; p; otherwise
/// the input itself is returned. <see cref="RandomHorizontalFlip"/> and <see cref="RandomVerticalFlip"/>
/// differ only in the axis.
/// </summary>
public abstract class RandomFlip : Transform
{
    private readonly string _name;

    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    private protected RandomFlip(double p, string name)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, $"{name}: the probability must be in [0, 1]");
        P = p;
        _name = name;
    }

    /// <summary>The probability of a flip.</summary>
    public double P { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not a [..., H, W] tensor.</exception>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ImageTransforms.CheckImage(input, _name);
        return generator.NextDouble() < P ? Flip(input) : input;
    }

    /// <summary>The flipped image.</summary>
    private protected abstract Tensor Flip(Tensor image);
}

/// <summary>Mirrors an image left to right with probability p, as <c>torchvision.transforms.RandomHorizontalFlip(p)</c> (see <see cref="RandomFlip"/>).</summary>
/// <param name="p">The probability of a flip, in [0, 1].</param>
/// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
public sealed class RandomHorizontalFlip(double p = 0.5) : RandomFlip(p, nameof(RandomHorizontalFlip))
{
    private protected override Tensor Flip(Tensor image) => ImageTransforms.HorizontalFlip(image);
}

/// <summary>Mirrors an image top to bottom with probability p, as <c>torchvision.transforms.RandomVerticalFlip(p)</c> (see <see cref="RandomFlip"/>).</summary>
/// <param name="p">The probability of a flip, in [0, 1].</param>
/// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
public sealed class RandomVerticalFlip(double p = 0.5) : RandomFlip(p, nameof(RandomVerticalFlip))
{
    private protected override Tensor Flip(Tensor image) => ImageTransforms.VerticalFlip(image);
}
