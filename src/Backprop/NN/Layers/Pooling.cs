using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// 2-D max pooling over [N, C, H, W] or [C, H, W]. Sizes take an int or an (h, w) pair; the stride
/// defaults to the kernel size; padding counts as −∞.
/// </summary>
public sealed class MaxPool2d(IntPair kernelSize, IntPair? stride = null, IntPair padding = default, IntPair? dilation = null, bool ceilMode = false) : Module
{
    /// <summary>Window (height, width).</summary>
    public IntPair KernelSize { get; } = kernelSize;

    /// <summary>Stride (height, width); the kernel size unless given.</summary>
    public IntPair Stride { get; } = stride ?? kernelSize;

    /// <summary>Padding on each side (height, width).</summary>
    public IntPair Padding { get; } = padding;

    /// <summary>Spacing between window taps (height, width).</summary>
    public IntPair Dilation { get; } = dilation ?? 1;

    /// <summary>Whether the output size is rounded up.</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    /// <summary>
    /// The pooled output and the int64 flat in-plane position (h·W + w) of each maximum: what PyTorch's module returns
    /// with return_indices=True, for <see cref="MaxUnpool2d"/>. Runs no hooks (as <see cref="Module.Forward"/>).
    /// </summary>
    public (Tensor Output, Tensor Indices) ForwardWithIndices(Tensor input)
        => Functional.MaxPool2dWithIndices(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    /// <summary>2×2 window, stride 2, no padding or dilation, floor mode: the pooling that can be fused into a convolution.</summary>
    internal bool IsPlain2x2 => KernelSize == 2 && Stride == 2 && Padding == 0 && Dilation == 1 && !CeilMode;

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"MaxPool2d(kernel {KernelSize}, stride {Stride})";
}

/// <summary>
/// 2-D average pooling over [N, C, H, W] or [C, H, W]. Sizes take an int or an (h, w) pair; the stride
/// defaults to the kernel size; with countIncludePad (the default) the zero padding counts in the divisor.
/// </summary>
public sealed class AvgPool2d(IntPair kernelSize, IntPair? stride = null, IntPair padding = default, bool ceilMode = false, bool countIncludePad = true,
                              int? divisorOverride = null) : Module
{
    /// <summary>When set, every window's sum is divided by it instead of the window size.</summary>
    public int? DivisorOverride { get; } = divisorOverride;

    /// <summary>Window (height, width).</summary>
    public IntPair KernelSize { get; } = kernelSize;

    /// <summary>Stride (height, width); the kernel size unless given.</summary>
    public IntPair Stride { get; } = stride ?? kernelSize;

    /// <summary>Padding on each side (height, width).</summary>
    public IntPair Padding { get; } = padding;

    /// <summary>Whether the output size is rounded up.</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <summary>Whether the zero padding counts in the divisor.</summary>
    public bool CountIncludePad { get; } = countIncludePad;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad, DivisorOverride);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"AvgPool2d(kernel {KernelSize}, stride {Stride})";
}

/// <summary>
/// Adaptive average pooling of [N, C, H, W] or [C, H, W] to a fixed (OH, OW) whatever the input size
/// (PyTorch's window formula); output size 1 is global average pooling. A null entry keeps that input size.
/// </summary>
public sealed class AdaptiveAvgPool2d : Module
{
    /// <summary>Pools to outputSize × outputSize.</summary>
    public AdaptiveAvgPool2d(int outputSize) : this((outputSize, outputSize)) { }

    /// <summary>Pools to (H, W); null keeps the input's size in that dim.</summary>
    /// <exception cref="ArgumentException">An output size is not positive.</exception>
    public AdaptiveAvgPool2d((int? H, int? W) outputSize)
    {
        if (outputSize.H <= 0 || outputSize.W <= 0)
            throw new ArgumentException($"AdaptiveAvgPool2d: output size must be positive, got ({outputSize.H}, {outputSize.W})");
        OutputSize = outputSize;
    }

    /// <summary>The output (height, width); null keeps the input's.</summary>
    public (int? H, int? W) OutputSize { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.AdaptiveAvgPool2d(input, OutputSize);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"AdaptiveAvgPool2d(({OutputSize.H?.ToString() ?? "None"}, {OutputSize.W?.ToString() ?? "None"}))";
}

/// <summary>
/// Adaptive max pooling of [N, C, H, W] or [C, H, W] to a fixed (OH, OW) (windows as <see cref="AdaptiveAvgPool2d"/>);
/// the gradient goes to each window's maximum.
/// </summary>
public sealed class AdaptiveMaxPool2d : Module
{
    /// <summary>Pools to outputSize × outputSize.</summary>
    public AdaptiveMaxPool2d(int outputSize) : this((outputSize, outputSize)) { }

    /// <summary>Pools to (H, W); null keeps the input's size in that dim.</summary>
    /// <exception cref="ArgumentException">An output size is not positive.</exception>
    public AdaptiveMaxPool2d((int? H, int? W) outputSize)
    {
        if (outputSize.H <= 0 || outputSize.W <= 0)
            throw new ArgumentException($"AdaptiveMaxPool2d: output size must be positive, got ({outputSize.H}, {outputSize.W})");
        OutputSize = outputSize;
    }

    /// <summary>The output (height, width); null keeps the input's.</summary>
    public (int? H, int? W) OutputSize { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.AdaptiveMaxPool2d(input, OutputSize);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"AdaptiveMaxPool2d(({OutputSize.H?.ToString() ?? "None"}, {OutputSize.W?.ToString() ?? "None"}))";
}
