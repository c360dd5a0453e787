using System.Numerics;
using System.Runtime.InteropServices;
using Backprop.Autograd;
using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>Shape checks and output sizes shared by the 2-D pooling ops (PyTorch rules).</summary>
internal static class Pool2dGeometry
{
    /// <summary>Validates a 4-D input and the window parameters and returns the geometry.</summary>
    public static Window2d Create(string op, Tensor x, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding,
                                  (int H, int W) dilation, bool ceilMode)
    {
        x.CheckFloat(op);
        if (kernel.H <= 0 || kernel.W <= 0)
            throw new ArgumentException($"{op}: kernel size must be positive, got ({kernel.H}, {kernel.W})");
        if (stride.H <= 0 || stride.W <= 0)
            throw new ArgumentException($"{op}: stride must be positive, got ({stride.H}, {stride.W})");
        if (dilation.H <= 0 || dilation.W <= 0)
            throw new ArgumentException($"{op}: dilation must be positive, got ({dilation.H}, {dilation.W})");
        if (padding.H < 0 || padding.W < 0 || padding.H > kernel.H / 2 || padding.W > kernel.W / 2)
            throw new ArgumentException($"{op}: padding must be between 0 and half the kernel size, got padding ({padding.H}, {padding.W}) for kernel ({kernel.H}, {kernel.W})");
        int h = x.Shape[2], w = x.Shape[3];
        int oh = Window2d.OutputSize(h, kernel.H, stride.H, padding.H, dilation.H, ceilMode);
        int ow = Window2d.OutputSize(w, kernel.W, stride.W, padding.W, dilation.W, ceilMode);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"{op}: input of shape {x.Shape} is too small for kernel ({kernel.H}, {kernel.W}) with padding ({padding.H}, {padding.W}) and dilation ({dilation.H}, {dilation.W}): the output would be ({oh}, {ow})");
        return new Window2d(h, w, kernel.H, kernel.W, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, oh, ow);
    }
}

/// <summary>
/// The in-plane source index of every output element of a max pool (its argmax), one int each, held
/// two to an element of an int64 tensor so they come from the buffer pool and go back with the graph.
/// </summary>
internal static class PlaneIndices
{
    /// <summary>Room for <paramref name="count"/> indices; the caller writes every one.</summary>
    public static Tensor New(int count) => Tensor.Uninitialized(new Shape(Math.Max(1, (count + 1) / 2)), DType.Int64);

    /// <summary>The first <paramref name="count"/> indices held by <paramref name="indices"/>.</summary>
    public static Span<int> Of(Tensor indices, int count) => MemoryMarshal.Cast<long, int>(indices.Elements<long>())[..count];

    /// <summary>The indices as an int64 tensor of <paramref name="shape"/>, one per element (what max_pool2d returns).</summary>
    public static Tensor ToInt64(Tensor indices, Shape shape)
    {
        var result = Tensor.Uninitialized(shape, DType.Int64); // every element is written below
        ReadOnlySpan<int> src = Of(indices, shape.Numel);
        Span<long> dst = result.Elements<long>();
        for (int i = 0; i < src.Length; i++) dst[i] = src[i];
        return result;
    }

    /// <summary>
    /// User-given int64 indices into planes of <paramref name="plane"/> elements, checked and packed as <see cref="New"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An index lies outside [0, plane); the message names the op, the index and the shapes.</exception>
    public static Tensor FromInt64(Tensor indices, int plane, string op, Shape outShape)
    {
        Tensor c = indices.Contiguous();
        ReadOnlySpan<long> src = c.Elements<long>();
        Tensor packed = New(src.Length);
        Span<int> dst = Of(packed, src.Length);
        for (int i = 0; i < src.Length; i++)
        {
            long v = src[i];
            if ((ulong)v >= (ulong)plane)
                throw new ArgumentException($"{op}: found an invalid max index {v} at position {i} of indices of shape {indices.Shape}: indices must lie in [0, {plane}) for the output of shape {outShape}");
            dst[i] = (int)v;
        }
        return packed;
    }
}

/// <summary>
/// y[p, o] = x[p, idx[p, o]] for fixed in-plane indices: the forward of max pooling (idx = argmax)
/// and the adjoint of <see cref="PlaneScatterNode"/>.
/// </summary>
internal sealed class PlaneGatherNode(Tensor x, Tensor idx, string name) : Node(x)
{
    private readonly Shape _inShape = x.Shape;

    /// <summary>Max pooling of a contiguous-able [N, C, H, W] input; records the argmax indices.</summary>
    public static Tensor MaxPool(Tensor x, in Window2d g) => MaxPool(x, g, out _);

    /// <summary>Max pooling that also hands out the argmax indices (<see cref="PlaneIndices"/>, one per output element).</summary>
    public static Tensor MaxPool(Tensor x, in Window2d g, out Tensor indices)
    {
        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        int planes = x.Shape[0] * x.Shape[1];
        var outShape = new Shape(x.Shape[0], x.Shape[1], g.OH, g.OW);
        var y = new Tensor(outShape, x.DType);
        Tensor idx = PlaneIndices.New(outShape.Numel);
        DTypeSwitch.Float(x.DType, new MaxForwardKernel(xc, planes, g, y, idx));
        if (GradMode.Records(x)) y.SetGradFn(new PlaneGatherNode(x, idx, "MaxPool2dBackward"));
        indices = idx;
        return y;
    }

    /// <summary>Gathers x [N, C, H, W] at idx into [N, C, OH, OW].</summary>
    public static Tensor Forward(Tensor x, Tensor idx, Shape outShape)
    {
        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        int planes = outShape[0] * outShape[1], inPlane = x.Shape[2] * x.Shape[3], outPlane = outShape[2] * outShape[3];
        var y = new Tensor(outShape, x.DType);
        DTypeSwitch.Float(x.DType, new GatherKernel(xc, planes, inPlane, idx, outPlane, y));
        if (GradMode.Records(x)) y.SetGradFn(new PlaneGatherNode(x, idx, "PlaneGatherBackward"));
        return y;
    }

    // dy/dx[p, i] = Σ_o [idx[p, o] = i]: route each output gradient to its source pixel.
    protected internal override Tensor?[] Backward(Tensor dy) => [PlaneScatterNode.Forward(dy, idx, _inShape)];

    /// <summary>"MaxPool2dBackward" when it records a max pool.</summary>
    public override string Name => name;
}

/// <summary>dx[p, idx[p, o]] += dy[p, o]: the max-pool gradient, itself differentiable (its adjoint is the gather).</summary>
internal sealed class PlaneScatterNode(Tensor dy, Tensor idx, Shape outShape) : Node(dy)
{
    /// <summary>Scatters dy [N, C, OH, OW] into zeros of <paramref name="inShape"/> [N, C, H, W].</summary>
    public static Tensor Forward(Tensor dy, Tensor idx, Shape inShape)
    {
        Tensor dyc;
        using (GradMode.Disable()) dyc = dy.Contiguous();
        int planes = inShape[0] * inShape[1], inPlane = inShape[2] * inShape[3], outPlane = dy.Shape[2] * dy.Shape[3];
        var dx = new Tensor(inShape, dy.DType);
        DTypeSwitch.Float(dy.DType, new ScatterAddKernel(dyc, planes, outPlane, idx, inPlane, dx));
        if (GradMode.Records(dy)) dx.SetGradFn(new PlaneScatterNode(dy, idx, dy.Shape));
        return dx;
    }

    // The scatter is linear; its adjoint gathers at the same indices.
    protected internal override Tensor?[] Backward(Tensor ddx) => [PlaneGatherNode.Forward(ddx, idx, outShape)];
}

/// <summary>Average pooling over [N, C, H, W] (PyTorch divisor rules); linear, so its backward is its adjoint op.</summary>
internal sealed class AvgPool2dNode(Tensor x, Window2d g, bool countIncludePad, int divisorOverride) : Node(x)
{
    private readonly Shape _inShape = x.Shape;

    /// <summary>Average pooling; a nonzero <paramref name="divisorOverride"/> divides every window's sum instead of its size.</summary>
    public static Tensor Forward(Tensor x, Window2d g, bool countIncludePad, int divisorOverride = 0)
    {
        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        int planes = x.Shape[0] * x.Shape[1];
        var y = new Tensor(new Shape(x.Shape[0], x.Shape[1], g.OH, g.OW), x.DType);
        DTypeSwitch.Float(x.DType, new AvgForwardKernel(xc, planes, g, countIncludePad, divisorOverride, y));
        if (GradMode.Records(x)) y.SetGradFn(new AvgPool2dNode(x, g, countIncludePad, divisorOverride));
        return y;
    }

    // dy/dx[i] = Σ over windows o containing i of 1/divisor(o).
    protected internal override Tensor?[] Backward(Tensor dy) => [AvgPool2dAdjointNode.Forward(dy, g, countIncludePad, divisorOverride, _inShape)];
}

/// <summary>The average-pool gradient dx = Aᵀ·dy as a recorded op, so average pooling has second derivatives.</summary>
internal sealed class AvgPool2dAdjointNode(Tensor dy, Window2d g, bool countIncludePad, int divisorOverride) : Node(dy)
{
    public static Tensor Forward(Tensor dy, Window2d g, bool countIncludePad, int divisorOverride, Shape inShape)
    {
        Tensor dyc;
        using (GradMode.Disable()) dyc = dy.Contiguous();
        int planes = inShape[0] * inShape[1];
        var dx = new Tensor(inShape, dy.DType);
        DTypeSwitch.Float(dy.DType, new AvgBackwardAddKernel(dyc, planes, g, countIncludePad, divisorOverride, dx));
        if (GradMode.Records(dy)) dx.SetGradFn(new AvgPool2dAdjointNode(dy, g, countIncludePad, divisorOverride));
        return dx;
    }

    // Linear map Aᵀ; its derivative's adjoint is A, the average pool itself.
    protected internal override Tensor?[] Backward(Tensor ddx) => [AvgPool2dNode.Forward(ddx, g, countIncludePad, divisorOverride)];
}

/// <summary>The pooling kernels, written once for float and double (see <see cref="DTypeSwitch"/>).</summary>
file readonly struct MaxForwardKernel(Tensor x, int planes, Window2d g, Tensor y, Tensor idx) : IFloatAction
{
    public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => PlaneParallel.MaxForward(x.ReadOnlyElements<T>(), planes, g, y.Elements<T>(), PlaneIndices.Of(idx, y.Numel));
}

file readonly struct GatherKernel(Tensor x, int planes, int inPlane, Tensor idx, int outPlane, Tensor y) : IFloatAction
{
    public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => PoolKernels.Gather(x.ReadOnlyElements<T>(), planes, inPlane, PlaneIndices.Of(idx, y.Numel), outPlane, y.Elements<T>());
}

file readonly struct ScatterAddKernel(Tensor dy, int planes, int outPlane, Tensor idx, int inPlane, Tensor dx) : IFloatAction
{
    public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => PlaneParallel.ScatterAdd(dy.ReadOnlyElements<T>(), planes, outPlane, PlaneIndices.Of(idx, dy.Numel), inPlane, dx.Elements<T>());
}

file readonly struct AvgForwardKernel(Tensor x, int planes, Window2d g, bool countIncludePad, int divisorOverride, Tensor y) : IFloatAction
{
    public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => PoolKernels.AvgForward(x.ReadOnlyElements<T>(), planes, g, countIncludePad, divisorOverride, y.Elements<T>());
}

file readonly struct AvgBackwardAddKernel(Tensor dy, int planes, Window2d g, bool countIncludePad, int divisorOverride, Tensor dx) : IFloatAction
{
    public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => PoolKernels.AvgBackwardAdd(dy.ReadOnlyElements<T>(), planes, g, countIncludePad, divisorOverride, dx.Elements<T>());
}
