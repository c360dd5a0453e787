using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = min(max(x, lo), hi) with optional bounds.</summary>
internal sealed class ClampNode : Node
{
    private readonly SavedTensor _x;
    private readonly double _lo, _hi;

    private ClampNode(Tensor x, double lo, double hi) : base(x)
    {
        _x = Save(x);
        _lo = lo;
        _hi = hi;
    }

    public static Tensor Forward(Tensor x, double? min, double? max, string op)
    {
        if (min is null && max is null)
            throw new ArgumentException($"{op}: at least one of min and max must be given (shape {x.Shape})");
        double lo = min ?? double.NegativeInfinity, hi = max ?? double.PositiveInfinity;
        if (double.IsNaN(lo) || double.IsNaN(hi))
            throw new ArgumentException($"{op}: bounds must not be NaN (min {min}, max {max})");
        Tensor y = ElementwiseMap.Unary(x, new ClampOp<float>((float)lo, (float)hi), new ClampOp<double>(lo, hi), op);
        if (GradMode.Records(x)) y.SetGradFn(new ClampNode(x, lo, hi));
        return y;
    }

    // dy/dx = 1 for lo ≤ x ≤ hi (bounds included), 0 outside, as PyTorch.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        var f = new ClampBackwardOp<float>((float)_lo, (float)_hi);
        var d = new ClampBackwardOp<double>(_lo, _hi);
        if (GradMode.Records(dy))
            return [KeepWhereNode.Forward(dy, ElementwiseMap.WithScalar(x, 1, f, d, "ClampBackward"))];
        return [ElementwiseMap.Binary(x, dy, f, d, "ClampBackward")];
    }
}

/// <summary>
/// y = max(a, b) or min(a, b) element-wise (broadcasting). Operands promote as PyTorch's (<see cref="DTypes.ResultType"/>);
/// on two bool tensors the maximum is a logical or and the minimum a logical and.
/// </summary>
internal sealed class MaxMinNode : Node
{
    private readonly SavedTensor _a, _b;
    private readonly Shape _aShape, _bShape;
    private readonly bool _isMax;

    private MaxMinNode(Tensor a, Tensor b, bool isMax) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        _a = Save(a);
        _b = Save(b);
        _isMax = isMax;
    }

    public override string Name => _isMax ? "MaximumBackward" : "MinimumBackward";

    public static Tensor Maximum(Tensor a, Tensor b)
    {
        ElementwiseDispatch.Promote(ref a, ref b);
        if (a.DType == DType.Bool) return Logical.Bitwise<BitwiseOrOp<byte>, BitwiseOrOp<long>>(a, b, "Maximum");
        Tensor y = ElementwiseDispatch.Binary<MaxOp<float>, MaxOp<double>, MaxOp<long>>(a, b, "Maximum");
        if (GradMode.Records(a, b)) y.SetGradFn(new MaxMinNode(a, b, isMax: true));
        return y;
    }

    public static Tensor Minimum(Tensor a, Tensor b)
    {
        ElementwiseDispatch.Promote(ref a, ref b);
        if (a.DType == DType.Bool) return Logical.Bitwise<BitwiseAndOp<byte>, BitwiseAndOp<long>>(a, b, "Minimum");
        Tensor y = ElementwiseDispatch.Binary<MinOp<float>, MinOp<double>, MinOp<long>>(a, b, "Minimum");
        if (GradMode.Records(a, b)) y.SetGradFn(new MaxMinNode(a, b, isMax: false));
        return y;
    }

    // The gradient goes to the winner; on a tie it is split ½/½ (as PyTorch); NaN passes it to both.
    // The weights are constants: max/min is piecewise linear.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor a = _a.Value, b = _b.Value;
        Tensor? da = null, db = null;
        if (NeedsInputGrad(0))
        {
            Tensor w = _isMax ? LessWeight(a, b) : GreaterWeight(a, b);
            da = KeepWhereNode.Forward(dy * w, w).SumToShape(_aShape);
        }
        if (NeedsInputGrad(1))
        {
            Tensor w = _isMax ? GreaterWeight(a, b) : LessWeight(a, b);
            db = KeepWhereNode.Forward(dy * w, w).SumToShape(_bShape);
        }
        return [da, db];
    }

    private Tensor LessWeight(Tensor a, Tensor b)
        => ElementwiseMap.BroadcastFloat<TieWeightLessOp<float>, TieWeightLessOp<double>>(a, b, Name);

    private Tensor GreaterWeight(Tensor a, Tensor b)
        => ElementwiseMap.BroadcastFloat<TieWeightGreaterOp<float>, TieWeightGreaterOp<double>>(a, b, Name);
}
