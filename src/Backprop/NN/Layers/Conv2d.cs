using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// 2-D convolution (cross-correlation, as PyTorch). Input [N, inChannels, H, W], weight
/// [outChannels, inChannels/groups, kernelH, kernelW], output [N, outChannels, H', W'].
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer with PyTorch's default initialisation: U(−1/√fan_in, 1/√fan_in), fan_in = in/groups·kh·kw.</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
                  int groups = 1, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: groups {groups} must divide both inChannels {inChannels} and outChannels {outChannels}");
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        int fanIn = inChannels / groups * kernelSize * kernelSize;
        double bound = 1 / Math.Sqrt(fanIn);
        Weight = RegisterParameter("weight", Init.Uniform([outChannels, inChannels / groups, kernelSize, kernelSize], -bound, bound, generator, dtype));
        if (bias) Bias = RegisterParameter("bias", Init.Uniform([outChannels], -bound, bound, generator, dtype));
        else RegisterAbsentParameter("bias");
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Square kernel size.</summary>
    public int KernelSize { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on each side.</summary>
    public int Padding { get; }

    /// <summary>Dilation.</summary>
    public int Dilation { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>[outChannels, inChannels/groups, k, k].</summary>
    public Parameter Weight { get; }

    /// <summary>[outChannels], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"Conv2d({InChannels} → {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}" +
        (Dilation != 1 ? $", dilation {Dilation}" : "") + (Groups != 1 ? $", groups {Groups}" : "") + ")";
}
