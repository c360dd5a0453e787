using Backprop.Autograd;
using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// Max unpooling (torch.nn.functional.max_unpool2d): y[n, c] is zero except y[n, c, idx[n, c, o]] = x[n, c, o],
/// the inverse of a max pool given the indices it returned. Where two inputs name one position the later one is
/// kept (PyTorch leaves which one unspecified). The backward gathers dy at the indices, so such inputs each get the
/// position's gradient, as in PyTorch (with distinct indices, as a max pool without overlapping windows gives, it is the exact adjoint).
/// </summary>
internal sealed class MaxUnpool2dNode(Tensor x, Tensor idx) : Node(x)
{
    private readonly Shape _inShape = x.Shape;

    /// <summary>x [N, C, H, W] and int64 indices of the same shape into planes of <paramref name="outH"/> × <paramref name="outW"/>.</summary>
    /// <exception cref="ArgumentException">The indices' shape or dtype differs from the input's, or an index is outside the output plane.</exception>
    public static Tensor Forward(Tensor x, Tensor indices, int outH, int outW, string op)
    {
        x.CheckFloat(op);
        if (indices.DType != DType.Int64)
            throw new ArgumentException($"{op}: expected int64 indices (as MaxPool2dWithIndices returns), got {indices.DType.Name()} of shape {indices.Shape}");
        if (indices.Shape != x.Shape)
            throw new ArgumentException($"{op}: indices of shape {indices.Shape} must have the input's shape {x.Shape}");
        var outShape = new Shape(x.Shape[0], x.Shape[1], outH, outW);
        int plane = outH * outW, inPlane = x.Shape[2] * x.Shape[3], planes = x.Shape[0] * x.Shape[1];
        Tensor idx = PlaneIndices.FromInt64(indices, plane, op, outShape);
        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        var y = new Tensor(outShape, x.DType); // zeros where no index points
        DTypeSwitch.Float(x.DType, new Kernel(xc, planes, inPlane, idx, plane, y));
        if (GradMode.Records(x)) y.SetGradFn(new MaxUnpool2dNode(x, idx));
        return y;
    }

    // dy/dx[p, o] = 1 at y[p, idx[p, o]]: gather the output gradient at the indices (a differentiable gather).
    protected internal override Tensor?[] Backward(Tensor dy) => [PlaneGatherNode.Forward(dy, idx, _inShape)];

    private readonly struct Kernel(Tensor x, int planes, int inPlane, Tensor idx, int outPlane, Tensor y) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
            => PoolKernels.ScatterAssign(x.ReadOnlyElements<T>(), planes, inPlane, PlaneIndices.Of(idx, x.Numel), outPlane, y.Elements<T>());
    }
}
