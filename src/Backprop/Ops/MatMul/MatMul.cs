using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Gemm;
using Backprop.Tensors;

namespace Backprop.Ops.MatMul;

/// <summary>
/// y = a·b for a [..., m, k] and b [..., k, n] (both rank ≥ 2), batch dims broadcast. Vector
/// cases are promoted to matrices by <see cref="Tensor.MatMul"/> before reaching this node.
/// </summary>
internal sealed class MatMulNode : Node
{
    private readonly SavedTensor? _a, _b;
    private readonly Shape _aShape, _bShape;

    private MatMulNode(Tensor a, Tensor b) : base(a, b)
    {
        _aShape = a.Shape;
        _bShape = b.Shape;
        if (NeedsInputGrad(0)) _b = Save(b);
        if (NeedsInputGrad(1)) _a = Save(a);
    }

    public static Tensor Forward(Tensor a, Tensor b)
    {
        Tensor y = Compute(a, b);
        if (GradMode.Records(a, b)) y.SetGradFn(new MatMulNode(a, b));
        return y;
    }

    // dA = dY·Bᵀ, dB = Aᵀ·dY; batch dims that were broadcast are summed back.
    // The transposes are views, which the forward hands to GEMM as transA/transB without copying.
    protected internal override Tensor?[] Backward(Tensor dy) =>
    [
        _b is null ? null : dy.MatMul(_b.Value.T()).SumToShape(_aShape),
        _a is null ? null : _a.Value.T().MatMul(dy).SumToShape(_bShape),
    ];

    /// <summary>The batched product, one GEMM per broadcast batch index.</summary>
    private static Tensor Compute(Tensor a, Tensor b)
    {
        int ra = a.Rank, rb = b.Rank;
        int m = a.Shape[ra - 2], k = a.Shape[ra - 1], n = b.Shape[rb - 1];
        Shape aBatch = new(a.Shape.Dims[..(ra - 2)]), bBatch = new(b.Shape.Dims[..(rb - 2)]);
        if (!Shape.TryBroadcast(aBatch, bBatch, out Shape batch))
            throw new ArgumentException($"MatMul: batch dimensions cannot be broadcast, {a.Shape} by {b.Shape} ({aBatch} vs {bBatch})");

        var dims = new int[batch.Rank + 2];
        batch.Dims.CopyTo(dims);
        dims[^2] = m;
        dims[^1] = n;
        var y = Tensor.Uninitialized(new Shape(dims), a.DType); // GEMM with beta = 0 writes every element, also for k = 0
        if (y.Numel == 0) return y;

        MatrixLayout la = MatrixLayout.Of(ref a), lb = MatrixLayout.Of(ref b);
        int count = batch.Numel;
        int[] aOffsets = BatchOffsets(a, batch), bOffsets = BatchOffsets(b, batch), cOffsets = new int[count];
        for (int i = 0; i < count; i++) cOffsets[i] = i * m * n;

        DTypeSwitch.Float(a.DType, new ProductKernel(a, b, y, la, lb, m, n, k, aOffsets, bOffsets, cOffsets));
        return y;
    }

    private readonly struct ProductKernel(Tensor a, Tensor b, Tensor y, MatrixLayout la, MatrixLayout lb, int m, int n, int k,
                                       int[] aOffsets, int[] bOffsets, int[] cOffsets) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (cOffsets.Length == 1)
                GemmKernel.Multiply(la.Trans, lb.Trans, m, n, k, T.One, a.Data<T>().AsSpan(aOffsets[0]), la.Ld,
                              b.Data<T>().AsSpan(bOffsets[0]), lb.Ld, T.Zero, y.Elements<T>(), n);
            else
                GemmKernel.MultiplyBatched(la.Trans, lb.Trans, m, n, k, T.One, a.Data<T>(), aOffsets, la.Ld,
                                     b.Data<T>(), bOffsets, lb.Ld, T.Zero, y.Data<T>(), cOffsets, n);
        }
    }

    /// <summary>Storage offset of x's matrix for every index of the (broadcast) batch shape, row-major.</summary>
    private static int[] BatchOffsets(Tensor x, Shape batch)
    {
        int count = batch.Numel, rank = batch.Rank, lead = rank - (x.Rank - 2);
        var strides = new int[rank];
        for (int d = lead; d < rank; d++)
            strides[d] = x.Shape[d - lead] == 1 ? 0 : x.Strides[d - lead];
        var offsets = new int[count];
        var index = new int[rank];
        int offset = x.Offset;
        for (int i = 0; i < count; i++)
        {
            offsets[i] = offset;
            for (int d = rank - 1; d >= 0; d--)
            {
                offset += strides[d];
                if (++index[d] < batch[d]) break;
                offset -= strides[d] * batch[d];
                index[d] = 0;
            }
        }
        return offsets;
    }
}
