using Backprop.Ops.Elementwise;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>Element-wise sum with broadcasting; mixed dtypes promote as PyTorch's (int64 + float32 is float32).</summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    public Tensor Add(Tensor other) => AddNode.Forward(this, other);

    /// <summary>Element-wise difference with broadcasting.</summary>
    /// <exception cref="NotSupportedException">An operand is bool (use LogicalNot to invert a mask).</exception>
    public Tensor Sub(Tensor other) => SubNode.Forward(this, other);

    /// <summary>Element-wise product with broadcasting.</summary>
    public Tensor Mul(Tensor other) => MulNode.Forward(this, other);

    /// <summary>
    /// Element-wise true quotient with broadcasting, as PyTorch's <c>/</c>: int64 and bool operands are
    /// divided as float32 (3 / 2 = 1.5); <see cref="Div(Tensor, RoundingMode)"/> keeps integers.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    public Tensor Div(Tensor other) => DivNode.Forward(this, other);

    /// <summary>
    /// torch.div with rounding_mode: the quotient rounded toward zero (<see cref="RoundingMode.Trunc"/>) or
    /// down (<see cref="RoundingMode.Floor"/>); int64 operands give int64 (bool ones too).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes cannot broadcast.</exception>
    /// <exception cref="DivideByZeroException">An int64 divisor is zero (the message names Div and both shapes).</exception>
    /// <exception cref="OverflowException">An int64 division is long.MinValue / −1.</exception>
    public Tensor Div(Tensor other, RoundingMode roundingMode) => DivNode.Rounded(this, other, roundingMode);

    /// <summary>Element-wise negation.</summary>
    /// <exception cref="NotSupportedException">The tensor is bool (use LogicalNot).</exception>
    public Tensor Neg() => NegNode.Forward(this);

    /// <summary>
    /// A C# double as an operand, as PyTorch treats a Python float: a 0-d tensor of this tensor's dtype
    /// when it is floating point, else of float32 (the default dtype), so int64 · 0.5 is float32.
    /// </summary>
    private Tensor FloatOperand(double value) => Scalar(value, DType.IsFloatingPoint() ? DType : DType.Float32);

    /// <summary>A C# integer as an operand, as a Python int: this tensor's dtype when floating point, else int64 (exact).</summary>
    private Tensor IntOperand(long value)
        => DType.IsFloatingPoint() ? Scalar(value, DType) : new Tensor(new Storage<long>([value]), Shape.Scalar, [], 0);

    // Operands promote as PyTorch's (DTypes.ResultType): int64 + float32 is float32, float32 + float64 is
    // float64. A C# integer literal picks the long overloads (an int64 tensor stays int64: x * 2), a double
    // the double ones (x * 2.0 is float32 for an int64 tensor), exactly as Python's int and float.
#pragma warning disable CS1591 // operators are documented by the named methods above
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator +(Tensor a, double b) => a.Add(a.FloatOperand(b));
    public static Tensor operator +(double a, Tensor b) => b.FloatOperand(a).Add(b);
    public static Tensor operator +(Tensor a, long b) => a.Add(a.IntOperand(b));
    public static Tensor operator +(long a, Tensor b) => b.IntOperand(a).Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator -(Tensor a, double b) => a.Sub(a.FloatOperand(b));
    public static Tensor operator -(double a, Tensor b) => b.FloatOperand(a).Sub(b);
    public static Tensor operator -(Tensor a, long b) => a.Sub(a.IntOperand(b));
    public static Tensor operator -(long a, Tensor b) => b.IntOperand(a).Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator *(Tensor a, double b) => a.Mul(a.FloatOperand(b));
    public static Tensor operator *(double a, Tensor b) => b.FloatOperand(a).Mul(b);
    public static Tensor operator *(Tensor a, long b) => a.Mul(a.IntOperand(b));
    public static Tensor operator *(long a, Tensor b) => b.IntOperand(a).Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator /(Tensor a, double b) => a.Div(a.FloatOperand(b));
    public static Tensor operator /(double a, Tensor b) => b.FloatOperand(a).Div(b);
    public static Tensor operator /(Tensor a, long b) => a.Div(a.IntOperand(b));
    public static Tensor operator /(long a, Tensor b) => b.IntOperand(a).Div(b);
    public static Tensor operator -(Tensor a) => a.Neg();
#pragma warning restore CS1591
}
