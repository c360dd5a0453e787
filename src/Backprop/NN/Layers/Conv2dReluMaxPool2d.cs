using Backprop.Ops.Conv;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// MaxPool2d(2)(ReLU(Conv2d(x))): a <see cref="Conv2d"/>, <see cref="Relu"/> and 2×2 <see cref="MaxPool2d"/>
/// as one fused op (<see cref="Functional.Conv2dReluMaxPool2d"/>) with the same values, gradients and
/// parameter names ("weight", "bias"); the convolution output is pooled as it is produced and never
/// stored, so it cannot be hooked. A 3-D input, or one whose convolution output is smaller than 2×2,
/// runs the three ops one after another instead. <see cref="Sequential.Fuse"/> puts it in place of a
/// Conv2d → ReLU → MaxPool2d(2) run.
/// </summary>
public sealed class Conv2dReluMaxPool2d : Module
{
    /// <summary>Creates the layer with <see cref="Layers.Conv2d"/>'s initialisation (the same draws from <paramref name="generator"/>).</summary>
    public Conv2dReluMaxPool2d(int inChannels, int outChannels, IntPair kernelSize, IntPair? stride = null, ConvPadding padding = default, IntPair? dilation = null,
                               int groups = 1, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
        : this(new Conv2d(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, generator, dtype))
    {
    }

    /// <summary>Fuses ReLU and a 2×2 max pool into <paramref name="conv"/>: this module shares its parameter objects.</summary>
    public Conv2dReluMaxPool2d(Conv2d conv)
    {
        ArgumentNullException.ThrowIfNull(conv);
        Conv = conv;
        Weight = RegisterParameter("weight", conv.Weight);
        if (conv.Bias is not null) Bias = RegisterParameter("bias", conv.Bias);
        else RegisterAbsentParameter("bias");
    }

    /// <summary>The convolution (its configuration; its parameters are this module's <see cref="Weight"/> and <see cref="Bias"/>).</summary>
    [field: NotAMember]
    public Conv2d Conv { get; }

    /// <summary>[outChannels, inChannels/groups, kh, kw].</summary>
    public Parameter Weight { get; }

    /// <summary>[outChannels], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Conv2d c = Conv;
        if (c.TrySymmetricZeroPadding(out var padding) && Conv2dReluMaxPool2dNode.Applies(input.Shape, c.KernelSize, c.Stride, padding, c.Dilation))
            return Functional.Conv2dReluMaxPool2d(input, Weight, Bias, c.Stride, padding, c.Dilation, c.Groups);
        // The three ops (the convolution's own forward: its padding mode, "same"), which also report what does not fit.
        return Functional.MaxPool2d(c.Forward(input).Relu(), 2);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"Conv2dReluMaxPool2d({Conv.InChannels} → {Conv.OutChannels}, kernel {Conv.KernelSize}, stride {Conv.Stride}, padding {Conv.Padding}" +
        (Conv.Dilation != 1 ? $", dilation {Conv.Dilation}" : "") + (Conv.Groups != 1 ? $", groups {Conv.Groups}" : "") +
        (Conv.PaddingMode != PaddingMode.Zeros ? $", paddingMode {Conv.PaddingMode}" : "") + ", pool 2)";
}
