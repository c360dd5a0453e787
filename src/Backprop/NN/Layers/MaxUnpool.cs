using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// Max unpooling (torch.nn.MaxUnpool2d): puts each input element back at the position a <see cref="MaxPool2d"/>
/// took it from (<see cref="MaxPool2d.ForwardWithIndices"/>), zeros elsewhere. Call <see cref="Forward(Tensor, Tensor, ValueTuple{int, int}?)"/>
/// with the indices; the one-argument <see cref="Forward(Tensor)"/> has none and throws.
/// </summary>
public sealed class MaxUnpool2d(IntPair kernelSize, IntPair? stride = null, IntPair padding = default) : Module
{
    /// <summary>Window (height, width) of the pool being inverted.</summary>
    public IntPair KernelSize { get; } = kernelSize;

    /// <summary>Stride (height, width); the kernel size unless given.</summary>
    public IntPair Stride { get; } = stride ?? kernelSize;

    /// <summary>Padding on each side (height, width).</summary>
    public IntPair Padding { get; } = padding;

    /// <summary>Unpools <paramref name="input"/> with the pool's <paramref name="indices"/>; see <see cref="Functional.MaxUnpool2d"/>.</summary>
    public Tensor Forward(Tensor input, Tensor indices, (int H, int W)? outputSize = null)
        => Functional.MaxUnpool2d(input, indices, KernelSize, Stride, Padding, outputSize);

    /// <summary>Not usable: unpooling needs the indices.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public override Tensor Forward(Tensor input)
        => throw new InvalidOperationException("MaxUnpool2d: needs the indices of the max pool; call Forward(input, indices)");

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"MaxUnpool2d(kernel {KernelSize}, stride {Stride})";
}

/// <summary>1-D max unpooling (torch.nn.MaxUnpool1d), the inverse of <see cref="MaxPool1d.ForwardWithIndices"/>.</summary>
public sealed class MaxUnpool1d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    /// <summary>Window length of the pool being inverted.</summary>
    public int KernelSize { get; } = kernelSize;

    /// <summary>Stride; the kernel size unless given.</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Padding on each side.</summary>
    public int Padding { get; } = padding;

    /// <summary>Unpools <paramref name="input"/> with the pool's <paramref name="indices"/>; see <see cref="Functional.MaxUnpool1d"/>.</summary>
    public Tensor Forward(Tensor input, Tensor indices, int? outputSize = null)
        => Functional.MaxUnpool1d(input, indices, KernelSize, Stride, Padding, outputSize);

    /// <summary>Not usable: unpooling needs the indices.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public override Tensor Forward(Tensor input)
        => throw new InvalidOperationException("MaxUnpool1d: needs the indices of the max pool; call Forward(input, indices)");

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"MaxUnpool1d(kernel {KernelSize}, stride {Stride})";
}
