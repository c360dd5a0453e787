using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Norm;
using Backprop.Tensors;

namespace Backprop.Ops.Norm;

/// <summary>
/// Group normalisation of [N, C, *]: the C channels form G groups of C/G, each (sample, group) is
/// normalised by its own mean and biased variance over its C/G channels and every position, then
/// y = x̂·w[c] + b[c] per channel. Forward is one fused kernel; the backward is another, or tensor
/// ops (so it has second derivatives) when it is recorded.
/// </summary>
internal sealed class GroupNormNode : Node
{
    private const string Op = "GroupNorm";
    private readonly SavedTensor _x;
    private readonly SavedTensor? _w;
    private readonly Tensor _mean, _rstd; // [N, G], fresh tensors owned by this node
    private readonly int _groups;
    private readonly double _eps;

    private GroupNormNode(Tensor x, Tensor? w, Tensor? b, Tensor mean, Tensor rstd, int groups, double eps) : base(x, w, b)
    {
        _x = Save(x);
        if (w is not null) _w = Save(w);
        (_mean, _rstd, _groups, _eps) = (mean, rstd, groups, eps);
    }

    /// <exception cref="ArgumentException">The rank, dtypes, group count or parameter shapes do not fit.</exception>
    public static Tensor Forward(Tensor x, int groups, Tensor? w, Tensor? b, double eps)
    {
        if (x.Rank < 2)
            throw new ArgumentException($"{Op}: expected an input of shape [N, C, *] (at least 2 dims), got shape {x.Shape}");
        x.CheckFloat(Op);
        int n = x.Shape[0], c = x.Shape[1];
        if (groups <= 0 || c % groups != 0)
            throw new ArgumentException($"{Op}: the number of groups ({groups}) must be positive and divide the channels, but input of shape {x.Shape} has {c}");
        foreach ((Tensor? t, string name) in new[] { (w, "weight"), (b, "bias") })
        {
            if (t is null) continue;
            Tensor.CheckSameDType(x, t, Op);
            if (t.Rank != 1 || t.Shape[0] != c)
                throw new ArgumentException($"{Op}: expected {name} to be a vector of size equal to the number of channels in input, but got {name} of shape {t.Shape} and input of shape {x.Shape}");
        }
        int s = n * c == 0 ? 0 : x.Numel / (n * c);
        Tensor xc, wc, bc;
        using (GradMode.Disable())
        {
            xc = x.Contiguous();
            wc = w?.Contiguous()!;
            bc = b?.Contiguous()!;
        }
        var y = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
        var mean = Tensor.Uninitialized(new Shape(n, groups), x.DType);
        var rstd = Tensor.Uninitialized(new Shape(n, groups), x.DType);
        DTypeSwitch.Float(x.DType, new ForwardKernel(xc, n, c, s, groups, wc, bc, eps, y, mean, rstd));
        if (GradMode.Records(x, w, b)) y.SetGradFn(new GroupNormNode(x, w, b, mean, rstd, groups, eps));
        return y;
    }

    private readonly struct ForwardKernel(Tensor x, int n, int c, int s, int groups, Tensor? w, Tensor? b, double eps, Tensor y, Tensor mean, Tensor rstd)
        : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => GroupNormKernels.Forward(x.ReadOnlyElements<T>(), n, c, s, groups, w is null ? default : w.ReadOnlyElements<T>(),
                b is null ? default : b.ReadOnlyElements<T>(), T.CreateTruncating(eps), y.Elements<T>(), mean.Elements<T>(), rstd.Elements<T>());
    }

    // Per (sample, group) row of d = (C/G)·S elements, x̂ = (x − mean)·rstd, y = x̂·w[c] + b[c], g = dy·w[c]:
    // dx = rstd·(g − mean_row(g) − x̂·mean_row(g·x̂)), dw[c] = Σ_{n, s} dy·x̂, db[c] = Σ_{n, s} dy.
    // Recorded (createGraph): the same formula with tensor ops on x viewed as [N, G, d], the statistics
    // rebuilt from x so their dependence on x is tracked. Otherwise one fused kernel.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (!GradMode.IsEnabled) return FusedBackward(dy);
        Tensor x = _x.Value;
        int n = x.Shape[0], c = x.Shape[1], d = n * _groups == 0 ? 0 : x.Numel / (n * _groups);
        int[] perChannel = new int[x.Rank], notChannel = new int[x.Rank - 1];
        Array.Fill(perChannel, 1);
        perChannel[1] = c;
        for (int i = 2; i < x.Rank; i++) notChannel[i - 1] = i; // every dim but the channel
        Tensor xr = x.Reshape(n, _groups, d); // [N, C, *] -> [N, G, d]
        (Tensor mean, Tensor rstd) = NormGrad.Stats(xr, [2], d, _eps);
        Tensor xhat = ((xr - mean) * rstd).Reshape(x.Shape.ToArray());
        Tensor? w = _w?.Value.Reshape(perChannel); // [C] -> [1, C, 1, ...]
        Tensor? dx = null;
        if (NeedsInputGrad(0))
        {
            Tensor g = (w is null ? dy : dy * w).Reshape(n, _groups, d);
            dx = NormGrad.InputGrad(g, xhat.Reshape(n, _groups, d), rstd, [2], d).Reshape(x.Shape.ToArray());
        }
        return
        [
            dx,
            NeedsInputGrad(1) ? (dy * xhat).Sum(notChannel) : null,
            NeedsInputGrad(2) ? dy.Sum(notChannel) : null,
        ];
    }

    private Tensor?[] FusedBackward(Tensor dy)
    {
        Tensor x = _x.Value.Contiguous(), dyc = dy.Contiguous();
        Tensor? w = _w?.Value.Contiguous();
        int n = x.Shape[0], c = x.Shape[1], s = n * c == 0 ? 0 : x.Numel / (n * c);
        Tensor? dx = NeedsInputGrad(0) ? Tensor.Uninitialized(x.Shape, x.DType) : null; // the kernel writes every element
        Tensor? dw = NeedsInputGrad(1) ? NewInputGradient(1, new Shape(c), x.DType, clear: false) : null;
        Tensor? db = NeedsInputGrad(2) ? NewInputGradient(2, new Shape(c), x.DType, clear: false) : null;
        DTypeSwitch.Float(x.DType, new BackwardKernel(dyc, x, n, c, s, _groups, w, _mean, _rstd, dx, dw, db));
        return [dx, dw, db];
    }

    private readonly struct BackwardKernel(Tensor dy, Tensor x, int n, int c, int s, int groups, Tensor? w, Tensor mean, Tensor rstd,
                                           Tensor? dx, Tensor? dw, Tensor? db) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => GroupNormKernels.Backward<T>(dy.ReadOnlyElements<T>(), x.ReadOnlyElements<T>(), n, c, s, groups,
                w is null ? default : w.ReadOnlyElements<T>(), mean.ReadOnlyElements<T>(), rstd.ReadOnlyElements<T>(),
                dx is null ? default : dx.Elements<T>(), dw is null ? default : dw.Elements<T>(), db is null ? default : db.Elements<T>());
    }
}
