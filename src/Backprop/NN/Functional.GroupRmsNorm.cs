using Backprop.Ops.Norm;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>
    /// Group normalisation, as torch.nn.functional.group_norm: the C channels of [N, C, *] form
    /// <paramref name="numGroups"/> groups; each (sample, group) is normalised by the mean and biased
    /// variance of its C/numGroups channels over every position, then y = x̂·weight[c] + bias[c].
    /// Weight and bias have shape [C]. Independent of the batch size, unlike batch normalisation.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 dims, numGroups does not divide C, or the weight or bias shape or dtype does not fit.</exception>
    public static Tensor GroupNorm(Tensor input, int numGroups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        return GroupNormNode.Forward(input, numGroups, weight, bias, eps);
    }

    /// <summary>
    /// Root-mean-square normalisation over the trailing dims, as torch 2.x torch.nn.functional.rms_norm:
    /// y = x / √(mean(x²) + eps) · weight, with no mean subtracted and no bias. Input [*, normalizedShape...];
    /// weight has shape normalizedShape. <paramref name="eps"/> null means the machine epsilon of the input's
    /// dtype (torch.finfo(dtype).eps: 2⁻²³ for float32, 2⁻⁵² for float64), PyTorch's default.
    /// </summary>
    /// <exception cref="ArgumentException">The trailing dims or the weight's shape do not match, the dtype is not float, or eps is negative.</exception>
    public static Tensor RmsNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, double? eps = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        return RmsNormNode.Forward(input, normalizedShape, weight, eps);
    }
}
