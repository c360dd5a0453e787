using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Norm;
using Backprop.Tensors;

namespace Backprop.Ops.Norm;

/// <summary>
/// Layer normalisation over the trailing dims: y = (x − mean)·rstd·w + b, statistics per row
/// (biased variance). Forward is one fused kernel; backward uses tensor ops, so it has second derivatives.
/// </summary>
internal sealed class LayerNormNode : Node
{
    private readonly SavedTensor _x;
    private readonly SavedTensor? _w;
    private readonly Tensor _mean, _rstd; // [leading..., 1, ..., 1], fresh tensors owned by this node
    private readonly int[] _dims;
    private readonly int _count;
    private readonly double _eps;
    private readonly Shape? _wShape, _bShape;

    private LayerNormNode(Tensor x, Tensor? w, Tensor? b, Tensor mean, Tensor rstd, int[] dims, int count, double eps) : base(x, w, b)
    {
        _x = Save(x);
        if (w is not null) _w = Save(w);
        _mean = mean;
        _rstd = rstd;
        _dims = dims;
        _count = count;
        _eps = eps;
        _wShape = w?.Shape;
        _bShape = b?.Shape;
    }

    public static Tensor Forward(Tensor x, int[] normalizedShape, Tensor? w, Tensor? b, double eps)
    {
        const string op = "LayerNorm";
        x.CheckFloat(op);
        var norm = new Shape(normalizedShape);
        int k = normalizedShape.Length;
        bool matches = k >= 1 && k <= x.Rank;
        for (int i = 0; matches && i < k; i++) matches = x.Shape[x.Rank - k + i] == normalizedShape[i];
        if (!matches)
            throw new ArgumentException($"{op}: normalizedShape {norm} must be non-empty and match the trailing dimensions of the input, but the input has shape {x.Shape}");
        foreach ((Tensor? t, string name) in new[] { (w, "weight"), (b, "bias") })
        {
            if (t is null) continue;
            Tensor.CheckSameDType(x, t, op);
            if (t.Shape != norm)
                throw new ArgumentException($"{op}: {name} must have the normalized shape {norm}, got {t.Shape}");
        }
        int d = norm.Numel, rows = d == 0 ? 0 : x.Numel / d;
        var dims = new int[k];
        var statDims = x.Shape.ToArray();
        for (int i = 0; i < k; i++)
        {
            dims[i] = x.Rank - k + i;
            statDims[x.Rank - k + i] = 1;
        }
        Tensor xc, wc, bc;
        using (GradMode.Disable())
        {
            xc = x.Contiguous();
            wc = w?.Contiguous()!;
            bc = b?.Contiguous()!;
        }
        var y = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
        var mean = Tensor.Uninitialized(new Shape(statDims), x.DType);
        var rstd = Tensor.Uninitialized(new Shape(statDims), x.DType);
        DTypeSwitch.Float(x.DType, new ForwardKernel(xc, rows, d, wc, bc, eps, y, mean, rstd));
        if (GradMode.Records(x, w, b)) y.SetGradFn(new LayerNormNode(x, w, b, mean, rstd, dims, d, eps));
        return y;
    }

    private readonly struct ForwardKernel(Tensor x, int rows, int d, Tensor? w, Tensor? b, double eps, Tensor y, Tensor mean, Tensor rstd) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => NormKernels.LayerNormRows(x.ReadOnlyElements<T>(), rows, d, w is null ? default : w.ReadOnlyElements<T>(),
                b is null ? default : b.ReadOnlyElements<T>(), T.CreateTruncating(eps), y.Elements<T>(), mean.Elements<T>(), rstd.Elements<T>());
    }

    // x̂ = (x − mean)·rstd, y = x̂·w + b:
    // dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w, dw = Σ_rows dy·x̂, db = Σ_rows dy.
    // When the backward is recorded, mean and rstd are rebuilt from x so their dependence on x is tracked.
    // Unrecorded backwards (the common case) run the same formula as one fused kernel.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (!GradMode.IsEnabled) return FusedBackward(dy);
        Tensor x = _x.Value;
        (Tensor mean, Tensor rstd) = NormGrad.Stats(x, _dims, _count, _eps);
        Tensor xhat = (x - mean) * rstd;
        Tensor? w = _w?.Value;
        return
        [
            NeedsInputGrad(0) ? NormGrad.InputGrad(w is null ? dy : dy * w, xhat, rstd, _dims, _count) : null,
            NeedsInputGrad(1) ? (dy * xhat).SumToShape(_wShape!) : null,
            NeedsInputGrad(2) ? dy.SumToShape(_bShape!) : null,
        ];
    }

    private Tensor?[] FusedBackward(Tensor dy)
    {
        Tensor x = _x.Value.Contiguous(), dyc = dy.Contiguous();
        Tensor? w = _w?.Value.Contiguous();
        Tensor? dx = NeedsInputGrad(0) ? Tensor.Uninitialized(x.Shape, x.DType) : null; // the kernel writes every element
        Tensor? dw = NeedsInputGrad(1) ? Tensor.Uninitialized(_wShape!, x.DType) : null;
        Tensor? db = NeedsInputGrad(2) ? Tensor.Uninitialized(_bShape!, x.DType) : null;
        DTypeSwitch.Float(x.DType, new BackwardKernel(dyc, x, w, _mean, _rstd, _count, dx, dw, db));
        return [dx, dw, db];
    }

    private readonly struct BackwardKernel(Tensor dy, Tensor x, Tensor? w, Tensor mean, Tensor rstd, int d, Tensor? dx, Tensor? dw, Tensor? db)
        : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => NormKernels.LayerNormBackwardRows<T>(dy.ReadOnlyElements<T>(), x.ReadOnlyElements<T>(), d == 0 ? 0 : x.Numel / d, d,
                w is null ? default : w.ReadOnlyElements<T>(), mean.ReadOnlyElements<T>(), rstd.ReadOnlyElements<T>(),
                dx is null ? default : dx.Elements<T>(), dw is null ? default : dw.Elements<T>(), db is null ? default : db.Elements<T>());
    }
}
