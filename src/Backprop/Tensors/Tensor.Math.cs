using Backprop.Ops.Elementwise;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>Element-wise eˣ.</summary>
    public Tensor Exp() => ExpNode.Forward(this);

    /// <summary>Element-wise natural logarithm.</summary>
    public Tensor Log() => LogNode.Forward(this);

    /// <summary>Element-wise logistic sigmoid 1 / (1 + e⁻ˣ).</summary>
    public Tensor Sigmoid() => SigmoidNode.Forward(this);

    /// <summary>Element-wise hyperbolic tangent.</summary>
    public Tensor Tanh() => TanhNode.Forward(this);
}
