using Backprop.Ops.Elementwise;

namespace Backprop.Tensors;

// Comparisons return a tensor of this tensor's dtype holding 1 where the relation holds and 0
// elsewhere, so the result can be used as a mask (x * x.Gt(0)). They broadcast, are never
// differentiable, and NaN compares false except under Ne.
public sealed partial class Tensor
{
    /// <summary>1 where this &gt; other, else 0 (broadcasting; same dtype as the operands).</summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast or dtypes differ.</exception>
    public Tensor Gt(Tensor other) => Compare.Gt(this, other);

    /// <summary>1 where this ≥ other, else 0.</summary>
    public Tensor Ge(Tensor other) => Compare.Ge(this, other);

    /// <summary>1 where this &lt; other, else 0.</summary>
    public Tensor Lt(Tensor other) => Compare.Lt(this, other);

    /// <summary>1 where this ≤ other, else 0.</summary>
    public Tensor Le(Tensor other) => Compare.Le(this, other);

    /// <summary>1 where this == other, else 0.</summary>
    public Tensor Eq(Tensor other) => Compare.Eq(this, other);

    /// <summary>1 where this ≠ other (or either is NaN), else 0.</summary>
    public Tensor Ne(Tensor other) => Compare.Ne(this, other);

    /// <summary>1 where this &gt; value, else 0.</summary>
    public Tensor Gt(double value) => Compare.WithScalar(this, value, Compare.Gt);

    /// <summary>1 where this ≥ value, else 0.</summary>
    public Tensor Ge(double value) => Compare.WithScalar(this, value, Compare.Ge);

    /// <summary>1 where this &lt; value, else 0.</summary>
    public Tensor Lt(double value) => Compare.WithScalar(this, value, Compare.Lt);

    /// <summary>1 where this ≤ value, else 0.</summary>
    public Tensor Le(double value) => Compare.WithScalar(this, value, Compare.Le);

    /// <summary>1 where this == value, else 0.</summary>
    public Tensor Eq(double value) => Compare.WithScalar(this, value, Compare.Eq);

    /// <summary>1 where this ≠ value, else 0.</summary>
    public Tensor Ne(double value) => Compare.WithScalar(this, value, Compare.Ne);
}
