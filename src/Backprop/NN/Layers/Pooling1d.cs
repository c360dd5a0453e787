using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// 1-D max pooling over [N, C, L] or [C, L] (torch.nn.MaxPool1d): the stride defaults to the kernel size;
/// padding counts as −∞. <see cref="ForwardWithIndices"/> also returns the argmax positions (return_indices=True).
/// </summary>
public sealed class MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) : Module
{
    /// <summary>Window length.</summary>
    public int KernelSize { get; } = kernelSize;

    /// <summary>Stride; the kernel size unless given.</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Padding on each side.</summary>
    public int Padding { get; } = padding;

    /// <summary>Spacing between window taps.</summary>
    public int Dilation { get; } = dilation;

    /// <summary>Whether the output length is rounded up.</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.MaxPool1d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    /// <summary>The pooled output and the int64 position along L of each maximum, for <see cref="MaxUnpool1d"/>. Runs no hooks.</summary>
    public (Tensor Output, Tensor Indices) ForwardWithIndices(Tensor input)
        => Functional.MaxPool1dWithIndices(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"MaxPool1d(kernel {KernelSize}, stride {Stride})";
}

/// <summary>
/// 1-D average pooling over [N, C, L] or [C, L] (torch.nn.AvgPool1d): the stride defaults to the kernel size;
/// with countIncludePad (the default) the zero padding counts in the divisor.
/// </summary>
public sealed class AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module
{
    /// <summary>Window length.</summary>
    public int KernelSize { get; } = kernelSize;

    /// <summary>Stride; the kernel size unless given.</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Padding on each side.</summary>
    public int Padding { get; } = padding;

    /// <summary>Whether the output length is rounded up.</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <summary>Whether the zero padding counts in the divisor.</summary>
    public bool CountIncludePad { get; } = countIncludePad;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.AvgPool1d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"AvgPool1d(kernel {KernelSize}, stride {Stride})";
}
