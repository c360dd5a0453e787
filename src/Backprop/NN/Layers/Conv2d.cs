using Backprop.Ops.Conv;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// 2-D convolution (cross-correlation, as PyTorch). Input [N, inChannels, H, W] or [inChannels, H, W], weight
/// [outChannels, inChannels/groups, kernelH, kernelW], output [N, outChannels, H', W'].
/// Kernel size, stride, padding and dilation take an int (both dims) or an (h, w) pair, as PyTorch's
/// <c>_pair</c>; padding also takes "same" or "valid", and <see cref="PaddingMode"/> picks what fills the border.
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>
    /// Creates the layer with PyTorch's default initialisation: kaiming_uniform(a = √5) for the weight,
    /// which is U(−1/√fan_in, 1/√fan_in) with fan_in = in/groups·kh·kw, and the same bound for the bias.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive, groups does not divide the channels, or padding "same" has a stride other than 1.</exception>
    public Conv2d(int inChannels, int outChannels, IntPair kernelSize, IntPair? stride = null, ConvPadding padding = default, IntPair? dilation = null,
                  int groups = 1, bool bias = true, Generator? generator = null, DType dtype = DType.Float32, PaddingMode paddingMode = PaddingMode.Zeros)
    {
        IntPair s = stride ?? 1, d = dilation ?? 1;
        ConvLayerChecks.Check("Conv2d", inChannels, outChannels, kernelSize, s, padding.Size, d, groups);
        if (padding.IsSame) SamePadding.CheckStride("Conv2d", s.H, s.W);
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups, PaddingMode) = (inChannels, outChannels, kernelSize, s, padding, d, groups, paddingMode);
        int fanIn = inChannels / groups * kernelSize.H * kernelSize.W;
        double bound = 1 / Math.Sqrt(fanIn);
        Weight = RegisterParameter("weight", Init.Uniform([outChannels, inChannels / groups, kernelSize.H, kernelSize.W], -bound, bound, generator, dtype));
        if (bias) Bias = RegisterParameter("bias", Init.Uniform([outChannels], -bound, bound, generator, dtype));
        else RegisterAbsentParameter("bias");
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel (height, width).</summary>
    public IntPair KernelSize { get; }

    /// <summary>Stride (height, width).</summary>
    public IntPair Stride { get; }

    /// <summary>Padding on each side (height, width), or "same".</summary>
    public ConvPadding Padding { get; }

    /// <summary>Dilation (height, width).</summary>
    public IntPair Dilation { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>What fills the padded border (zeros by default).</summary>
    public PaddingMode PaddingMode { get; }

    /// <summary>[outChannels, inChannels/groups, kh, kw].</summary>
    public Parameter Weight { get; }

    /// <summary>[outChannels], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (PaddingMode == PaddingMode.Zeros)
            return Padding.IsSame
                ? Functional.Conv2d(input, Weight, Bias, "same", Stride, Dilation, Groups)
                : Functional.Conv2d(input, Weight, Bias, Stride, Padding.Size, Dilation, Groups);
        if (input.Rank is not (3 or 4))
            throw new ArgumentException($"Conv2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {input.Shape}");
        var (top, bottom, left, right) = SidePadding();
        Tensor x = BorderPad.Pad(input, input.Rank - 2, top, bottom, PaddingMode, "Conv2d");
        x = BorderPad.Pad(x, input.Rank - 1, left, right, PaddingMode, "Conv2d");
        return Functional.Conv2d(x, Weight, Bias, Stride, (0, 0), Dilation, Groups);
    }

    /// <summary>The padding of each side: "same" splits dilation·(k − 1) with the odd element at the bottom and right.</summary>
    private (int Top, int Bottom, int Left, int Right) SidePadding()
    {
        if (!Padding.IsSame) return (Padding.Size.H, Padding.Size.H, Padding.Size.W, Padding.Size.W);
        var (top, bottom) = SamePadding.Split(KernelSize.H, Dilation.H);
        var (left, right) = SamePadding.Split(KernelSize.W, Dilation.W);
        return (top, bottom, left, right);
    }

    /// <summary>Zero padding equal on both sides of each dim (what the fused Conv2d → ReLU → MaxPool2d op supports), if that is this layer's padding.</summary>
    internal bool TrySymmetricZeroPadding(out (int H, int W) padding)
    {
        var (top, bottom, left, right) = SidePadding();
        padding = (top, left);
        return PaddingMode == PaddingMode.Zeros && top == bottom && left == right;
    }

    /// <summary>The output (height, width) for an input of (h, w).</summary>
    internal (int H, int W) OutputSize(int h, int w)
    {
        var (top, bottom, left, right) = SidePadding();
        return ((h + top + bottom - Dilation.H * (KernelSize.H - 1) - 1) / Stride.H + 1,
                (w + left + right - Dilation.W * (KernelSize.W - 1) - 1) / Stride.W + 1);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"Conv2d({InChannels} → {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}" +
        (Dilation != 1 ? $", dilation {Dilation}" : "") + (Groups != 1 ? $", groups {Groups}" : "") +
        (PaddingMode != PaddingMode.Zeros ? $", paddingMode {PaddingMode}" : "") + ")";
}
