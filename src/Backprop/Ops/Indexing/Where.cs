using System.Buffers;
using System.Runtime.InteropServices;
using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Indexing;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Indexing;

/// <summary>
/// y = condition ? a : b element-wise, broadcasting all three, as torch.where: the condition is a bool
/// tensor, a and b are promoted to a common dtype (<see cref="DTypes.ResultType"/>).
/// </summary>
internal sealed class WhereNode : Node
{
    private readonly SavedTensor _condition;
    private readonly Shape _aShape, _bShape;

    private WhereNode(Tensor condition, Tensor a, Tensor b) : base(a, b)
    {
        _condition = Save(condition);
        _aShape = a.Shape;
        _bShape = b.Shape;
    }

    public static Tensor Forward(Tensor condition, Tensor a, Tensor b)
    {
        CheckCondition(condition, "Where", "condition");
        ElementwiseDispatch.Promote(ref a, ref b);
        Tensor y = Select(condition, a, b, "Where");
        if (GradMode.Records(a, b)) y.SetGradFn(new WhereNode(condition, a, b));
        return y;
    }

    /// <summary>Throws unless <paramref name="mask"/> is bool, as PyTorch (the message says how to make one).</summary>
    public static void CheckCondition(Tensor mask, string op, string name)
    {
        if (mask.DType != DType.Bool)
            throw new ArgumentException($"{op}: {name} must be a bool tensor, got {mask.DType.Name()} (shape {mask.Shape}), as in PyTorch; " +
                "make one with a comparison (x.Gt(0), x.Ne(0)) or convert with To(DType.Bool), which is true where the value is nonzero");
    }

    /// <summary>The selection alone, without a graph: a bool condition, a and b of one dtype.</summary>
    public static Tensor Select(Tensor condition, Tensor a, Tensor b, string op)
    {
        if (!Shape.TryBroadcast(a.Shape, b.Shape, out Shape ab) || !Shape.TryBroadcast(condition.Shape, ab, out Shape shape))
            throw new ArgumentException($"{op}: cannot broadcast condition shape {condition.Shape}, a shape {a.Shape} and b shape {b.Shape} (trailing dimensions must be equal or 1)");
        var y = Tensor.Uninitialized(shape, a.DType); // the kernel writes every element
        int n = shape.Numel;
        if (condition.IsContiguous && condition.Numel == n)
        {
            DTypeSwitch.Element(a.DType, new SelectKernel(Logical.Bytes(condition), a, b, y));
            return y;
        }
        bool[] mask = ArrayPool<bool>.Shared.Rent(n);
        try
        {
            Span<int> strides = stackalloc int[shape.Rank];
            ElementwiseDispatch.BroadcastStrides(condition, shape, strides);
            Span<bool> values = mask.AsSpan(0, n);
            CopyKernel.Run(condition.Data<bool>(), condition.Offset, strides, shape.Dims, values);
            DTypeSwitch.Element(a.DType, new SelectKernel(MemoryMarshal.Cast<bool, byte>(values), a, b, y));
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(mask);
        }
        return y;
    }

    private readonly ref struct SelectKernel(ReadOnlySpan<byte> mask, Tensor a, Tensor b, Tensor y) : IElementAction
    {
        private readonly ReadOnlySpan<byte> _mask = mask;

        public void Run<T>() where T : unmanaged
        {
            Span<int> sa = stackalloc int[y.Rank];
            Span<int> sb = stackalloc int[y.Rank];
            ElementwiseDispatch.BroadcastStrides(a, y.Shape, sa);
            ElementwiseDispatch.BroadcastStrides(b, y.Shape, sb);
            IndexKernels.Where(_mask, a.Data<T>(), a.Offset, sa, b.Data<T>(), b.Offset, sb, y.Elements<T>(), y.Shape.Dims);
        }
    }

    // dy/da = [condition], dy/db = [!condition]; broadcast dims are summed back.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor condition = _condition.Value;
        Tensor zero = Tensor.Scalar(0, dy.DType);
        return
        [
            NeedsInputGrad(0) ? Forward(condition, dy, zero).SumToShape(_aShape) : null,
            NeedsInputGrad(1) ? Forward(condition, zero, dy).SumToShape(_bShape) : null,
        ];
    }
}
