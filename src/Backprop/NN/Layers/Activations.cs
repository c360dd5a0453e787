using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>max(0, x).</summary>
public sealed class Relu : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Relu();
}

/// <summary>x if x ≥ 0 else slope·x.</summary>
public sealed class LeakyRelu(double negativeSlope = 0.01) : Module
{
    /// <summary>The slope for x &lt; 0 (read by the ONNX exporter).</summary>
    internal double NegativeSlope => negativeSlope;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.LeakyRelu(negativeSlope);
}

/// <summary>Gaussian error linear unit (exact erf form or tanh approximation).</summary>
public sealed class Gelu(GeluApproximation approximate = GeluApproximation.None) : Module
{
    /// <summary>The formula (read by the ONNX exporter).</summary>
    internal GeluApproximation Approximate => approximate;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Gelu(approximate);
}

/// <summary>Logistic sigmoid.</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Sigmoid();
}

/// <summary>Hyperbolic tangent.</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Tanh();
}

/// <summary>x·σ(x).</summary>
public sealed class Silu : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Silu();
}

/// <summary>log(1 + e^(βx))/β, linear above the threshold.</summary>
public sealed class Softplus(double beta = 1, double threshold = 20) : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Softplus(beta, threshold);
}

/// <summary>Returns its input unchanged.</summary>
public sealed class Identity : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input;
}
