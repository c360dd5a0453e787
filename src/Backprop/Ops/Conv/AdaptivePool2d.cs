using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>Checks shared by the adaptive pools: a float [N, C, H, W] input with non-empty planes and a positive output size.</summary>
internal static class AdaptivePool2dGeometry
{
    /// <summary>The output size, with a null entry meaning the input's size (PyTorch's None).</summary>
    /// <exception cref="ArgumentException">The dtype is not float, a plane is empty, or an output size is not positive.</exception>
    public static (int OH, int OW) Create(string op, Tensor x, (int? H, int? W) outputSize)
    {
        x.CheckFloat(op);
        int h = x.Shape[2], w = x.Shape[3];
        int oh = outputSize.H ?? h, ow = outputSize.W ?? w;
        if (oh <= 0 || ow <= 0)
            throw new ArgumentException($"{op}: output size must be positive, got ({oh}, {ow}) for input of shape {x.Shape}");
        if (h <= 0 || w <= 0)
            throw new ArgumentException($"{op}: expected non-empty planes (H, W > 0), got input of shape {x.Shape}");
        return (oh, ow);
    }
}

/// <summary>
/// Adaptive average pooling of [N, C, H, W] to [N, C, OH, OW]; window (i, j) covers rows
/// [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉) and the same for columns. Linear, so its backward is its adjoint op
/// (<see cref="AdaptiveAvgPool2dAdjointNode"/>) and it has derivatives of every order.
/// </summary>
internal sealed class AdaptiveAvgPool2dNode(Tensor x) : Node(x)
{
    private readonly Shape _inShape = x.Shape;

    public static Tensor Forward(Tensor x, int oh, int ow)
    {
        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        var y = Tensor.Uninitialized(new Shape(x.Shape[0], x.Shape[1], oh, ow), x.DType); // every window is written
        DTypeSwitch.Float(x.DType, new Kernel(xc, y, x.Shape[2], x.Shape[3], oh, ow));
        if (GradMode.Records(x)) y.SetGradFn(new AdaptiveAvgPool2dNode(x));
        return y;
    }

    // dy/dx[h, w] = Σ over the windows (i, j) containing (h, w) of 1/|window(i, j)|.
    protected internal override Tensor?[] Backward(Tensor dy) => [AdaptiveAvgPool2dAdjointNode.Forward(dy, _inShape)];

    private readonly struct Kernel(Tensor x, Tensor y, int h, int w, int oh, int ow) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => AdaptivePoolKernels.AvgForward(x.ReadOnlyElements<T>(), x.Shape[0] * x.Shape[1], h, w, oh, ow, y.Elements<T>());
    }
}

/// <summary>The adaptive average pool's gradient dx = Aᵀ·dy as a recorded op, so the pool has second derivatives.</summary>
internal sealed class AdaptiveAvgPool2dAdjointNode(Tensor dy) : Node(dy)
{
    private readonly int _oh = dy.Shape[2], _ow = dy.Shape[3];

    public static Tensor Forward(Tensor dy, Shape inShape)
    {
        Tensor dyc;
        using (GradMode.Disable()) dyc = dy.Contiguous();
        var dx = new Tensor(inShape, dy.DType); // zeros: windows add into it
        DTypeSwitch.Float(dy.DType, new Kernel(dyc, dx));
        if (GradMode.Records(dy)) dx.SetGradFn(new AdaptiveAvgPool2dAdjointNode(dy));
        return dx;
    }

    // Linear map Aᵀ; the adjoint of its derivative is A, the pool itself.
    protected internal override Tensor?[] Backward(Tensor ddx) => [AdaptiveAvgPool2dNode.Forward(ddx, _oh, _ow)];

    private readonly struct Kernel(Tensor dy, Tensor dx) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => AdaptivePoolKernels.AvgBackwardAdd(dy.ReadOnlyElements<T>(), dx.Shape[0] * dx.Shape[1], dx.Shape[2], dx.Shape[3],
                dy.Shape[2], dy.Shape[3], dx.Elements<T>());
    }
}

/// <summary>
/// Adaptive max pooling of [N, C, H, W] to [N, C, OH, OW] (windows as the average pool's). The argmax
/// of each window is recorded and the result is a <see cref="PlaneGatherNode"/>, so the backward routes
/// each gradient to its window's maximum exactly as MaxPool2d does (and is differentiable again).
/// </summary>
internal static class AdaptiveMaxPool2dOp
{
    public static Tensor Forward(Tensor x, int oh, int ow)
    {
        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        var outShape = new Shape(x.Shape[0], x.Shape[1], oh, ow);
        var y = Tensor.Uninitialized(outShape, x.DType); // every window is written
        Tensor idx = PlaneIndices.New(outShape.Numel);
        DTypeSwitch.Float(x.DType, new Kernel(xc, y, idx));
        if (GradMode.Records(x)) y.SetGradFn(new PlaneGatherNode(x, idx, "AdaptiveMaxPool2dBackward"));
        return y;
    }

    private readonly struct Kernel(Tensor x, Tensor y, Tensor idx) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => AdaptivePoolKernels.MaxForward(x.ReadOnlyElements<T>(), x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], y.Shape[2], y.Shape[3],
                y.Elements<T>(), PlaneIndices.Of(idx, y.Numel));
    }
}
