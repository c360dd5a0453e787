using Backprop.Ops.Loss;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>
    /// Mean absolute error |input − target|, as torch.nn.functional.l1_loss. Input and target have the
    /// same shape (unlike PyTorch, which warns and broadcasts; see <see cref="MseLoss"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or dtypes differ, or the reduction is BatchMean.</exception>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return L1LossNode.Forward(input, target, reduction);
    }

    /// <summary>
    /// Smooth L1 loss, as torch.nn.functional.smooth_l1_loss: with z = |input − target|, ½z²/β where z &lt; β,
    /// else z − ½β. β = 0 is the L1 loss. Same shapes required.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or dtypes differ, β is negative, or the reduction is BatchMean.</exception>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return SmoothL1LossNode.SmoothL1(input, target, reduction, beta);
    }

    /// <summary>
    /// Huber loss, as torch.nn.functional.huber_loss: with z = |input − target|, ½z² where z &lt; δ, else
    /// δ·(z − ½δ) (δ times the smooth L1 loss with β = δ). Same shapes required.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or dtypes differ, δ is not positive, or the reduction is BatchMean.</exception>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return SmoothL1LossNode.Huber(input, target, reduction, delta);
    }

    /// <summary>
    /// Kullback–Leibler divergence, as torch.nn.functional.kl_div: input holds log-probabilities, target
    /// probabilities (or log-probabilities with <paramref name="logTarget"/>); per element t·(log t − input)
    /// (0 where t = 0). Reduction Mean (PyTorch's default) averages over every element, which is not the
    /// divergence: PyTorch warns, and so does this, once per process on standard error. BatchMean divides the
    /// sum by the batch size (dim 0), the KL divergence per sample. Same shapes required (PyTorch broadcasts).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or dtypes differ.</exception>
    public static Tensor KLDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return KLDivLossNode.Forward(input, target, reduction, logTarget);
    }

    /// <summary>
    /// Binary cross-entropy of probabilities, as torch.nn.functional.binary_cross_entropy:
    /// −weight·[t·log x + (1 − t)·log(1 − x)] with each log clamped at −100, so an input of exactly 0 or 1 gives
    /// a finite loss. Input in [0, 1] (for logits, <see cref="BinaryCrossEntropyWithLogits"/> is stabler); target
    /// of the same shape; weight broadcasts to the input and gets no gradient (as PyTorch).
    /// </summary>
    /// <exception cref="ArgumentException">An input is outside [0, 1], shapes or dtypes differ, the weight does not broadcast, or the reduction is BatchMean.</exception>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return BceLossNode.Forward(input, target, weight, reduction);
    }
}
