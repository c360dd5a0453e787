using Backprop.Ops.Conv;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// 1-D convolution (cross-correlation, as PyTorch). Input [N, inChannels, L] or [inChannels, L], weight
/// [outChannels, inChannels/groups, kernelSize], output [N, outChannels, L']. Runs on the 2-D
/// convolution's kernels with height 1 (reshaped views, no copies).
/// </summary>
public sealed class Conv1d : Module
{
    /// <summary>
    /// Creates the layer with PyTorch's default initialisation: kaiming_uniform(a = √5) for the weight,
    /// i.e. U(−1/√fan_in, 1/√fan_in) with fan_in = in/groups·k, and the same bound for the bias.
    /// </summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernelSize">Kernel length.</param>
    /// <param name="stride">Stride.</param>
    /// <param name="padding">Padding on each side (an int), or "same"/"valid".</param>
    /// <param name="dilation">Spacing between kernel taps.</param>
    /// <param name="groups">Channel groups.</param>
    /// <param name="bias">Whether to learn a bias.</param>
    /// <param name="generator">Random source for the initialisation.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="paddingMode">What fills the padded border.</param>
    /// <exception cref="ArgumentException">A size is not positive, groups does not divide the channels, padding is a pair, or "same" has a stride other than 1.</exception>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, ConvPadding padding = default, int dilation = 1,
                  int groups = 1, bool bias = true, Generator? generator = null, DType dtype = DType.Float32, PaddingMode paddingMode = PaddingMode.Zeros)
    {
        if (!padding.Size.IsSquare)
            throw new ArgumentException($"Conv1d: padding must be one int, 'same' or 'valid', got {padding}");
        ConvLayerChecks.Check("Conv1d", inChannels, outChannels, kernelSize, stride, padding.Size, dilation, groups);
        if (padding.IsSame && stride != 1)
            throw new ArgumentException($"Conv1d: padding='same' is not supported for strided convolutions, got stride {stride}");
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups, PaddingMode) = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups, paddingMode);
        int fanIn = inChannels / groups * kernelSize;
        double bound = 1 / Math.Sqrt(fanIn);
        Weight = RegisterParameter("weight", Init.Uniform([outChannels, inChannels / groups, kernelSize], -bound, bound, generator, dtype));
        if (bias) Bias = RegisterParameter("bias", Init.Uniform([outChannels], -bound, bound, generator, dtype));
        else RegisterAbsentParameter("bias");
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel length.</summary>
    public int KernelSize { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>Padding on each side, or "same".</summary>
    public ConvPadding Padding { get; }

    /// <summary>Dilation.</summary>
    public int Dilation { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>What fills the padded border (zeros by default).</summary>
    public PaddingMode PaddingMode { get; }

    /// <summary>[outChannels, inChannels/groups, kernelSize].</summary>
    public Parameter Weight { get; }

    /// <summary>[outChannels], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (PaddingMode == PaddingMode.Zeros)
            return Padding.IsSame
                ? Functional.Conv1d(input, Weight, Bias, "same", Stride, Dilation, Groups)
                : Functional.Conv1d(input, Weight, Bias, Stride, Padding.Size.W, Dilation, Groups);
        if (input.Rank is not (2 or 3))
            throw new ArgumentException($"Conv1d: expected a 2-D [C, L] or 3-D [N, C, L] input, got shape {input.Shape}");
        var (left, right) = Padding.IsSame ? SamePadding.Split(KernelSize, Dilation) : (Padding.Size.W, Padding.Size.W);
        Tensor x = BorderPad.Pad(input, input.Rank - 1, left, right, PaddingMode, "Conv1d");
        return Functional.Conv1d(x, Weight, Bias, Stride, 0, Dilation, Groups);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"Conv1d({InChannels} → {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}" +
        (Dilation != 1 ? $", dilation {Dilation}" : "") + (Groups != 1 ? $", groups {Groups}" : "") +
        (PaddingMode != PaddingMode.Zeros ? $", paddingMode {PaddingMode}" : "") + ")";
}
