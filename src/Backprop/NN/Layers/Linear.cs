using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>y = x Wᵀ + b. Input [..., inFeatures], output [..., outFeatures]; weight [outFeatures, inFeatures].</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer with PyTorch's default initialisation: W, b ~ U(−1/√in, 1/√in).</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        double bound = 1 / Math.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Init.Uniform([outFeatures, inFeatures], -bound, bound, generator, dtype));
        if (bias) Bias = RegisterParameter("bias", Init.Uniform([outFeatures], -bound, bound, generator, dtype));
        else RegisterAbsentParameter("bias");
    }

    /// <summary>Input size.</summary>
    public int InFeatures { get; }

    /// <summary>Output size.</summary>
    public int OutFeatures { get; }

    /// <summary>[outFeatures, inFeatures].</summary>
    public Parameter Weight { get; }

    /// <summary>[outFeatures], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Linear(input, Weight, Bias);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"Linear({InFeatures} → {OutFeatures}{(Bias is null ? ", no bias" : "")})";
}
