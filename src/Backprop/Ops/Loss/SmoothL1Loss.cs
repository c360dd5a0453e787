using Backprop.Autograd;
using Backprop.Kernels.Loss;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>
/// Smooth L1 (β) and Huber (δ) losses per element, reduced, with z = |x − t|:
/// smooth L1 = z &lt; β ? ½z²/β : z − ½β (β = 0 is the L1 loss, as PyTorch routes it);
/// Huber = z &lt; δ ? ½z² : δ·(z − ½δ), which is δ times smooth L1 with β = δ.
/// </summary>
internal sealed class SmoothL1LossNode : PointwiseLossNode
{
    private readonly double _beta;
    private readonly bool _huber;

    private SmoothL1LossNode(Tensor input, Tensor target, Reduction reduction, double beta, bool huber) : base(input, target, null, reduction)
        => (_beta, _huber) = (beta, huber);

    /// <summary>Smooth L1 with threshold β ≥ 0.</summary>
    /// <exception cref="ArgumentException">Shapes or dtypes differ, β is negative, or the reduction is BatchMean.</exception>
    public static Tensor SmoothL1(Tensor input, Tensor target, Reduction reduction, double beta)
    {
        if (!(beta >= 0))
            throw new ArgumentException($"SmoothL1Loss: beta must be non-negative, got {beta}");
        if (beta == 0) // PyTorch's route: the L1 loss, after this loss's own checks
        {
            PointwiseLoss.CheckReduction(reduction, "SmoothL1Loss");
            PointwiseLoss.CheckOperands(input, target, "SmoothL1Loss");
            return L1LossNode.Forward(input, target, reduction);
        }
        return Forward(input, target, reduction, beta, huber: false, "SmoothL1Loss");
    }

    /// <summary>Huber with threshold δ &gt; 0.</summary>
    /// <exception cref="ArgumentException">Shapes or dtypes differ, δ is not positive, or the reduction is BatchMean.</exception>
    public static Tensor Huber(Tensor input, Tensor target, Reduction reduction, double delta)
    {
        if (!(delta > 0))
            throw new ArgumentException($"HuberLoss: delta must be positive, got {delta}");
        return Forward(input, target, reduction, delta, huber: true, "HuberLoss");
    }

    private static Tensor Forward(Tensor input, Tensor target, Reduction reduction, double beta, bool huber, string op)
    {
        PointwiseLoss.CheckReduction(reduction, op);
        PointwiseLoss.CheckOperands(input, target, op);
        Tensor y = PointwiseLoss.Compute(PointwiseLoss.Packed(input), PointwiseLoss.Packed(target), null, reduction,
            new SmoothL1Term<float>((float)beta, huber), new SmoothL1Term<double>(beta, huber));
        if (GradMode.Records(input, target)) y.SetGradFn(new SmoothL1LossNode(input, target, reduction, beta, huber));
        return y;
    }

    /// <summary>"HuberLossBackward" for the Huber loss.</summary>
    public override string Name => _huber ? "HuberLossBackward" : "SmoothL1LossBackward";

    private protected override void Kernel(Tensor x, Tensor t, Tensor? w, double g, Tensor? gs, Tensor? dx, Tensor? dt)
        => PointwiseLoss.Grads(new SmoothL1Term<float>((float)_beta, _huber), new SmoothL1Term<double>(_beta, _huber), x, t, w, g, gs, dx, dt);

    // Smooth L1: d/dx = clamp((x − t)/β, −1, 1); Huber: d/dx = clamp(x − t, −δ, δ); d/dt = −d/dx.
    private protected override (Tensor? Dx, Tensor? Dt) Recorded(Tensor x, Tensor t, Tensor g, bool wantX, bool wantT)
    {
        Tensor d = x - t;
        Tensor dx = g * (_huber ? d.Clamp(-_beta, _beta) : (d / _beta).Clamp(-1, 1));
        return (wantX ? dx : null, wantT ? -dx : null);
    }
}
