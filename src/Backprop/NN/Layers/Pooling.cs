using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>2-D max pooling over [N, C, H, W] (stride defaults to the kernel size).</summary>
public sealed class MaxPool2d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.MaxPool2d(input, kernelSize, stride, padding, dilation, ceilMode);

    /// <summary>2×2 window, stride 2, no padding or dilation, floor mode: the pooling that can be fused into a convolution.</summary>
    internal bool IsPlain2x2 => kernelSize == 2 && (stride ?? kernelSize) == 2 && padding == 0 && dilation == 1 && !ceilMode;

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"MaxPool2d(kernel {kernelSize}, stride {stride ?? kernelSize})";
}

/// <summary>2-D average pooling over [N, C, H, W] (stride defaults to the kernel size).</summary>
public sealed class AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.AvgPool2d(input, kernelSize, stride, padding, ceilMode, countIncludePad);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"AvgPool2d(kernel {kernelSize}, stride {stride ?? kernelSize})";
}

/// <summary>Flattens dims startDim..endDim (default: all but the batch dim).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Flatten(startDim, endDim);
}
