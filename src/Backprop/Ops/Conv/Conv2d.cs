using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// 2-D cross-correlation y[n, o] = b[o] + Σ_c w[o, c] ⋆ x[n, g·Cg + c] over groups, computed by
/// <see cref="Conv2dDriver"/> as one GEMM per (block of images, group):
/// y_g [Og, L] = W_g [Og, K] · im2col(x_g) [K, L], K = Cg·KH·KW, L = OH·OW.
/// </summary>
internal sealed class Conv2dNode : Node
{
    private readonly SavedTensor? _x, _w;
    private readonly Conv2dShape _s;

    private Conv2dNode(Tensor x, Tensor w, Tensor? b, Tensor xc, Tensor wc, Conv2dShape s) : base(x, w, b)
    {
        _s = s;
        if (NeedsInputGrad(1)) _x = Save(xc);
        if (NeedsInputGrad(0)) _w = Save(wc);
    }

    /// <summary>x [N, C, H, W], w [outC, C/groups, KH, KW], b [outC] or null; returns [N, outC, OH, OW].</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
    {
        Conv2dShape s = Validate(x, w, b, stride, padding, dilation, groups);
        var (xc, wc, bc) = Contiguous(x, w, b);
        var y = Tensor.Uninitialized(new Shape(s.N, s.OutC, s.Window.OH, s.Window.OW), x.DType); // the driver writes every element
        DTypeSwitch.Float(x.DType, new ForwardKernel(s, xc, wc, bc, y));
        if (GradMode.Records(x, w, b)) y.SetGradFn(new Conv2dNode(x, w, b, xc, wc, s));
        return y;
    }

    // dx_g = col2im(W_gᵀ · dy_g), dW_g = Σ_n dy_g · im2col(x_g)ᵀ, db[o] = Σ_{n, pixels} dy[n, o].
    // Runs kernels directly, so the backward itself is not differentiable.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        CheckNoDoubleBackward();
        Tensor dyc = dy.Contiguous();
        var (dx, dw, db) = NewGrads(this, _s, dy.DType);
        Tensor? x = _x?.Value, w = _w?.Value;
        DTypeSwitch.Float(dy.DType, new BackwardKernel(_s, dyc, x, w, dx, dw, db));
        return [dx, dw, db];
    }

    private readonly struct ForwardKernel(Conv2dShape s, Tensor x, Tensor w, Tensor? b, Tensor y) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => Conv2dDriver.Forward(s, x.ReadOnlyElements<T>(), w.ReadOnlyElements<T>(), Read<T>(b), y.Elements<T>());
    }

    private readonly struct BackwardKernel(Conv2dShape s, Tensor dy, Tensor? x, Tensor? w, Tensor? dx, Tensor? dw, Tensor? db) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => Conv2dDriver.Backward(s, dy.ReadOnlyElements<T>(), Read<T>(x), Read<T>(w), Write<T>(dx), Write<T>(dw), Write<T>(db));
    }

    /// <summary>Checks ranks, dtypes, channels, groups and window (PyTorch's rules) and returns the convolution's sizes.</summary>
    /// <exception cref="ArgumentException">Something does not fit; the message names the shapes.</exception>
    internal static Conv2dShape Validate(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
    {
        const string op = "Conv2d";
        if (x.Rank != 4)
            throw new ArgumentException($"{op}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {x.Shape}");
        if (w.Rank != 4)
            throw new ArgumentException($"{op}: expected a 4-D weight [outC, C/groups, kH, kW], got shape {w.Shape}");
        x.CheckFloat(op);
        Tensor.CheckSameDType(x, w, op);
        if (stride.H <= 0 || stride.W <= 0)
            throw new ArgumentException($"{op}: stride must be positive, got ({stride.H}, {stride.W})");
        if (padding.H < 0 || padding.W < 0)
            throw new ArgumentException($"{op}: padding must be non-negative, got ({padding.H}, {padding.W})");
        if (dilation.H <= 0 || dilation.W <= 0)
            throw new ArgumentException($"{op}: dilation must be positive, got ({dilation.H}, {dilation.W})");
        if (groups <= 0)
            throw new ArgumentException($"{op}: groups must be positive, got {groups}");
        int c = x.Shape[1], outC = w.Shape[0];
        if (outC % groups != 0)
            throw new ArgumentException($"{op}: groups={groups} must divide the output channels, but weight of shape {w.Shape} has {outC}");
        if (c % groups != 0)
            throw new ArgumentException($"{op}: groups={groups} must divide the input channels, but input of shape {x.Shape} has {c}");
        if (w.Shape[1] * groups != c)
            throw new ArgumentException($"{op}: input of shape {x.Shape} has {c} channels, but weight of shape {w.Shape} with groups={groups} expects {w.Shape[1] * groups} (weight.Size(1) × groups)");
        if (b is not null)
        {
            Tensor.CheckSameDType(x, b, op);
            if (b.Rank != 1 || b.Shape[0] != outC)
                throw new ArgumentException($"{op}: bias must have shape [{outC}] to match weight of shape {w.Shape}, got {b.Shape}");
        }
        int h = x.Shape[2], wd = x.Shape[3], kh = w.Shape[2], kw = w.Shape[3];
        int oh = Window2d.OutputSize(h, kh, stride.H, padding.H, dilation.H), ow = Window2d.OutputSize(wd, kw, stride.W, padding.W, dilation.W);
        if (oh < 1 || ow < 1)
        {
            int effH = dilation.H * (kh - 1) + 1, effW = dilation.W * (kw - 1) + 1;
            throw new ArgumentException($"{op}: kernel of size ({kh}, {kw}) with dilation ({dilation.H}, {dilation.W}) spans ({effH}, {effW}), larger than the padded input ({h + 2 * padding.H}, {wd + 2 * padding.W}) of input shape {x.Shape} with padding ({padding.H}, {padding.W})");
        }
        var window = new Window2d(h, wd, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, oh, ow);
        return new Conv2dShape(x.Shape[0], c, outC, groups, window);
    }

    /// <summary>Contiguous x, w and b (b null stays null), made outside the graph.</summary>
    internal static (Tensor X, Tensor W, Tensor? B) Contiguous(Tensor x, Tensor w, Tensor? b)
    {
        using (GradMode.Disable())
            return (x.Contiguous(), w.Contiguous(), b?.Contiguous());
    }

    /// <summary>Zero gradients for the inputs of <paramref name="node"/> that need one: dx [N, C, H, W], dw [OutC, C/groups, KH, KW], db [OutC].</summary>
    internal static (Tensor? Dx, Tensor? Dw, Tensor? Db) NewGrads(Node node, in Conv2dShape s, DType dtype)
    {
        Window2d g = s.Window;
        Tensor? dx = node.NeedsInputGrad(0) ? new Tensor(new Shape(s.N, s.C, g.H, g.W), dtype) : null;
        Tensor? dw = node.NeedsInputGrad(1) ? node.NewInputGradient(1, new Shape(s.OutC, s.C / s.Groups, g.KH, g.KW), dtype, clear: true) : null;
        Tensor? db = node.NeedsInputGrad(2) ? node.NewInputGradient(2, new Shape(s.OutC), dtype, clear: true) : null;
        return (dx, dw, db);
    }

    /// <summary>Throws when asked for a graph of the backward (createGraph), which the drivers cannot record.</summary>
    internal static void CheckNoDoubleBackward()
    {
        if (GradMode.IsEnabled)
            throw new NotSupportedException("Conv2d: double backward is not supported yet");
    }

    /// <summary>The elements of a contiguous tensor, or an empty span for null (the driver's "absent").</summary>
    internal static ReadOnlySpan<T> Read<T>(Tensor? t) where T : unmanaged => t is null ? default : t.ReadOnlyElements<T>();

    /// <inheritdoc cref="Read{T}(Tensor?)"/>
    internal static Span<T> Write<T>(Tensor? t) where T : unmanaged => t is null ? default : t.Elements<T>();
}
