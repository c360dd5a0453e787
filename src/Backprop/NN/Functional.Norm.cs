using Backprop.Ops.Norm;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>
    /// Layer normalisation over the trailing dims given by <paramref name="normalizedShape"/>:
    /// y = (x − mean) / √(var + eps) · weight + bias, with the biased variance of each row.
    /// Input [*, normalizedShape...]; weight and bias have shape normalizedShape.
    /// </summary>
    /// <exception cref="ArgumentException">The trailing dims, weight or bias shapes do not match, or the dtype is not float.</exception>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        return LayerNormNode.Forward(input, normalizedShape, weight, bias, eps);
    }

    /// <summary>
    /// Batch normalisation of [N, C] or [N, C, *] per channel. In training the batch mean and
    /// biased variance normalise the input and the running statistics (if given) are updated in
    /// place: running = (1 − momentum)·running + momentum·batch, with the unbiased variance. In
    /// evaluation the running statistics normalise. All per-channel tensors have shape [C].
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or dtypes do not match, running statistics are missing in eval, or a training channel has one value.</exception>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
                                   bool training = false, double momentum = 0.1, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        return BatchNormNode.Forward(input, runningMean, runningVar, weight, bias, training, momentum, eps);
    }
}
