using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// y = max(x Wᵀ + b, 0): a <see cref="Linear"/> followed by <see cref="Relu"/> as one fused op
/// (<see cref="Functional.LinearRelu"/>), with the same values, gradients and parameter names
/// ("weight", "bias") and one tensor less; the pre-activation is never stored, so it cannot be hooked.
/// Input [..., inFeatures], output [..., outFeatures]. <see cref="Sequential.Fuse"/> puts it in place of
/// a Linear → ReLU pair.
/// </summary>
public sealed class LinearRelu : Module
{
    /// <summary>Creates the layer with <see cref="Linear"/>'s initialisation (the same draws from <paramref name="generator"/>).</summary>
    public LinearRelu(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
        : this(new Linear(inFeatures, outFeatures, bias, generator, dtype))
    {
    }

    /// <summary>Fuses a ReLU into <paramref name="linear"/>: this module shares its parameter objects, so the values it trains are the linear layer's.</summary>
    public LinearRelu(Linear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        InFeatures = linear.InFeatures;
        OutFeatures = linear.OutFeatures;
        Weight = RegisterParameter("weight", linear.Weight);
        if (linear.Bias is not null) Bias = RegisterParameter("bias", linear.Bias);
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
    public override Tensor Forward(Tensor input) => Functional.LinearRelu(input, Weight, Bias);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"LinearRelu({InFeatures} → {OutFeatures}{(Bias is null ? ", no bias" : "")})";
}
