using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>
/// y = aᵇ (broadcasting). Operands promote as PyTorch's (<see cref="DTypes.ResultType"/>): int64 with int64 (or
/// bool) stays int64, computed exactly; with a float operand the power is taken in the float dtype.
/// </summary>
internal sealed class PowNode : Node
{
    private readonly SavedTensor _a, _b;
    private readonly SavedTensor? _y;
    private readonly Shape _aShape, _bShape;

    private PowNode(Tensor a, Tensor b, Tensor y) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        _a = Save(a);
        _b = Save(b);
        if (NeedsInputGrad(1)) _y = Save(y);
    }

    public static Tensor Forward(Tensor a, Tensor b)
    {
        if (a.DType == DType.Bool && b.DType == DType.Bool)
            throw new NotSupportedException($"Pow: not supported on two bool tensors (shapes {a.Shape} and {b.Shape}), as in PyTorch; convert one with To(DType.Int64) or To(DType.Float32)");
        ElementwiseDispatch.Promote(ref a, ref b);
        Tensor y = ElementwiseDispatch.Binary<PowOp<float>, PowOp<double>, IntegerPowOp>(a, b, "Pow");
        if (GradMode.Records(a, b)) y.SetGradFn(new PowNode(a, b, y));
        return y;
    }

    // d/da aᵇ = b·aᵇ⁻¹, taken as 0 where b = 0 (so 0⁰ has no 0·inf);
    // d/db aᵇ = aᵇ·ln a, taken as 0 where a = 0 and b ≥ 0 (as PyTorch).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor a = _a.Value, b = _b.Value;
        Tensor? da = null, db = null;
        if (NeedsInputGrad(0))
            da = KeepWhereNode.Forward(dy * (b * a.Pow(b - 1.0)), b.Ne(0)).SumToShape(_aShape);
        if (_y is not null)
        {
            Tensor keep = a.Ne(0).LogicalOr(b.Lt(0));
            db = (dy * KeepWhereNode.Forward(_y.Value * a.Log(), keep)).SumToShape(_bShape);
        }
        return [da, db];
    }
}

/// <summary>y = xᵉ for a constant exponent e (a C# double: int64 and bool tensors give float32, as a Python float exponent).</summary>
internal sealed class PowScalarNode : Node
{
    private readonly SavedTensor _x;
    private readonly double _e;

    private PowScalarNode(Tensor x, double e) : base(x)
    {
        _x = Save(x);
        _e = e;
    }

    public static Tensor Forward(Tensor x, double e)
    {
        x = FloatInput.Of(x); // int64 or bool to a Python-float power: float32, as PyTorch
        // Exponents with an exact cheaper form, as PyTorch special-cases them.
        Tensor y = e switch
        {
            2 => ElementwiseDispatch.UnaryFloat<SquareKernel<float>, SquareKernel<double>>(x, "Pow"),
            3 => ElementwiseDispatch.UnaryFloat<CubeKernel<float>, CubeKernel<double>>(x, "Pow"),
            0.5 => ElementwiseDispatch.UnaryFloat<SqrtKernel<float>, SqrtKernel<double>>(x, "Pow"),
            -0.5 => ElementwiseDispatch.UnaryFloat<RsqrtKernel<float>, RsqrtKernel<double>>(x, "Pow"),
            -1 => ElementwiseDispatch.UnaryFloat<ReciprocalKernel<float>, ReciprocalKernel<double>>(x, "Pow"),
            _ => ElementwiseDispatch.BinaryFloat<PowOp<float>, PowOp<double>>(ElementwiseMap.Packed(x), Tensor.Scalar(e, x.DType), "Pow"),
        };
        if (GradMode.Records(x)) y.SetGradFn(new PowScalarNode(x, e));
        return y;
    }

    // d/dx xᵉ = e·xᵉ⁻¹ (identically 0 for e = 0).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (_e == 0) return [Tensor.ZerosLike(dy)];
        Tensor x = _x.Value;
        return [dy * (_e == 2 ? x * 2.0 : x.Pow(_e - 1) * _e)];
    }
}

/// <summary>Integer powers with a C# integer exponent, as a Python int exponent in PyTorch.</summary>
internal static class IntegerPow
{
    /// <summary>xᵉ: int64 for int64 and bool tensors (a negative e is refused, as PyTorch), the float power for float tensors.</summary>
    public static Tensor Forward(Tensor x, long e)
    {
        if (x.DType.IsFloatingPoint()) return PowScalarNode.Forward(x, e);
        if (e < 0)
            throw new ArgumentException($"Pow: integers to negative integer powers are not allowed (a {x.DType.Name()} tensor of shape {x.Shape} to the power {e}); convert with To(DType.Float32) first, or pass a double exponent");
        return PowNode.Forward(x, new Tensor(new Storage<long>([e]), Shape.Scalar, [], 0));
    }
}

/// <summary>y = √x.</summary>
internal sealed class SqrtNode : Node
{
    private readonly SavedTensor _y;

    private SqrtNode(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<SqrtKernel<float>, SqrtKernel<double>>(x, "Sqrt");
        if (GradMode.Records(x)) y.SetGradFn(new SqrtNode(x, y));
        return y;
    }

    // d/dx √x = 1/(2√x) = 1/(2y); inf at x = 0.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy / (_y.Value * 2.0)];
}

/// <summary>y = 1/√x.</summary>
internal sealed class RsqrtNode : Node
{
    private readonly SavedTensor _y;

    private RsqrtNode(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<RsqrtKernel<float>, RsqrtKernel<double>>(x, "Rsqrt");
        if (GradMode.Records(x)) y.SetGradFn(new RsqrtNode(x, y));
        return y;
    }

    // d/dx x^(−1/2) = −½·x^(−3/2) = −½·y³.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy * (_y.Value.Pow(3) * -0.5)];
}

/// <summary>y = 1/x.</summary>
internal sealed class ReciprocalNode : Node
{
    private readonly SavedTensor _y;

    private ReciprocalNode(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<ReciprocalKernel<float>, ReciprocalKernel<double>>(x, "Reciprocal");
        if (GradMode.Records(x)) y.SetGradFn(new ReciprocalNode(x, y));
        return y;
    }

    // d/dx 1/x = −1/x² = −y².
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor y = _y.Value;
        return [-dy * (y * y)];
    }
}
