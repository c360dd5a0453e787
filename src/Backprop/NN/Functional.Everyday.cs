using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>Sorted values and their int64 positions along <paramref name="dim"/>; see <see cref="Tensor.Sort"/>.</summary>
    public static (Tensor Values, Tensor Indices) Sort(Tensor input, int dim = -1, bool descending = false, bool stable = false)
        => input.Sort(dim, descending, stable);

    /// <summary>The positions that sort <paramref name="input"/> along <paramref name="dim"/>; see <see cref="Tensor.ArgSort"/>.</summary>
    public static Tensor ArgSort(Tensor input, int dim = -1, bool descending = false, bool stable = false)
        => input.ArgSort(dim, descending, stable);

    /// <summary>The k largest (or smallest) values and their positions; see <see cref="Tensor.TopK"/>.</summary>
    public static (Tensor Values, Tensor Indices) TopK(Tensor input, int k, int dim = -1, bool largest = true, bool sorted = true)
        => input.TopK(k, dim, largest, sorted);

    /// <summary>Running sum along <paramref name="dim"/>; see <see cref="Tensor.CumSum"/>.</summary>
    public static Tensor CumSum(Tensor input, int dim, DType? dtype = null) => input.CumSum(dim, dtype);

    /// <summary>Running product along <paramref name="dim"/>; see <see cref="Tensor.CumProd"/>.</summary>
    public static Tensor CumProd(Tensor input, int dim, DType? dtype = null) => input.CumProd(dim, dtype);

    /// <summary>Product of all elements; see <see cref="Tensor.Prod(DType?)"/>.</summary>
    public static Tensor Prod(Tensor input, DType? dtype = null) => input.Prod(dtype);

    /// <summary>Product along <paramref name="dim"/>; see <see cref="Tensor.Prod(int, bool, DType?)"/>.</summary>
    public static Tensor Prod(Tensor input, int dim, bool keepDim = false, DType? dtype = null) => input.Prod(dim, keepDim, dtype);

    /// <summary>Vector p-norm over all elements or <paramref name="dims"/> (torch.linalg.vector_norm); see <see cref="Tensor.Norm(double, int[], bool)"/>.</summary>
    public static Tensor VectorNorm(Tensor input, double ord = 2, int[]? dims = null, bool keepDim = false) => input.Norm(ord, dims, keepDim);

    /// <summary>
    /// <paramref name="input"/> divided by its p-norm along <paramref name="dim"/>, the norm clamped below at
    /// <paramref name="eps"/> (torch.nn.functional.normalize): x / max(‖x‖_p, eps).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not float32 or float64.</exception>
    public static Tensor Normalize(Tensor input, double p = 2, int dim = 1, double eps = 1e-12)
        => input / input.Norm(p, dim, keepDim: true).ClampMin(eps).Expand(input.Shape.ToArray());

    /// <summary>Reverses the order of elements along <paramref name="dims"/>; see <see cref="Tensor.Flip"/>.</summary>
    public static Tensor Flip(Tensor input, params int[] dims) => input.Flip(dims);

    /// <summary>Rotates elements along <paramref name="dims"/> (flattened without dims); see <see cref="Tensor.Roll(int[], int[])"/>.</summary>
    public static Tensor Roll(Tensor input, int[] shifts, int[]? dims = null) => input.Roll(shifts, dims);

    /// <summary>ln(1 + x), accurate near 0.</summary>
    public static Tensor Log1p(Tensor input) => input.Log1p();

    /// <summary>eˣ − 1, accurate near 0.</summary>
    public static Tensor Expm1(Tensor input) => input.Expm1();

    /// <summary>Einstein summation; see <see cref="Tensor.Einsum"/>.</summary>
    public static Tensor Einsum(string equation, params Tensor[] operands) => Tensor.Einsum(equation, operands);
}
