using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Ops.Indexing;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>
/// y = mask ? t : 0 (broadcasting), with a constant mask. The differentiable form of PyTorch's
/// where(cond, grad, 0) used by backward formulas: unlike t·mask, an inf or NaN in t is dropped.
/// The mask is a bool tensor (a comparison's result) or, for backward kernels that compute their
/// masks in t's dtype (clamp, tie weights, straight-through estimators), a tensor of t's dtype whose
/// nonzero elements keep t; that form runs the SIMD <see cref="KeepWhereOp{T}"/>.
/// </summary>
internal sealed class KeepWhereNode(Tensor t, Tensor mask) : Node(t)
{
    private readonly Shape _tShape = t.Shape;

    public static Tensor Forward(Tensor t, Tensor mask)
    {
        Tensor y = mask.DType == DType.Bool
            ? WhereNode.Select(mask.Detach(), t.Detach(), Tensor.Scalar(0, t.DType), "KeepWhere")
            : ElementwiseDispatch.Binary<VectorBinaryOp<float, KeepWhereOp<float>>, VectorBinaryOp<double, KeepWhereOp<double>>,
                VectorBinaryOp<long, KeepWhereOp<long>>>(t.Detach(), mask.Detach(), "KeepWhere");
        if (GradMode.Records(t)) y.SetGradFn(new KeepWhereNode(t, mask));
        return y;
    }

    // dy/dt = 1 where the mask is set, 0 elsewhere; the mask itself gets no gradient.
    protected internal override Tensor?[] Backward(Tensor dy) => [Forward(dy, mask).SumToShape(_tShape)];
}
