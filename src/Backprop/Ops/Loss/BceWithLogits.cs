using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Loss;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>
/// Binary cross-entropy on logits: (1 − t)·x + (1 + (p − 1)·t)·softplus(−x), which equals
/// −[p·t·log σ(x) + (1 − t)·log(1 − σ(x))] without overflow. p (posWeight) broadcasts against the input.
/// </summary>
internal sealed class BceWithLogitsNode : Node
{
    private readonly SavedTensor _x, _t;
    private readonly SavedTensor? _p;
    private readonly Reduction _reduction;

    private BceWithLogitsNode(Tensor x, Tensor t, Tensor? p, Reduction reduction) : base(x, t, p)
    {
        _x = Save(x);
        _t = Save(t);
        if (p is not null) _p = Save(p);
        _reduction = reduction;
    }

    public static Tensor Forward(Tensor input, Tensor target, Tensor? posWeight, Reduction reduction)
    {
        const string op = "BinaryCrossEntropyWithLogits";
        PointwiseLoss.CheckReduction(reduction, op);
        input.CheckFloat(op);
        if (target.Shape != input.Shape)
            throw new ArgumentException($"{op}: target shape {target.Shape} must equal input shape {input.Shape}");
        Tensor.CheckSameDType(input, target, op);
        Tensor x = input.Detach().Contiguous(), t = target.Detach().Contiguous();
        Tensor? p = null;
        if (posWeight is not null)
        {
            Tensor.CheckSameDType(input, posWeight, op);
            if (!Shape.TryBroadcast(posWeight.Shape, input.Shape, out Shape b) || b != input.Shape)
                throw new ArgumentException($"{op}: posWeight shape {posWeight.Shape} cannot be broadcast to input shape {input.Shape} (it pairs with the last dims, usually [classes])");
            p = posWeight.Detach().BroadcastTo(input.Shape).Contiguous();
        }
        var losses = new Tensor(input.Shape, input.DType);
        DTypeSwitch.Float(input.DType, new LossesKernel(x, t, p, losses));
        Tensor y = reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => ClassTargets.Reduce(losses, Reduction.Sum, 1),
            _ => ClassTargets.Reduce(losses, Reduction.Mean, losses.Numel),
        };
        if (GradMode.Records(input, target, posWeight)) y.SetGradFn(new BceWithLogitsNode(input, target, posWeight, reduction));
        return y;
    }

    private readonly struct LossesKernel(Tensor x, Tensor t, Tensor? p, Tensor losses) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => BceWithLogitsKernel.Forward(x.ReadOnlyElements<T>(), t.ReadOnlyElements<T>(), p is null ? default : p.ReadOnlyElements<T>(), losses.Elements<T>());
    }

    // With σ = sigmoid(x) and sp(−x) = softplus(−x):
    // dl/dx = σ·(1 − t + p·t) − p·t,   dl/dt = (p − 1)·sp(−x) − x,   dl/dp = t·sp(−x).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value, t = _t.Value;
        Tensor? p = _p?.Value;
        Tensor g = _reduction == Reduction.Mean ? dy / x.Numel : dy;
        Tensor? dx = null, dt = null, dp = null;
        if (NeedsInputGrad(0))
            dx = p is null ? g * (x.Sigmoid() - t) : g * (x.Sigmoid() * (1.0 - t + p * t) - p * t);
        Tensor? spNeg = NeedsInputGrad(2) || (NeedsInputGrad(1) && p is not null) ? LossSoftplusNode.Forward(-x) : null;
        if (NeedsInputGrad(1))
            dt = p is null ? g * -x : g * ((p - 1.0) * spNeg! - x);
        if (NeedsInputGrad(2))
            dp = (g * t * spNeg!).SumToShape(p!.Shape);
        return [dx, dt, dp];
    }

    /// <summary>softplus(x) = log(1 + eˣ), private to this loss so its target and posWeight gradients stay differentiable.</summary>
    private sealed class LossSoftplusNode : Node
    {
        private readonly SavedTensor _x;

        private LossSoftplusNode(Tensor x) : base(x) => _x = Save(x);

        public static Tensor Forward(Tensor x)
        {
            Tensor c = x.Detach().Contiguous();
            var y = new Tensor(x.Shape, x.DType);
            DTypeSwitch.Float(x.DType, new SoftplusKernel(c, y));
            if (GradMode.Records(x)) y.SetGradFn(new LossSoftplusNode(x));
            return y;
        }

        public override string Name => "SoftplusBackward";

        private readonly struct SoftplusKernel(Tensor x, Tensor y) : IFloatAction
        {
            public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            {
                ReadOnlySpan<T> src = x.ReadOnlyElements<T>();
                Span<T> dst = y.Elements<T>();
                for (int i = 0; i < src.Length; i++) dst[i] = BceWithLogitsKernel.SoftplusNeg(-src[i]);
            }
        }

        // d/dx log(1 + eˣ) = σ(x).
        protected internal override Tensor?[] Backward(Tensor dy) => [dy * _x.Value.Sigmoid()];
    }
}
