using Backprop.Ops.Elementwise;

namespace Backprop.Tensors;

// Comparisons return a bool tensor (true where the relation holds), as PyTorch's. The operands are
// promoted to a common dtype first (int64 against float32 compares in float32), they broadcast, are
// never differentiable, and NaN compares false except under Ne. A bool result is a mask for Where,
// MaskedFill and the logical ops, and multiplies a float tensor as 1/0 (x * x.Gt(0)). The operators
// <, >, <=, >= are these methods; == and != keep C#'s reference equality.
public sealed partial class Tensor
{
    /// <summary>True where this &gt; other (broadcasting, after type promotion); a bool tensor.</summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    public Tensor Gt(Tensor other) => Compare.Gt(this, other);

    /// <summary>True where this ≥ other; a bool tensor.</summary>
    public Tensor Ge(Tensor other) => Compare.Ge(this, other);

    /// <summary>True where this &lt; other; a bool tensor.</summary>
    public Tensor Lt(Tensor other) => Compare.Lt(this, other);

    /// <summary>True where this ≤ other; a bool tensor.</summary>
    public Tensor Le(Tensor other) => Compare.Le(this, other);

    /// <summary>True where this == other; a bool tensor.</summary>
    public Tensor Eq(Tensor other) => Compare.Eq(this, other);

    /// <summary>True where this ≠ other (or either is NaN); a bool tensor.</summary>
    public Tensor Ne(Tensor other) => Compare.Ne(this, other);

    /// <summary>True where this &gt; value; a bool tensor. An int64 tensor compares with a whole number exactly, with a fraction in float32.</summary>
    public Tensor Gt(double value) => Compare.WithScalar(this, value, Compare.Gt);

    /// <summary>True where this ≥ value; a bool tensor.</summary>
    public Tensor Ge(double value) => Compare.WithScalar(this, value, Compare.Ge);

    /// <summary>True where this &lt; value; a bool tensor.</summary>
    public Tensor Lt(double value) => Compare.WithScalar(this, value, Compare.Lt);

    /// <summary>True where this ≤ value; a bool tensor.</summary>
    public Tensor Le(double value) => Compare.WithScalar(this, value, Compare.Le);

    /// <summary>True where this == value; a bool tensor.</summary>
    public Tensor Eq(double value) => Compare.WithScalar(this, value, Compare.Eq);

    /// <summary>True where this ≠ value; a bool tensor.</summary>
    public Tensor Ne(double value) => Compare.WithScalar(this, value, Compare.Ne);

#pragma warning disable CS1591 // operators are documented by the named methods above
    public static Tensor operator >(Tensor a, Tensor b) => a.Gt(b);
    public static Tensor operator >(Tensor a, double b) => a.Gt(b);
    public static Tensor operator >(double a, Tensor b) => b.Lt(a);
    public static Tensor operator <(Tensor a, Tensor b) => a.Lt(b);
    public static Tensor operator <(Tensor a, double b) => a.Lt(b);
    public static Tensor operator <(double a, Tensor b) => b.Gt(a);
    public static Tensor operator >=(Tensor a, Tensor b) => a.Ge(b);
    public static Tensor operator >=(Tensor a, double b) => a.Ge(b);
    public static Tensor operator >=(double a, Tensor b) => b.Le(a);
    public static Tensor operator <=(Tensor a, Tensor b) => a.Le(b);
    public static Tensor operator <=(Tensor a, double b) => a.Le(b);
    public static Tensor operator <=(double a, Tensor b) => b.Ge(a);
#pragma warning restore CS1591
}
