using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = a + b (broadcasting).</summary>
internal sealed class AddNode(Tensor a, Tensor b) : Node(a, b)
{
    private readonly Shape _aShape = a.Shape, _bShape = b.Shape;

    public static Tensor Forward(Tensor a, Tensor b)
    {
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

/// <summary>y = a − b (broadcasting).</summary>
internal sealed class SubNode(Tensor a, Tensor b) : Node(a, b)
{
    private readonly Shape _aShape = a.Shape, _bShape = b.Shape;

    public static Tensor Forward(Tensor a, Tensor b)
    {
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

/// <summary>y = a · b (broadcasting).</summary>
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

/// <summary>y = a / b (broadcasting); int64 division truncates and throws on a zero divisor.</summary>
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
        Tensor y;
        try
        {
            y = ElementwiseDispatch.Binary<DivOp<float>, DivOp<double>, DivOp<long>>(a, b, "Div");
        }
        // Only int64 division traps (floats give ±∞ or NaN); the kernel cannot name the op or the shapes, so this does.
        catch (DivideByZeroException e)
        {
            throw new DivideByZeroException($"Div: int64 division by zero (a {a.Shape} / b {b.Shape}); PyTorch raises ZeroDivisionError too. Divide as float to get ±inf or NaN", e);
        }
        catch (OverflowException e)
        {
            throw new OverflowException($"Div: int64 division overflows (a {a.Shape} / b {b.Shape}): {long.MinValue} / -1 has no int64 result", e);
        }
        if (GradMode.Records(a, b)) y.SetGradFn(new DivNode(a, b));
        return y;
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

/// <summary>y = −x.</summary>
internal sealed class NegNode(Tensor x) : Node(x)
{
    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.Binary<MulOp<float>, MulOp<double>, MulOp<long>>(x, Tensor.Scalar(-1, x.DType), "Neg");
        if (GradMode.Records(x)) y.SetGradFn(new NegNode(x));
        return y;
    }

    // dy/dx = −1.
    protected internal override Tensor?[] Backward(Tensor dy) => [-dy];
}
