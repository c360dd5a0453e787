using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

// Binary arithmetic promotes its operands as PyTorch does (DTypes.ResultType): int64 with float32
// gives float32, float32 with float64 gives float64, bool is the lowest. The conversion is a recorded
// op of its own, so the node below sees operands of one dtype and a float operand's gradient comes
// back converted to its dtype; integer operands get none.

/// <summary>y = a + b (broadcasting); bool + bool is a logical or, as PyTorch.</summary>
internal sealed class AddNode(Tensor a, Tensor b) : Node(a, b)
{
    private readonly Shape _aShape = a.Shape, _bShape = b.Shape;

    public static Tensor Forward(Tensor a, Tensor b)
    {
        ElementwiseDispatch.Promote(ref a, ref b);
        if (a.DType == DType.Bool) return Logical.Bitwise<BitwiseOrOp<byte>, BitwiseOrOp<long>>(a, b, "Add");
        Tensor y = ElementwiseDispatch.Binary<AddOp<float>, AddOp<double>, AddOp<long>>(a, b, "Add");
        if (GradMode.Records(a, b)) y.SetGradFn(new AddNode(a, b));
        return y;
    }

    // dy/da = 1, dy/db = 1; broadcast dims are summed back.
    protected internal override Tensor?[] Backward(Tensor dy) =>
    [
        NeedsInputGrad(0) ? dy.SumToShape(_aShape) : null,
        NeedsInputGrad(1) ? dy.SumToShape(_bShape) : null,
    ];
}

/// <summary>y = a − b (broadcasting); refused on bool operands, as PyTorch.</summary>
internal sealed class SubNode(Tensor a, Tensor b) : Node(a, b)
{
    private readonly Shape _aShape = a.Shape, _bShape = b.Shape;

    public static Tensor Forward(Tensor a, Tensor b)
    {
        if (a.DType == DType.Bool || b.DType == DType.Bool)
            throw new NotSupportedException($"Sub: subtraction with a bool tensor is not supported (a {a.DType.Name()} {a.Shape}, b {b.DType.Name()} {b.Shape}), as in PyTorch; " +
                "to invert a mask use LogicalNot() or the ! operator, or convert with To(DType.Int64) first");
        ElementwiseDispatch.Promote(ref a, ref b);
        Tensor y = ElementwiseDispatch.Binary<SubOp<float>, SubOp<double>, SubOp<long>>(a, b, "Sub");
        if (GradMode.Records(a, b)) y.SetGradFn(new SubNode(a, b));
        return y;
    }

    // dy/da = 1, dy/db = −1.
    protected internal override Tensor?[] Backward(Tensor dy) =>
    [
        NeedsInputGrad(0) ? dy.SumToShape(_aShape) : null,
        NeedsInputGrad(1) ? (-dy).SumToShape(_bShape) : null,
    ];
}

/// <summary>y = a · b (broadcasting); bool · bool is a logical and, as PyTorch.</summary>
internal sealed class MulNode : Node
{
    private readonly SavedTensor? _a, _b;
    private readonly Shape _aShape, _bShape;

    private MulNode(Tensor a, Tensor b) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        if (NeedsInputGrad(1)) _a = Save(a);
        if (NeedsInputGrad(0)) _b = Save(b);
    }

    public static Tensor Forward(Tensor a, Tensor b)
    {
        ElementwiseDispatch.Promote(ref a, ref b);
        if (a.DType == DType.Bool) return Logical.Bitwise<BitwiseAndOp<byte>, BitwiseAndOp<long>>(a, b, "Mul"); // bool · bool is a logical and
        Tensor y = ElementwiseDispatch.Binary<MulOp<float>, MulOp<double>, MulOp<long>>(a, b, "Mul");
        if (GradMode.Records(a, b)) y.SetGradFn(new MulNode(a, b));
        return y;
    }

    // dy/da = b, dy/db = a.
    protected internal override Tensor?[] Backward(Tensor dy) =>
    [
        _b is null ? null : (dy * _b.Value).SumToShape(_aShape),
        _a is null ? null : (dy * _a.Value).SumToShape(_bShape),
    ];
}

/// <summary>
/// y = a / b (broadcasting), true division as PyTorch's <c>/</c>: integer and bool operands are divided
/// as float32 (the default dtype). <see cref="Rounded"/> is torch.div with a rounding mode.
/// </summary>
internal sealed class DivNode : Node
{
    private readonly SavedTensor? _a;
    private readonly SavedTensor _b;
    private readonly Shape _aShape, _bShape;

    private DivNode(Tensor a, Tensor b) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        if (NeedsInputGrad(1)) _a = Save(a);
        _b = Save(b);
    }

    public static Tensor Forward(Tensor a, Tensor b)
    {
        ElementwiseDispatch.Promote(ref a, ref b);
        if (!a.DType.IsFloatingPoint())
        {
            a = a.To(DType.Float32);
            b = b.To(DType.Float32);
        }
        Tensor y = ElementwiseDispatch.Binary<DivOp<float>, DivOp<double>, DivOp<long>>(a, b, "Div");
        if (GradMode.Records(a, b)) y.SetGradFn(new DivNode(a, b));
        return y;
    }

    /// <summary>
    /// torch.div(a, b, rounding_mode): the quotient rounded toward zero (Trunc) or down (Floor). Integer
    /// operands stay integers (bool ones become int64) and a zero divisor throws, as PyTorch; float
    /// quotients are rounded after a true division, with gradient 0 almost everywhere.
    /// </summary>
    public static Tensor Rounded(Tensor a, Tensor b, RoundingMode mode)
    {
        const string op = "Div";
        ElementwiseDispatch.Promote(ref a, ref b);
        if (a.DType == DType.Bool)
        {
            a = a.To(DType.Int64);
            b = b.To(DType.Int64);
        }
        if (a.DType.IsFloatingPoint())
        {
            Tensor q = Forward(a, b);
            if (mode == RoundingMode.Floor) return q.Floor();
            return Tensor.Where(q.Lt(0), -(-q).Floor(), q.Floor()); // toward zero: ceil below 0, floor above
        }
        try
        {
            return mode == RoundingMode.Trunc
                ? ElementwiseDispatch.Binary<DivOp<float>, DivOp<double>, DivOp<long>>(a, b, op)
                : ElementwiseDispatch.Binary<DivOp<float>, DivOp<double>, FloorDivideOp>(a, b, op);
        }
        // Only integer division traps (floats give ±∞ or NaN); the kernel cannot name the op or the shapes, so this does.
        catch (DivideByZeroException e)
        {
            throw new DivideByZeroException($"{op}: int64 division by zero (a {a.Shape} / b {b.Shape}, rounding mode {mode}); PyTorch raises ZeroDivisionError too. Divide without a rounding mode to get ±inf or NaN", e);
        }
        catch (OverflowException e)
        {
            throw new OverflowException($"{op}: int64 division overflows (a {a.Shape} / b {b.Shape}): {long.MinValue} / -1 has no int64 result", e);
        }
    }

    // dy/da = 1/b, dy/db = −a/b².
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor b = _b.Value;
        return
        [
            NeedsInputGrad(0) ? (dy / b).SumToShape(_aShape) : null,
            _a is null ? null : (-dy * _a.Value / (b * b)).SumToShape(_bShape),
        ];
    }
}

/// <summary>y = −x; refused on bool, as PyTorch.</summary>
internal sealed class NegNode(Tensor x) : Node(x)
{
    public static Tensor Forward(Tensor x)
    {
        if (x.DType == DType.Bool)
            throw new NotSupportedException($"Neg: negation of a bool tensor (shape {x.Shape}) is not supported, as in PyTorch; to invert a mask use LogicalNot() or the ! operator");
        Tensor y = ElementwiseDispatch.Binary<MulOp<float>, MulOp<double>, MulOp<long>>(x, Tensor.Scalar(-1, x.DType), "Neg");
        if (GradMode.Records(x)) y.SetGradFn(new NegNode(x));
        return y;
    }

    // dy/dx = −1.
    protected internal override Tensor?[] Backward(Tensor dy) => [-dy];
}
