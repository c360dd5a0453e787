using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Norm;
using Backprop.Tensors;

namespace Backprop.Ops.Norm;

/// <summary>
/// Batch normalisation of [N, C] or [N, C, *] per channel: y = (x − mean)·rstd·w + b. Training uses
/// the batch statistics (biased variance) and updates the running ones (unbiased variance); eval
/// uses the running statistics. Forward is a fused kernel; backward uses tensor ops.
/// </summary>
internal sealed class BatchNormNode : Node
{
    private readonly SavedTensor _x;
    private readonly SavedTensor? _w;
    private readonly Tensor _mean, _rstd; // [1, C, 1, ...], fresh tensors owned by this node
    private readonly int[] _dims, _statShape;
    private readonly int _count;
    private readonly double _eps;
    private readonly bool _training;

    private BatchNormNode(Tensor x, Tensor? w, Tensor? b, Tensor mean, Tensor rstd, int[] dims, int[] statShape, int count, double eps, bool training)
        : base(x, w, b)
    {
        _x = Save(x);
        if (w is not null) _w = Save(w);
        (_mean, _rstd, _dims, _statShape, _count, _eps, _training) = (mean, rstd, dims, statShape, count, eps, training);
    }

    public static Tensor Forward(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? w, Tensor? b, bool training, double momentum, double eps)
    {
        const string op = "BatchNorm";
        if (x.Rank < 2)
            throw new ArgumentException($"{op}: expected an input of shape [N, C] or [N, C, *], got shape {x.Shape}");
        x.CheckFloat(op);
        int n = x.Shape[0], c = x.Shape[1], s = c == 0 || n == 0 ? 0 : x.Numel / (n * c);
        foreach ((Tensor? t, string name) in new[] { (runningMean, "runningMean"), (runningVar, "runningVar"), (w, "weight"), (b, "bias") })
        {
            if (t is null) continue;
            Tensor.CheckSameDType(x, t, op);
            if (t.Rank != 1 || t.Shape[0] != c)
                throw new ArgumentException($"{op}: {name} must have shape [{c}] for input of shape {x.Shape} ({c} channels), got {t.Shape}");
        }
        if (!training && (runningMean is null || runningVar is null))
            throw new ArgumentException($"{op}: runningMean and runningVar are required in evaluation mode (training: false), input shape {x.Shape}");
        int count = n * s;
        if (training && count <= 1)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got input of shape {x.Shape}");

        var dims = new int[x.Rank - 1];
        var statShape = new int[x.Rank];
        dims[0] = 0;
        for (int d = 2; d < x.Rank; d++) dims[d - 1] = d;
        Array.Fill(statShape, 1);
        statShape[1] = c;

        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        var y = new Tensor(x.Shape, x.DType);
        var mean = new Tensor(new Shape(statShape), x.DType);
        var rstd = new Tensor(new Shape(statShape), x.DType);
        DTypeSwitch.Float(x.DType, new ForwardKernel(xc, runningMean, runningVar, w, b, training, momentum, eps, n, c, s, y, mean, rstd));
        if (GradMode.Records(x, w, b))
            y.SetGradFn(new BatchNormNode(x, w, b, mean, rstd, dims, statShape, count, eps, training));
        return y;
    }

    private readonly struct ForwardKernel(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? w, Tensor? b, bool training, double momentum,
                                          double eps, int n, int c, int s, Tensor y, Tensor mean, Tensor rstd) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Span<T> m = mean.Elements<T>(), r = rstd.Elements<T>();
            T[] wv, bv;
            using (GradMode.Disable())
            {
                wv = w?.ToArray<T>() ?? [];
                bv = b?.ToArray<T>() ?? [];
            }
            if (training)
            {
                NormKernels.ChannelMeanVar(x.ReadOnlyElements<T>(), n, c, s, m, r, y.Elements<T>()); // r holds the biased variance for now
                if (runningMean is not null || runningVar is not null)
                {
                    double unbias = (double)n * s / ((double)n * s - 1);
                    using (GradMode.Disable())
                    {
                        var batchVar = new Tensor(new Shape(c), x.DType);
                        r.CopyTo(batchVar.Elements<T>());
                        var batchMean = new Tensor(new Shape(c), x.DType);
                        m.CopyTo(batchMean.Elements<T>());
                        runningMean?.CopyFrom(runningMean * (1 - momentum) + batchMean * momentum);
                        runningVar?.CopyFrom(runningVar * (1 - momentum) + batchVar * (momentum * unbias));
                    }
                }
            }
            else
            {
                runningMean!.ToArray<T>().CopyTo(m);
                runningVar!.ToArray<T>().CopyTo(r);
            }
            T e = T.CreateChecked(eps);
            var scale = new T[c];
            var shift = new T[c];
            for (int ch = 0; ch < c; ch++)
            {
                r[ch] = T.One / T.Sqrt(r[ch] + e);
                scale[ch] = wv.Length > 0 ? r[ch] * wv[ch] : r[ch];
                shift[ch] = (bv.Length > 0 ? bv[ch] : T.Zero) - m[ch] * scale[ch];
            }
            NormKernels.ChannelAffine<T>(x.ReadOnlyElements<T>(), n, c, s, scale, shift, y.Elements<T>());
        }
    }

    // x̂ = (x − mean)·rstd, y = x̂·w + b, g = dy·w. Training (batch statistics depend on x):
    // dx = rstd·(g − mean(g) − x̂·mean(g·x̂)); eval (constant statistics): dx = g·rstd.
    // dw = Σ dy·x̂ and db = Σ dy over every dim but the channel.
    // Unrecorded backwards (the common case) run the same formula as one fused kernel.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (!GradMode.IsEnabled) return FusedBackward(dy);
        Tensor x = _x.Value;
        (Tensor mean, Tensor rstd) = _training ? NormGrad.Stats(x, _dims, _count, _eps) : (_mean, _rstd);
        Tensor xhat = (x - mean) * rstd;
        Tensor? w = _w?.Value.Reshape(_statShape); // [C] -> [1, C, 1, ...]
        Tensor g = w is null ? dy : dy * w;
        Tensor? dx = null;
        if (NeedsInputGrad(0))
            dx = _training ? NormGrad.InputGrad(g, xhat, rstd, _dims, _count) : g * rstd;
        return
        [
            dx,
            NeedsInputGrad(1) ? (dy * xhat).Sum(_dims) : null,
            NeedsInputGrad(2) ? dy.Sum(_dims) : null,
        ];
    }

    private Tensor?[] FusedBackward(Tensor dy)
    {
        Tensor x = _x.Value.Contiguous(), dyc = dy.Contiguous();
        Tensor? w = _w?.Value.Contiguous();
        int c = _statShape[1];
        Tensor? dx = NeedsInputGrad(0) ? new Tensor(x.Shape, x.DType) : null;
        Tensor? dw = NeedsInputGrad(1) ? new Tensor(new Shape(c), x.DType) : null;
        Tensor? db = NeedsInputGrad(2) ? new Tensor(new Shape(c), x.DType) : null;
        DTypeSwitch.Float(x.DType, new BackwardKernel(dyc, x, w, _mean, _rstd, _training, dx, dw, db));
        return [dx, dw, db];
    }

    private readonly struct BackwardKernel(Tensor dy, Tensor x, Tensor? w, Tensor mean, Tensor rstd, bool training, Tensor? dx, Tensor? dw, Tensor? db)
        : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = x.Shape[0], c = x.Shape[1], s = n * c == 0 ? 0 : x.Numel / (n * c);
            T[] scratch = System.Buffers.ArrayPool<T>.Shared.Rent(Math.Max(5 * c, 1));
            try
            {
                NormKernels.BatchNormBackward<T>(dy.ReadOnlyElements<T>(), x.ReadOnlyElements<T>(), n, c, s,
                    w is null ? default : w.ReadOnlyElements<T>(), mean.ReadOnlyElements<T>(), rstd.ReadOnlyElements<T>(), training,
                    dx is null ? default : dx.Elements<T>(), dw is null ? default : dw.Elements<T>(), db is null ? default : db.Elements<T>(), scratch);
            }
            finally
            {
                System.Buffers.ArrayPool<T>.Shared.Return(scratch);
            }
        }
    }
}
