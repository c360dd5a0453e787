using Backprop.Ops.MatMul;
using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>Neural-network functions on tensors, in the style of torch.nn.functional.</summary>
public static partial class Functional
{
    /// <summary>
    /// Affine map y = x·Wᵀ + b with PyTorch's layout: input [..., inFeatures], weight
    /// [outFeatures, inFeatures], optional bias [outFeatures]; output [..., outFeatures].
    /// Computed as one GEMM with the bias fused in.
    /// </summary>
    /// <exception cref="ArgumentException">The feature counts or the bias shape do not match the weight,
    /// the dtypes differ, or the dtype is not floating point.</exception>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        return LinearNode.Forward(input, weight, bias);
    }

    /// <summary>
    /// max(x·Wᵀ + b, 0): <see cref="Linear"/> followed by ReLU in one op (same values and
    /// gradients, one intermediate tensor less). Shapes as for <see cref="Linear"/>.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Linear"/>.</exception>
    public static Tensor LinearRelu(Tensor input, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        return LinearReluNode.Forward(input, weight, bias);
    }
}
