using System.Numerics;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>
/// Allocates outputs and routes element-wise ops to the typed kernels: picks the dtype,
/// broadcasts shapes and takes the contiguous fast path when both operands allow it.
/// Element-wise ops name one kernel type per dtype (TF for float, TD for double, TL for long), so
/// choosing among those types is their dtype dispatch; every other op goes through <see cref="DTypeSwitch"/>.
/// </summary>
internal static class ElementwiseDispatch
{
    /// <summary>Broadcasting binary op on any dtype.</summary>
    public static Tensor Binary<TF, TD, TL>(Tensor a, Tensor b, string op)
        where TF : IBinaryOp<float> where TD : IBinaryOp<double> where TL : IBinaryOp<long>
    {
        Tensor.CheckSameDType(a, b, op);
        Shape shape = a.Shape == b.Shape ? a.Shape : Shape.Broadcast(a.Shape, b.Shape, op);
        var y = Tensor.Uninitialized(shape, a.DType); // every path below writes every element
        switch (a.DType)
        {
            case DType.Float32: Run<float, TF>(a, b, y); break;
            case DType.Float64: Run<double, TD>(a, b, y); break;
            case DType.Int64: Run<long, TL>(a, b, y); break;
            default: throw BoolNotSupported(op, a, b);
        }
        return y;
    }

    /// <summary>
    /// Converts a and b to the dtype of their result (<see cref="DTypes.ResultType"/>, PyTorch's type
    /// promotion) before a binary op. The conversion is a recorded op, so a float operand that requires
    /// grad gets its gradient back in its own dtype; integer and bool operands never require grad.
    /// </summary>
    public static void Promote(ref Tensor a, ref Tensor b)
    {
        if (a.DType == b.DType) return;
        DType common = DTypes.ResultType(a, b);
        a = a.To(common);
        b = b.To(common);
    }

    /// <summary>The error for arithmetic on bool operands, with PyTorch's advice.</summary>
    public static NotSupportedException BoolNotSupported(string op, Tensor a, Tensor b)
        => new($"{op}: not supported on bool tensors (shapes {a.Shape} and {b.Shape}); convert with To(DType.Int64) or To(DType.Float32), or use LogicalAnd/LogicalOr/LogicalNot for masks");

    /// <summary>Broadcasting binary op on float32/float64 only.</summary>
    public static Tensor BinaryFloat<TF, TD>(Tensor a, Tensor b, string op)
        where TF : IBinaryOp<float> where TD : IBinaryOp<double>
    {
        Tensor.CheckSameDType(a, b, op);
        a.CheckFloat(op);
        Shape shape = a.Shape == b.Shape ? a.Shape : Shape.Broadcast(a.Shape, b.Shape, op);
        var y = Tensor.Uninitialized(shape, a.DType); // Run writes every element
        if (a.DType == DType.Float32) Run<float, TF>(a, b, y);
        else Run<double, TD>(a, b, y);
        return y;
    }

    /// <summary>Writes op(a, b) into y (y already has the broadcast shape and is contiguous).</summary>
    public static void Run<T, TOp>(Tensor a, Tensor b, Tensor y) where T : unmanaged, INumber<T> where TOp : IBinaryOp<T>
    {
        Span<T> dst = y.Elements<T>();
        if (a.IsContiguous && b.IsContiguous)
        {
            if ((a.Numel == y.Numel || a.Numel == 1) && (b.Numel == y.Numel || b.Numel == 1))
            {
                BinaryKernel.RunContiguous<T, TOp>(a.ReadOnlyElements<T>(), b.ReadOnlyElements<T>(), dst);
                return;
            }
        }
        int rank = y.Rank;
        Span<int> sa = stackalloc int[rank];
        Span<int> sb = stackalloc int[rank];
        BroadcastStrides(a, y.Shape, sa);
        BroadcastStrides(b, y.Shape, sb);
        BinaryKernel.Run<T, TOp>(a.Data<T>(), a.Offset, sa, b.Data<T>(), b.Offset, sb, dst, y.Shape.Dims);
    }

    /// <summary>Strides of <paramref name="t"/> broadcast to <paramref name="outShape"/> (0 where it is expanded).</summary>
    public static void BroadcastStrides(Tensor t, Shape outShape, Span<int> strides)
        => StridedLayout.BroadcastStrides(t.Shape.Dims, t.Strides, outShape.Dims, strides);

    /// <summary>Unary op on float32/float64; non-contiguous inputs are packed first.</summary>
    public static Tensor UnaryFloat<TF, TD>(Tensor x, string op) where TF : IUnaryOp<float> where TD : IUnaryOp<double>
    {
        x.CheckFloat(op);
        Tensor c = x.Contiguous();
        var y = new Tensor(x.Shape, x.DType);
        if (x.DType == DType.Float32) TF.Apply(c.ReadOnlyElements<float>(), y.Elements<float>());
        else TD.Apply(c.ReadOnlyElements<double>(), y.Elements<double>());
        return y;
    }

    /// <summary>Unary op on any dtype.</summary>
    public static Tensor Unary<TF, TD, TL>(Tensor x) where TF : IUnaryOp<float> where TD : IUnaryOp<double> where TL : IUnaryOp<long>
    {
        Tensor c = x.Contiguous();
        var y = new Tensor(x.Shape, x.DType);
        switch (x.DType)
        {
            case DType.Float32: TF.Apply(c.ReadOnlyElements<float>(), y.Elements<float>()); break;
            case DType.Float64: TD.Apply(c.ReadOnlyElements<double>(), y.Elements<double>()); break;
            case DType.Int64: TL.Apply(c.ReadOnlyElements<long>(), y.Elements<long>()); break;
            default: throw new NotSupportedException($"element-wise op: not supported on bool tensors (shape {x.Shape}); convert with To(DType.Int64) or To(DType.Float32)");
        }
        return y;
    }
}
