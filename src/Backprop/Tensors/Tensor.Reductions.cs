using Backprop.Ops.Reduce;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>Mean of all elements, as a 0-d tensor (NaN for an empty tensor).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor Mean() => MeanNode.Forward(this, [], false);

    /// <summary>Mean over one dimension (negative counts from the end).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor Mean(int dim, bool keepDim = false) => MeanNode.Forward(this, [dim], keepDim);

    /// <summary>Mean over several dimensions (they need not be adjacent).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point or a dim repeats.</exception>
    public Tensor Mean(int[] dims, bool keepDim = false) => MeanNode.Forward(this, dims, keepDim);

    /// <summary>Largest element, as a 0-d tensor; NaN if any element is NaN. The gradient is shared equally among tied maxima.</summary>
    /// <exception cref="ArgumentException">The tensor is empty.</exception>
    public Tensor Max() => ExtremumAllNode.Forward(this, min: false);

    /// <summary>Smallest element, as a 0-d tensor; NaN if any element is NaN. The gradient is shared equally among tied minima.</summary>
    /// <exception cref="ArgumentException">The tensor is empty.</exception>
    public Tensor Min() => ExtremumAllNode.Forward(this, min: true);

    /// <summary>Largest values along a dim; the gradient flows to the position <see cref="ArgMax(int, bool)"/> reports.</summary>
    /// <exception cref="ArgumentException">The dim has size 0.</exception>
    public Tensor Max(int dim, bool keepDim = false) => ExtremumDimNode.Forward(this, dim, keepDim, min: false, wantValues: true, "Max").Values!;

    /// <summary>Smallest values along a dim; the gradient flows to the position <see cref="ArgMin(int, bool)"/> reports.</summary>
    /// <exception cref="ArgumentException">The dim has size 0.</exception>
    public Tensor Min(int dim, bool keepDim = false) => ExtremumDimNode.Forward(this, dim, keepDim, min: true, wantValues: true, "Min").Values!;

    /// <summary>Largest values along a dim and their int64 indices (first occurrence on ties).</summary>
    /// <exception cref="ArgumentException">The dim has size 0.</exception>
    public (Tensor Values, Tensor Indices) MaxWithIndices(int dim, bool keepDim = false)
    {
        (Tensor? values, Tensor indices) = ExtremumDimNode.Forward(this, dim, keepDim, min: false, wantValues: true, "Max");
        return (values!, indices);
    }

    /// <summary>Smallest values along a dim and their int64 indices (first occurrence on ties).</summary>
    /// <exception cref="ArgumentException">The dim has size 0.</exception>
    public (Tensor Values, Tensor Indices) MinWithIndices(int dim, bool keepDim = false)
    {
        (Tensor? values, Tensor indices) = ExtremumDimNode.Forward(this, dim, keepDim, min: true, wantValues: true, "Min");
        return (values!, indices);
    }

    /// <summary>Int64 index of the largest value along a dim (first occurrence; NaN counts as largest).</summary>
    /// <exception cref="ArgumentException">The dim has size 0.</exception>
    public Tensor ArgMax(int dim, bool keepDim = false) => ExtremumDimNode.Forward(this, dim, keepDim, min: false, wantValues: false, "ArgMax").Indices;

    /// <summary>Int64 index of the smallest value along a dim (first occurrence; NaN counts as smallest).</summary>
    /// <exception cref="ArgumentException">The dim has size 0.</exception>
    public Tensor ArgMin(int dim, bool keepDim = false) => ExtremumDimNode.Forward(this, dim, keepDim, min: true, wantValues: false, "ArgMin").Indices;

    /// <summary>Int64 index of the largest element in the flattened tensor, as a 0-d tensor.</summary>
    public Tensor ArgMax() => Detach().Reshape(-1).ArgMax(0);

    /// <summary>Int64 index of the smallest element in the flattened tensor, as a 0-d tensor.</summary>
    public Tensor ArgMin() => Detach().Reshape(-1).ArgMin(0);

    /// <summary>
    /// Variance Σ(x − mean)² / max(0, n − correction) over the given dims (all when null);
    /// correction 1 is the unbiased estimate, 0 the population variance.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor Var(int[]? dims = null, int correction = 1, bool keepDim = false) => VarNode.Forward(this, dims ?? [], correction, keepDim);

    /// <summary>Variance over one dim; see <see cref="Var(int[], int, bool)"/>.</summary>
    public Tensor Var(int dim, int correction = 1, bool keepDim = false) => VarNode.Forward(this, [dim], correction, keepDim);

    /// <summary>Standard deviation √var over the given dims (all when null); see <see cref="Var(int[], int, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor Std(int[]? dims = null, int correction = 1, bool keepDim = false) => StdNode.Forward(this, dims ?? [], correction, keepDim);

    /// <summary>Standard deviation over one dim; see <see cref="Std(int[], int, bool)"/>.</summary>
    public Tensor Std(int dim, int correction = 1, bool keepDim = false) => StdNode.Forward(this, [dim], correction, keepDim);

    /// <summary>log Σ exp(x) along a dim, computed stably (the max is shifted out first).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor LogSumExp(int dim, bool keepDim = false) => LogSumExpNode.Forward(this, dim, keepDim);

    /// <summary>Softmax along a dim: exp(x) / Σ exp(x), stable for large logits; same shape as the input.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor Softmax(int dim) => SoftmaxNode.Forward(this, dim);

    /// <summary>Log-softmax along a dim: x − log Σ exp(x), stable for large logits; same shape as the input.</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor LogSoftmax(int dim) => LogSoftmaxNode.Forward(this, dim);
}
