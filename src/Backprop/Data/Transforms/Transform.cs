using Backprop.Tensors;

namespace Backprop.Data.Transforms;

/// <summary>
/// Turns one tensor into another, as a torchvision transform; images are [..., H, W] tensors (usually
/// [C, H, W]) and every plane of one call gets the same random parameters. Random transforms draw only
/// from the <see cref="Generator"/> they are given, so the same generator state gives the same result;
/// transforms hold no random state and may be shared between threads.
/// </summary>
public abstract class Transform
{
    /// <summary>Transforms <paramref name="input"/>, drawing any random parameters from <paramref name="generator"/>.</summary>
    public abstract Tensor Apply(Tensor input, Generator generator);

    /// <summary>Transforms <paramref name="input"/>, drawing any random parameters from <see cref="Generator.Default"/>.</summary>
    public Tensor Apply(Tensor input) => Apply(input, Generator.Use(null));
}

/// <summary>Applies transforms one after another, as <c>torchvision.transforms.Compose</c>.</summary>
public sealed class Compose : Transform
{
    private readonly Transform[] _transforms;

    /// <summary>Applies <paramref name="transforms"/> in order, all drawing from the one generator.</summary>
    /// <exception cref="ArgumentException">A transform is null.</exception>
    public Compose(params Transform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        for (int i = 0; i < transforms.Length; i++)
            if (transforms[i] is null) throw new ArgumentException($"Compose: transform {i} is null", nameof(transforms));
        _transforms = (Transform[])transforms.Clone();
    }

    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<Transform> Transforms => _transforms;

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input, Generator generator)
    {
        foreach (Transform t in _transforms) input = t.Apply(input, generator);
        return input;
    }
}

/// <summary>A transform given as a function, as <c>torchvision.transforms.Lambda</c>; it may draw from the generator it is passed.</summary>
public sealed class Lambda(Func<Tensor, Generator, Tensor> function) : Transform
{
    private readonly Func<Tensor, Generator, Tensor> _function = function ?? throw new ArgumentNullException(nameof(function));

    /// <summary>A transform that ignores the generator.</summary>
    public Lambda(Func<Tensor, Tensor> function) : this(Wrap(function))
    {
    }

    private static Func<Tensor, Generator, Tensor> Wrap(Func<Tensor, Tensor> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return (x, _) => function(x);
    }

    /// <inheritdoc/>
    public override Tensor Apply(Tensor input, Generator generator) => _function(input, generator);
}

/// <summary>How an affine transform reads between pixels (torchvision's <c>InterpolationMode</c>).</summary>
public enum Interpolation
{
    /// <summary>The nearest pixel (torchvision's default for RandomAffine and RandomRotation).</summary>
    Nearest,
    /// <summary>Bilinear interpolation of the four nearest pixels.</summary>
    Bilinear,
}

/// <summary>What padding puts outside an image (torchvision's <c>padding_mode</c>).</summary>
public enum PaddingMode
{
    /// <summary>A constant fill value.</summary>
    Constant,
    /// <summary>The nearest edge pixel.</summary>
    Edge,
    /// <summary>The image mirrored at its edge, without repeating the edge pixel (dcb|abcd|cba).</summary>
    Reflect,
    /// <summary>The image mirrored at its edge, repeating the edge pixel (cba|abcd|dcb).</summary>
    Symmetric,
}
