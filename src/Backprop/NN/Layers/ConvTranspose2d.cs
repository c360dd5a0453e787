using Backprop.Ops.Conv;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// 2-D transposed convolution (the gradient of <see cref="Conv2d"/> with respect to its input, often used to
/// upsample). Input [N, inChannels, H, W] or [inChannels, H, W], weight [inChannels, outChannels/groups, kh, kw]
/// (PyTorch's layout), output [N, outChannels, OH, OW] with OH = (H − 1)·stride − 2·padding +
/// dilation·(kh − 1) + outputPadding + 1. Sizes take an int or an (h, w) pair.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>
    /// Creates the layer with PyTorch's default initialisation: kaiming_uniform(a = √5), i.e.
    /// U(−1/√fan_in, 1/√fan_in) with fan_in computed from the weight as PyTorch does, weight.Size(1)·kh·kw =
    /// out/groups·kh·kw, and the same bound for the bias.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive, groups does not divide the channels, or outputPadding is not below the stride or the dilation.</exception>
    public ConvTranspose2d(int inChannels, int outChannels, IntPair kernelSize, IntPair? stride = null, IntPair padding = default, IntPair outputPadding = default,
                           int groups = 1, bool bias = true, IntPair? dilation = null, Generator? generator = null, DType dtype = DType.Float32)
    {
        IntPair s = stride ?? 1, d = dilation ?? 1;
        ConvLayerChecks.Check("ConvTranspose2d", inChannels, outChannels, kernelSize, s, padding, d, groups);
        if (outputPadding.H < 0 || outputPadding.W < 0 || outputPadding.H >= s.H && outputPadding.H >= d.H || outputPadding.W >= s.W && outputPadding.W >= d.W)
            throw new ArgumentException($"ConvTranspose2d: outputPadding must be non-negative and smaller than either stride or dilation, got outputPadding {outputPadding}, stride {s}, dilation {d}");
        (InChannels, OutChannels, KernelSize, Stride, Padding, OutputPadding, Groups, Dilation) = (inChannels, outChannels, kernelSize, s, padding, outputPadding, groups, d);
        int fanIn = outChannels / groups * kernelSize.H * kernelSize.W;
        double bound = 1 / Math.Sqrt(fanIn);
        Weight = RegisterParameter("weight", Init.Uniform([inChannels, outChannels / groups, kernelSize.H, kernelSize.W], -bound, bound, generator, dtype));
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

    /// <summary>Padding removed from each side of the output (height, width).</summary>
    public IntPair Padding { get; }

    /// <summary>Rows and columns added at the bottom and right of the output.</summary>
    public IntPair OutputPadding { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>Dilation (height, width).</summary>
    public IntPair Dilation { get; }

    /// <summary>[inChannels, outChannels/groups, kh, kw].</summary>
    public Parameter Weight { get; }

    /// <summary>[outChannels], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);

    /// <summary>
    /// The forward with the output's (height, width) given instead of <see cref="OutputPadding"/>, as PyTorch's
    /// <c>forward(input, output_size)</c>: each must lie between the smallest size this layer produces and that plus stride − 1.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not 3-D or 4-D, or a requested size is out of that range.</exception>
    public Tensor Forward(Tensor input, IntPair outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is not (3 or 4))
            throw new ArgumentException($"ConvTranspose2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {input.Shape}");
        int h = input.Shape[input.Rank - 2], w = input.Shape[input.Rank - 1];
        int minH = ConvTranspose2dNode.OutputSize(h, KernelSize.H, Stride.H, Padding.H, 0, Dilation.H);
        int minW = ConvTranspose2dNode.OutputSize(w, KernelSize.W, Stride.W, Padding.W, 0, Dilation.W);
        if (outputSize.H < minH || outputSize.H > minH + Stride.H - 1 || outputSize.W < minW || outputSize.W > minW + Stride.W - 1)
            throw new ArgumentException($"ConvTranspose2d: requested an output size of {outputSize}, but valid sizes for input of shape {input.Shape} range from ({minH}, {minW}) to ({minH + Stride.H - 1}, {minW + Stride.W - 1})");
        return Functional.ConvTranspose2d(input, Weight, Bias, Stride, Padding, (outputSize.H - minH, outputSize.W - minW), Groups, Dilation);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"ConvTranspose2d({InChannels} → {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}" +
        (OutputPadding != 0 ? $", outputPadding {OutputPadding}" : "") + (Dilation != 1 ? $", dilation {Dilation}" : "") +
        (Groups != 1 ? $", groups {Groups}" : "") + ")";
}
