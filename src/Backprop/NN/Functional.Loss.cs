using Backprop.Ops.Loss;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>
    /// Cross-entropy between logits and class indices, as torch.nn.functional.cross_entropy:
    /// input [N, C] or [N, C, d1, ...] with target [N] or [N, d1, ...], or input [C] with a 0-d target.
    /// Log-softmax and NLL run fused in one kernel.
    /// </summary>
    /// <param name="input">Unnormalized logits, float32 or float64.</param>
    /// <param name="target">Int64 class indices in [0, C), or <paramref name="ignoreIndex"/>.</param>
    /// <param name="reduction">None gives one loss per target position; Mean divides by the summed weights of non-ignored targets.</param>
    /// <param name="labelSmoothing">ε in [0, 1]: the target becomes (1 − ε)·one-hot + ε/C.</param>
    /// <param name="ignoreIndex">Target value that contributes neither loss nor gradient.</param>
    /// <param name="weight">Optional per-class weights [C].</param>
    /// <exception cref="ArgumentException">The target is not int64, shapes do not match, or a target value is out of range.</exception>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double labelSmoothing = 0,
                                      long ignoreIndex = -100, Tensor? weight = null)
        => CrossEntropyNode.Forward(input, target, reduction, labelSmoothing, ignoreIndex, weight);

    /// <summary>
    /// Negative log-likelihood of log-probabilities, as torch.nn.functional.nll_loss: loss = −weight[t]·input[t].
    /// Shapes as in <see cref="CrossEntropy"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The target is not int64, shapes do not match, or a target value is out of range.</exception>
    public static Tensor NllLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, long ignoreIndex = -100, Tensor? weight = null)
        => NllLossNode.Forward(input, target, reduction, ignoreIndex, weight);

    /// <summary>
    /// Mean squared error (input − target)² over two tensors of the same shape. Deliberately unlike
    /// torch.nn.functional.mse_loss, which warns and broadcasts (an [N, 1] prediction against an [N] target
    /// becomes an [N, N] loss): different shapes are refused; broadcast explicitly with <see cref="Tensor.BroadcastTo"/> if meant.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or the dtypes differ (both are named).</exception>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        => MseLossNode.Forward(input, target, reduction);

    /// <summary>
    /// Binary cross-entropy on logits, −[p·t·log σ(x) + (1 − t)·log(1 − σ(x))], computed without
    /// overflow. Target has the input's shape; <paramref name="posWeight"/> (e.g. [classes]) broadcasts
    /// against the input's last dims and weighs the positive term.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or dtypes do not match.</exception>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, Tensor? posWeight = null)
        => BceWithLogitsNode.Forward(input, target, posWeight, reduction);
}
