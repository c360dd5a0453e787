using System.Buffers;
using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Indexing;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Indexing;

/// <summary>y = condition ? a : b element-wise, broadcasting all three; condition is nonzero-is-true of any dtype.</summary>
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
        const string op = "Where";
        Tensor.CheckSameDType(a, b, op);
        if (!Shape.TryBroadcast(a.Shape, b.Shape, out Shape ab) || !Shape.TryBroadcast(condition.Shape, ab, out Shape shape))
            throw new ArgumentException($"{op}: cannot broadcast condition shape {condition.Shape}, a shape {a.Shape} and b shape {b.Shape} (trailing dimensions must be equal or 1)");

        var y = new Tensor(shape, a.DType);
        int n = shape.Numel;
        byte[] mask = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            DTypeSwitch.Number(condition.DType, new MaskKernel(condition, shape, mask.AsSpan(0, n)));
            DTypeSwitch.Number(a.DType, new SelectKernel(mask.AsSpan(0, n), a, b, y));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(mask);
        }
        if (GradMode.Records(a, b)) y.SetGradFn(new WhereNode(condition, a, b));
        return y;
    }

    /// <summary>mask = condition broadcast to <paramref name="shape"/>, != 0.</summary>
    private readonly ref struct MaskKernel(Tensor condition, Shape shape, Span<byte> mask) : INumberAction
    {
        private readonly Span<byte> _mask = mask;

        public void Run<T>() where T : unmanaged, INumber<T>
        {
            if (condition.IsContiguous && condition.Numel == shape.Numel)
            {
                IndexKernels.NonZero(condition.ReadOnlyElements<T>(), _mask);
                return;
            }
            T[] packed = ArrayPool<T>.Shared.Rent(_mask.Length);
            try
            {
                Span<int> strides = stackalloc int[shape.Rank];
                ElementwiseDispatch.BroadcastStrides(condition, shape, strides);
                Span<T> values = packed.AsSpan(0, _mask.Length);
                CopyKernel.Run(condition.Data<T>(), condition.Offset, strides, shape.Dims, values);
                IndexKernels.NonZero<T>(values, _mask);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(packed);
            }
        }
    }

    private readonly ref struct SelectKernel(ReadOnlySpan<byte> mask, Tensor a, Tensor b, Tensor y) : INumberAction
    {
        private readonly ReadOnlySpan<byte> _mask = mask;

        public void Run<T>() where T : unmanaged, INumber<T>
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
