using Backprop.Ops.Elementwise;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>Element-wise eˣ.</summary>
    public Tensor Exp() => ExpNode.Forward(this);

    /// <summary>Element-wise natural logarithm.</summary>
    public Tensor Log() => LogNode.Forward(this);

    /// <summary>Element-wise sine (radians).</summary>
    public Tensor Sin() => SinNode.Forward(this);

    /// <summary>Element-wise cosine (radians).</summary>
    public Tensor Cos() => CosNode.Forward(this);

    /// <summary>The upper triangle of the last two dims: elements with column − row ≥ <paramref name="diagonal"/> kept, the rest zero (torch.triu).</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions.</exception>
    public Tensor Triu(long diagonal = 0) => TriangleNode.Forward(this, diagonal, upper: true);

    /// <summary>The lower triangle of the last two dims: elements with column − row ≤ <paramref name="diagonal"/> kept, the rest zero (torch.tril).</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions.</exception>
    public Tensor Tril(long diagonal = 0) => TriangleNode.Forward(this, diagonal, upper: false);

    /// <summary>Element-wise logistic sigmoid 1 / (1 + e⁻ˣ).</summary>
    public Tensor Sigmoid() => SigmoidNode.Forward(this);

    /// <summary>Element-wise hyperbolic tangent.</summary>
    public Tensor Tanh() => TanhNode.Forward(this);
}
