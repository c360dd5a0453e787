using Backprop.Autograd;
using Backprop.Diagnostics;
using Backprop.Kernels.Loss;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>
/// Pointwise KL divergence of log-probabilities x from a target t (PyTorch's kl_div): ℓ = t·(log t − x)
/// with 0·log 0 = 0, or eᵗ·(t − x) when t holds log-probabilities (logTarget). Reduced by none, sum, mean
/// (over every element: PyTorch warns that this is not the KL divergence) or batchmean (the sum over the
/// batch size, the divergence per sample).
/// </summary>
internal sealed class KLDivLossNode : PointwiseLossNode
{
    private const string Op = "KLDiv";
    private readonly bool _logTarget;

    private KLDivLossNode(Tensor input, Tensor target, Reduction reduction, bool logTarget) : base(input, target, null, reduction) => _logTarget = logTarget;

    /// <summary>PyTorch's warning for reduction 'mean', given once per process (<see cref="Warnings.Issued"/>).</summary>
    internal const string MeanWarning =
        "KLDiv: reduction Mean divides the total loss by both the batch size and the support size. " +
        "BatchMean divides only by the batch size, and aligns with the KL divergence's math definition. " +
        "PyTorch will change 'mean' to behave as 'batchmean' in its next major release; pass Reduction.BatchMean to get it now.";

    /// <exception cref="ArgumentException">Shapes or dtypes differ, or the reduction is not defined.</exception>
    public static Tensor Forward(Tensor input, Tensor target, Reduction reduction, bool logTarget)
    {
        if (reduction is not (Reduction.None or Reduction.Mean or Reduction.Sum or Reduction.BatchMean))
            throw new ArgumentException($"{Op}: {(int)reduction} is not a valid reduction");
        PointwiseLoss.CheckOperands(input, target, Op);
        if (reduction == Reduction.Mean) Warnings.Once(Op, MeanWarning); // through Diagnostics.Warnings, never the console
        Tensor y = PointwiseLoss.Compute(PointwiseLoss.Packed(input), PointwiseLoss.Packed(target), null, reduction,
            new KLDivTerm<float>(logTarget), new KLDivTerm<double>(logTarget));
        if (GradMode.Records(input, target)) y.SetGradFn(new KLDivLossNode(input, target, reduction, logTarget));
        return y;
    }

    private protected override void Kernel(Tensor x, Tensor t, Tensor? w, double g, Tensor? gs, Tensor? dx, Tensor? dt)
        => PointwiseLoss.Grads(new KLDivTerm<float>(_logTarget), new KLDivTerm<double>(_logTarget), x, t, w, g, gs, dx, dt);

    // Target as probabilities: d/dx = −t, d/dt = log t + t/t − x (the t/t of PyTorch's xlogy gradient: NaN at t = 0).
    // Target as log-probabilities: d/dx = −eᵗ, d/dt = eᵗ·(t − x) + eᵗ.
    private protected override (Tensor? Dx, Tensor? Dt) Recorded(Tensor x, Tensor t, Tensor g, bool wantX, bool wantT)
    {
        if (_logTarget)
        {
            Tensor e = t.Exp();
            return (wantX ? -(g * e) : null, wantT ? g * (e * (t - x) + e) : null);
        }
        return (wantX ? -(g * t) : null, wantT ? g * (t.Log() + t / t - x) : null);
    }
}
