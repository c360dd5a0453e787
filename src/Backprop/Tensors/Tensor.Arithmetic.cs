using Backprop.Ops.Elementwise;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>Element-wise sum with broadcasting.</summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast or dtypes differ.</exception>
    public Tensor Add(Tensor other) => AddNode.Forward(this, other);

    /// <summary>Element-wise difference with broadcasting.</summary>
    public Tensor Sub(Tensor other) => SubNode.Forward(this, other);

    /// <summary>Element-wise product with broadcasting.</summary>
    public Tensor Mul(Tensor other) => MulNode.Forward(this, other);

    /// <summary>Element-wise quotient with broadcasting; int64 quotients truncate toward zero (torch.div with rounding_mode="trunc").</summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast or dtypes differ.</exception>
    /// <exception cref="DivideByZeroException">An int64 divisor is zero (the message names Div and both shapes).</exception>
    /// <exception cref="OverflowException">An int64 division is long.MinValue / −1.</exception>
    public Tensor Div(Tensor other) => DivNode.Forward(this, other);

    /// <summary>Element-wise negation.</summary>
    public Tensor Neg() => NegNode.Forward(this);

    /// <summary>A 0-d tensor of this tensor's dtype, for scalar operands.</summary>
    private Tensor ScalarLike(double value) => Scalar(value, DType);

#pragma warning disable CS1591 // operators are documented by the named methods above
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator +(Tensor a, double b) => a.Add(a.ScalarLike(b));
    public static Tensor operator +(double a, Tensor b) => b.ScalarLike(a).Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator -(Tensor a, double b) => a.Sub(a.ScalarLike(b));
    public static Tensor operator -(double a, Tensor b) => b.ScalarLike(a).Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator *(Tensor a, double b) => a.Mul(a.ScalarLike(b));
    public static Tensor operator *(double a, Tensor b) => b.ScalarLike(a).Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator /(Tensor a, double b) => a.Div(a.ScalarLike(b));
    public static Tensor operator /(double a, Tensor b) => b.ScalarLike(a).Div(b);
    public static Tensor operator -(Tensor a) => a.Neg();
#pragma warning restore CS1591
}
