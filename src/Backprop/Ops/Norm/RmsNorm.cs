using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Norm;
using Backprop.Tensors;

namespace Backprop.Ops.Norm;

/// <summary>
/// Root-mean-square normalisation over the trailing dims (torch 2.x <c>rms_norm</c>): y = x·rstd·w with
/// rstd = 1/√(mean(x²) + eps) per row; no centring and no bias. Forward is one fused kernel; the backward
/// is another, or tensor ops (so it has second derivatives) when it is recorded.
/// </summary>
internal sealed class RmsNormNode : Node
{
    private const string Op = "RmsNorm";
    private readonly SavedTensor _x;
    private readonly SavedTensor? _w;
    private readonly Tensor _rstd; // [rows], a fresh tensor owned by this node
    private readonly int[] _dims;
    private readonly int _count;
    private readonly double _eps;

    private RmsNormNode(Tensor x, Tensor? w, Tensor rstd, int[] dims, int count, double eps) : base(x, w)
    {
        _x = Save(x);
        if (w is not null) _w = Save(w);
        (_rstd, _dims, _count, _eps) = (rstd, dims, count, eps);
    }

    /// <summary>The eps used when none is given: the machine epsilon of the dtype, as torch.finfo(dtype).eps.</summary>
    public static double DefaultEps(DType dtype) => dtype == DType.Float64 ? Math.Pow(2, -52) : Math.Pow(2, -23);

    /// <exception cref="ArgumentException">normalizedShape does not match the trailing dims, or the weight's shape or dtype does not fit.</exception>
    public static Tensor Forward(Tensor x, int[] normalizedShape, Tensor? w, double? eps)
    {
        x.CheckFloat(Op);
        var norm = new Shape(normalizedShape);
        int k = normalizedShape.Length;
        bool matches = k >= 1 && k <= x.Rank;
        for (int i = 0; matches && i < k; i++) matches = x.Shape[x.Rank - k + i] == normalizedShape[i];
        if (!matches)
            throw new ArgumentException($"{Op}: normalizedShape {norm} must be non-empty and match the trailing dimensions of the input, but the input has shape {x.Shape}");
        if (w is not null)
        {
            Tensor.CheckSameDType(x, w, Op);
            if (w.Shape != norm)
                throw new ArgumentException($"{Op}: weight must have the normalized shape {norm}, got {w.Shape}");
        }
        double e = eps ?? DefaultEps(x.DType);
        if (!(e >= 0))
            throw new ArgumentException($"{Op}: eps must be non-negative, got {e}");
        int d = norm.Numel, rows = d == 0 ? 0 : x.Numel / d;
        var dims = new int[k];
        for (int i = 0; i < k; i++) dims[i] = x.Rank - k + i;
        Tensor xc, wc;
        using (GradMode.Disable())
        {
            xc = x.Contiguous();
            wc = w?.Contiguous()!;
        }
        var y = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
        var rstd = Tensor.Uninitialized(new Shape(rows), x.DType);
        DTypeSwitch.Float(x.DType, new ForwardKernel(xc, rows, d, wc, e, y, rstd));
        if (GradMode.Records(x, w)) y.SetGradFn(new RmsNormNode(x, w, rstd, dims, d, e));
        return y;
    }

    private readonly struct ForwardKernel(Tensor x, int rows, int d, Tensor? w, double eps, Tensor y, Tensor rstd) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => RmsNormKernels.Forward(x.ReadOnlyElements<T>(), rows, d, w is null ? default : w.ReadOnlyElements<T>(), T.CreateTruncating(eps),
                y.Elements<T>(), rstd.Elements<T>());
    }

    // x̂ = x·rstd, y = x̂·w, g = dy·w: dx = rstd·(g − x̂·mean(g·x̂)) (rstd depends on x through mean(x²)),
    // dw = Σ_rows dy·x̂. Recorded (createGraph): tensor ops with rstd rebuilt from x; otherwise one fused kernel.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (!GradMode.IsEnabled) return FusedBackward(dy);
        Tensor x = _x.Value;
        Tensor rstd = NormRsqrtNode.Forward((x * x).Sum(_dims, keepDim: true) / _count + _eps);
        Tensor xhat = x * rstd;
        Tensor? w = _w?.Value;
        Tensor? dx = null;
        if (NeedsInputGrad(0))
        {
            Tensor g = w is null ? dy : dy * w;
            dx = rstd * (g - xhat * ((g * xhat).Sum(_dims, keepDim: true) / _count));
        }
        return [dx, NeedsInputGrad(1) ? (dy * xhat).SumToShape(w!.Shape) : null];
    }

    private Tensor?[] FusedBackward(Tensor dy)
    {
        Tensor x = _x.Value.Contiguous(), dyc = dy.Contiguous();
        Tensor? w = _w?.Value.Contiguous();
        Tensor? dx = NeedsInputGrad(0) ? Tensor.Uninitialized(x.Shape, x.DType) : null; // the kernel writes every element
        Tensor? dw = NeedsInputGrad(1) ? NewInputGradient(1, w!.Shape, x.DType, clear: false) : null;
        DTypeSwitch.Float(x.DType, new BackwardKernel(dyc, x, _count, w, _rstd, dx, dw));
        return [dx, dw];
    }

    private readonly struct BackwardKernel(Tensor dy, Tensor x, int d, Tensor? w, Tensor rstd, Tensor? dx, Tensor? dw) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => RmsNormKernels.Backward<T>(dy.ReadOnlyElements<T>(), x.ReadOnlyElements<T>(), d == 0 ? 0 : x.Numel / d, d,
                w is null ? default : w.ReadOnlyElements<T>(), rstd.ReadOnlyElements<T>(),
                dx is null ? default : dx.Elements<T>(), dw is null ? default : dw.Elements<T>());
    }
}
