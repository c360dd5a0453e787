using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Autograd;
using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// 2-D transposed convolution ("deconvolution"), the adjoint of <see cref="Conv2dNode"/> in its input:
/// x [N, Cin, H, W], w [Cin, Cout/groups, KH, KW] (PyTorch's layout), b [Cout], y [N, Cout, OH, OW] with
/// OH = (H − 1)·stride − 2·padding + dilation·(KH − 1) + outputPadding + 1.
/// <para>
/// Seen from the convolution z [N, Cout, OH, OW] ↦ [N, Cin, H, W] with weight w (its [outC, C/groups, …]
/// is exactly [Cin, Cout/groups, …]), the forward is that convolution's input gradient for dy = x, and
/// the backward is its forward (dx = conv(dy, w)) plus its weight gradient (dw = Σ x_g·im2col(dy_g)ᵀ):
/// both run on <see cref="Conv2dDriver"/>, with its GEMMs and threads. The extra outputPadding rows and
/// columns are positions no window of the convolution reaches, so they hold the bias alone.
/// </para>
/// </summary>
internal sealed class ConvTranspose2dNode : Node
{
    private const string Op = "ConvTranspose2d";
    private readonly SavedTensor? _x, _w;
    private readonly Conv2dShape _s; // the adjoint convolution: input [N, Cout, OH, OW], output [N, Cin, H, W]

    private ConvTranspose2dNode(Tensor x, Tensor w, Tensor? b, Tensor xc, Tensor wc, Conv2dShape s) : base(x, w, b)
    {
        _s = s;
        if (NeedsInputGrad(1)) _x = Save(xc);
        if (NeedsInputGrad(0)) _w = Save(wc);
    }

    /// <summary>x [N, Cin, H, W], w [Cin, Cout/groups, KH, KW], b [Cout] or null; returns [N, Cout, OH, OW].</summary>
    /// <exception cref="ArgumentException">Something does not fit; the message names the shapes.</exception>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) outputPadding,
                                 (int H, int W) dilation, int groups)
    {
        Conv2dShape s = Validate(x, w, b, stride, padding, outputPadding, dilation, groups);
        var (xc, wc, bc) = Conv2dNode.Contiguous(x, w, b);
        Window2d g = s.Window;
        var y = new Tensor(new Shape(s.N, s.C, g.H, g.W), x.DType); // zeros: the driver adds into it
        DTypeSwitch.Float(x.DType, new ForwardKernel(s, xc, wc, bc, y));
        if (GradMode.Records(x, w, b)) y.SetGradFn(new ConvTranspose2dNode(x, w, b, xc, wc, s));
        return y;
    }

    // With C the convolution of the class summary (y = Cᵀ_w x + b):
    // dx = C_w dy (a convolution of dy), dw[ci, co, ·] = Σ_n x[n, ci] ⋆ dy[n, co] (the convolution's weight
    // gradient with the roles of input and output gradient swapped), db[co] = Σ_{n, pixels} dy[n, co].
    // Runs kernels directly, so the backward itself is not differentiable.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (GradMode.IsEnabled)
            throw new NotSupportedException($"{Op}: double backward is not supported yet");
        Tensor dyc = dy.Contiguous();
        Window2d g = _s.Window;
        Tensor? dx = NeedsInputGrad(0) ? Tensor.Uninitialized(new Shape(_s.N, _s.OutC, g.OH, g.OW), dy.DType) : null; // the forward driver writes every element
        Tensor? dw = NeedsInputGrad(1) ? NewInputGradient(1, new Shape(_s.OutC, _s.C / _s.Groups, g.KH, g.KW), dy.DType, clear: false) : null; // overwritten
        Tensor? db = NeedsInputGrad(2) ? NewInputGradient(2, new Shape(_s.C), dy.DType, clear: true) : null;
        DTypeSwitch.Float(dy.DType, new BackwardKernel(_s, dyc, _x?.Value, _w?.Value, dx, dw, db));
        return [dx, dw, db];
    }

    private readonly struct ForwardKernel(Conv2dShape s, Tensor x, Tensor w, Tensor? b, Tensor y) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Span<T> ys = y.Elements<T>();
            // y += Cᵀ_w x: the convolution's input gradient for its output gradient x
            Conv2dDriver.Backward<T>(s, x.ReadOnlyElements<T>(), default, w.ReadOnlyElements<T>(), ys, default, default);
            if (b is null) return;
            ReadOnlySpan<T> bs = b.ReadOnlyElements<T>();
            int plane = s.Window.H * s.Window.W;
            for (int i = 0; i < s.N; i++)
                for (int c = 0; c < s.C; c++)
                {
                    Span<T> p = ys.Slice((i * s.C + c) * plane, plane);
                    TensorPrimitives.Add(p, bs[c], p);
                }
        }
    }

    private readonly struct BackwardKernel(Conv2dShape s, Tensor dy, Tensor? x, Tensor? w, Tensor? dx, Tensor? dw, Tensor? db) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> dys = dy.ReadOnlyElements<T>();
            if (dx is not null) Conv2dDriver.Forward<T>(s, dys, w!.ReadOnlyElements<T>(), default, dx.Elements<T>());
            if (dw is not null) Conv2dDriver.Backward<T>(s, x!.ReadOnlyElements<T>(), dys, default, default, dw.Elements<T>(), default);
            if (db is null) return;
            Span<T> dbs = db.Elements<T>();
            int plane = s.Window.H * s.Window.W;
            for (int i = 0; i < s.N; i++)
                for (int c = 0; c < s.C; c++)
                    dbs[c] += TensorPrimitives.Sum(dys.Slice((i * s.C + c) * plane, plane));
        }
    }

    /// <summary>Output size of one dim: (size − 1)·stride − 2·padding + dilation·(kernel − 1) + outputPadding + 1.</summary>
    public static int OutputSize(int size, int kernel, int stride, int padding, int outputPadding, int dilation)
        => (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;

    /// <summary>Checks ranks, dtypes, channels, groups and sizes (PyTorch's rules) and returns the adjoint convolution's sizes.</summary>
    /// <exception cref="ArgumentException">Something does not fit; the message names the shapes.</exception>
    internal static Conv2dShape Validate(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) outputPadding,
                                         (int H, int W) dilation, int groups)
    {
        if (x.Rank != 4)
            throw new ArgumentException($"{Op}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {x.Shape}");
        if (w.Rank != 4)
            throw new ArgumentException($"{Op}: expected a 4-D weight [inC, outC/groups, kH, kW], got shape {w.Shape}");
        x.CheckFloat(Op);
        Tensor.CheckSameDType(x, w, Op);
        if (stride.H <= 0 || stride.W <= 0)
            throw new ArgumentException($"{Op}: stride must be positive, got ({stride.H}, {stride.W})");
        if (padding.H < 0 || padding.W < 0)
            throw new ArgumentException($"{Op}: padding must be non-negative, got ({padding.H}, {padding.W})");
        if (dilation.H <= 0 || dilation.W <= 0)
            throw new ArgumentException($"{Op}: dilation must be positive, got ({dilation.H}, {dilation.W})");
        if (outputPadding.H < 0 || outputPadding.W < 0
            || outputPadding.H >= stride.H && outputPadding.H >= dilation.H || outputPadding.W >= stride.W && outputPadding.W >= dilation.W)
            throw new ArgumentException($"{Op}: output padding must be non-negative and smaller than either stride or dilation, got outputPadding ({outputPadding.H}, {outputPadding.W}), stride ({stride.H}, {stride.W}), dilation ({dilation.H}, {dilation.W})");
        if (groups <= 0)
            throw new ArgumentException($"{Op}: groups must be positive, got {groups}");
        int cin = x.Shape[1];
        if (w.Shape[0] != cin)
            throw new ArgumentException($"{Op}: input of shape {x.Shape} has {cin} channels, but weight of shape {w.Shape} expects {w.Shape[0]} (weight.Size(0))");
        if (cin % groups != 0)
            throw new ArgumentException($"{Op}: groups={groups} must divide the input channels, but input of shape {x.Shape} has {cin}");
        int cout = w.Shape[1] * groups;
        if (b is not null)
        {
            Tensor.CheckSameDType(x, b, Op);
            if (b.Rank != 1 || b.Shape[0] != cout)
                throw new ArgumentException($"{Op}: bias must have shape [{cout}] (weight.Size(1) × groups) to match weight of shape {w.Shape} with groups={groups}, got {b.Shape}");
        }
        int h = x.Shape[2], wd = x.Shape[3], kh = w.Shape[2], kw = w.Shape[3];
        int oh = OutputSize(h, kh, stride.H, padding.H, outputPadding.H, dilation.H);
        int ow = OutputSize(wd, kw, stride.W, padding.W, outputPadding.W, dilation.W);
        if (oh < 1 || ow < 1 || kh < 1 || kw < 1)
            throw new ArgumentException($"{Op}: input of shape {x.Shape} with weight of shape {w.Shape}, stride ({stride.H}, {stride.W}), padding ({padding.H}, {padding.W}), outputPadding ({outputPadding.H}, {outputPadding.W}) and dilation ({dilation.H}, {dilation.W}) gives an empty output ({oh}, {ow})");
        // The adjoint convolution reads [N, Cout, OH, OW] and writes [N, Cin, H, W]: its output size is H by construction
        // (explicit here, since outputPadding ≥ stride, allowed when below the dilation, would make the formula give more).
        var window = new Window2d(oh, ow, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, h, wd);
        return new Conv2dShape(x.Shape[0], cout, cin, groups, window);
    }
}
