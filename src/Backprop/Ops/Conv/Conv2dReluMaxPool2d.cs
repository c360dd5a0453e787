using System.Numerics;
using System.Runtime.InteropServices;
using Backprop.Autograd;
using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// MaxPool2d(2)(ReLU(Conv2d(x))) as one op: the convolution output is pooled block by block as the
/// GEMMs produce it (<see cref="Conv2dDriver.ForwardReluMaxPool2{T}"/>) and never stored. Values and
/// gradients are those of the three ops run separately.
/// </summary>
internal sealed class Conv2dReluMaxPool2dNode : Node
{
    private readonly SavedTensor? _x, _w;
    private readonly SavedTensor _routes; // per pooled output, one byte: the winning tap, or masked by ReLU
    private readonly Conv2dShape _s;

    private Conv2dReluMaxPool2dNode(Tensor x, Tensor w, Tensor? b, Tensor xc, Tensor wc, Tensor routes, Conv2dShape s) : base(x, w, b)
    {
        _s = s;
        _routes = Save(routes);
        if (NeedsInputGrad(1)) _x = Save(xc);
        if (NeedsInputGrad(0)) _w = Save(wc);
    }

    /// <summary>Whether the fused op applies to an input of this shape: 4-D, with a convolution output of at least 2×2.</summary>
    public static bool Applies(Shape input, int kernelSize, int stride, int padding, int dilation)
        => input.Rank == 4
           && Window2d.OutputSize(input[2], kernelSize, stride, padding, dilation) >= 2
           && Window2d.OutputSize(input[3], kernelSize, stride, padding, dilation) >= 2;

    /// <summary><see cref="Applies(Shape, int, int, int, int)"/> with separate (height, width) arguments.</summary>
    public static bool Applies(Shape input, (int H, int W) kernelSize, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation)
        => input.Rank == 4
           && Window2d.OutputSize(input[2], kernelSize.H, stride.H, padding.H, dilation.H) >= 2
           && Window2d.OutputSize(input[3], kernelSize.W, stride.W, padding.W, dilation.W) >= 2;

    /// <summary>x [N, C, H, W], w [outC, C/groups, KH, KW], b [outC] or null; returns [N, outC, OH/2, OW/2].</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
    {
        Conv2dShape s = Conv2dNode.Validate(x, w, b, stride, padding, dilation, groups);
        Window2d g = s.Window;
        if (g.OH < 2 || g.OW < 2)
            throw new ArgumentException($"Conv2d + MaxPool2d(2): the convolution output ({g.OH}, {g.OW}) of input shape {x.Shape} is smaller than the 2×2 pooling window");
        var (xc, wc, bc) = Conv2dNode.Contiguous(x, w, b);
        var y = Tensor.Uninitialized(new Shape(s.N, s.OutC, g.OH / 2, g.OW / 2), x.DType); // the driver writes every element
        // The routes live in an int64 tensor (8 per element, at least one element so the span pins to a real address),
        // so the buffer pool takes them back with the rest of the graph.
        var routes = Tensor.Uninitialized(new Shape(Math.Max(1, (y.Shape.Numel + 7) / 8)), DType.Int64);
        DTypeSwitch.Float(x.DType, new ForwardKernel(s, xc, wc, bc, y, routes));
        if (GradMode.Records(x, w, b)) y.SetGradFn(new Conv2dReluMaxPool2dNode(x, w, b, xc, wc, routes, s));
        return y;
    }

    // With z = conv(x) and y = maxpool2(relu(z)): dz = dy at each window's winning tap where z > 0, else 0,
    // rebuilt block by block; then dx, dW, db of the convolution for dz (see Conv2dNode).
    // Runs kernels directly, so the backward itself is not differentiable.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Conv2dNode.CheckNoDoubleBackward();
        Tensor dyc = dy.Contiguous();
        var (dx, dw, db) = Conv2dNode.NewGrads(this, _s, dy.DType);
        Tensor? x = _x?.Value, w = _w?.Value;
        DTypeSwitch.Float(dy.DType, new BackwardKernel(_s, dyc, _routes.Value, x, w, dx, dw, db));
        return [dx, dw, db];
    }

    private readonly struct ForwardKernel(Conv2dShape s, Tensor x, Tensor w, Tensor? b, Tensor y, Tensor routes) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => Conv2dDriver.ForwardReluMaxPool2(s, x.ReadOnlyElements<T>(), w.ReadOnlyElements<T>(), Conv2dNode.Read<T>(b), y.Elements<T>(),
                MemoryMarshal.AsBytes(routes.Elements<long>()));
    }

    private readonly struct BackwardKernel(Conv2dShape s, Tensor dy, Tensor routes, Tensor? x, Tensor? w, Tensor? dx, Tensor? dw, Tensor? db) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => Conv2dDriver.BackwardReluMaxPool2(s, dy.ReadOnlyElements<T>(), MemoryMarshal.AsBytes(routes.ReadOnlyElements<long>()),
                Conv2dNode.Read<T>(x), Conv2dNode.Read<T>(w), Conv2dNode.Write<T>(dx), Conv2dNode.Write<T>(dw), Conv2dNode.Write<T>(db));
    }
}
