using Backprop.Ops.Einsum;
using Backprop.Ops.Elementwise;
using Backprop.Ops.Reduce;
using Backprop.Ops.Sorting;
using Backprop.Ops.View;

namespace Backprop.Tensors;

// Sorting, running sums and products, norms, flips and rolls, log1p/expm1 and einsum, with PyTorch's names,
// argument order and defaults.
public sealed partial class Tensor
{
    /// <summary>
    /// The elements sorted along <paramref name="dim"/> and their int64 positions in this tensor (torch.sort).
    /// The sort is always stable (equal elements keep their order, what PyTorch guarantees with stable: true);
    /// NaN sorts above every number, so it comes last ascending and first descending; −0 equals +0.
    /// The gradient flows back to the positions the values came from.
    /// </summary>
    /// <param name="dim">The dim to sort along (negative counts from the end).</param>
    /// <param name="descending">Largest first.</param>
    /// <param name="stable">Accepted for PyTorch's signature; every sort here is stable.</param>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    /// <exception cref="ArgumentException">The dtype is not float32, float64 or int64.</exception>
    public (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false, bool stable = false)
        => SortNode.Forward(this, dim, descending);

    /// <summary>The int64 positions that sort this tensor along <paramref name="dim"/> (torch.argsort); see <see cref="Sort"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor ArgSort(int dim = -1, bool descending = false, bool stable = false)
    {
        Tensor source = Detach();
        return SortNode.Forward(source, dim, descending).Indices;
    }

    /// <summary>
    /// The <paramref name="k"/> largest (or smallest) elements along <paramref name="dim"/> and their int64 positions
    /// (torch.topk): [.., n, ..] → [.., k, ..]. NaN counts as the largest value. Among equal values the earliest
    /// positions are chosen, in order (PyTorch leaves the order of ties unspecified; its CPU kernel may pick others).
    /// With sorted: false the result is still in sorted order, which PyTorch allows. The gradient flows to the chosen positions.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is negative or larger than the dim, or dim is out of range.</exception>
    /// <exception cref="ArgumentException">The dtype is not float32, float64 or int64.</exception>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true, bool sorted = true)
        => TopKNode.Forward(this, k, dim, largest);

    /// <summary>
    /// Running sum along <paramref name="dim"/>: y[.., i, ..] = Σ_{j ≤ i} x[.., j, ..] (torch.cumsum); same shape.
    /// Float32 accumulates in double, as PyTorch's CPU kernel. <paramref name="dtype"/> converts the input first.
    /// The gradient is the reversed running sum of the output gradient.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor CumSum(int dim, DType? dtype = null) => CumSumNode.Forward(dtype is { } t ? To(t) : this, dim);

    /// <summary>
    /// Running product along <paramref name="dim"/>: y[.., i, ..] = Π_{j ≤ i} x[.., j, ..] (torch.cumprod). The
    /// gradient is exact where the input has zeros (it never divides by the input).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor CumProd(int dim, DType? dtype = null) => CumProdNode.Forward(dtype is { } t ? To(t) : this, dim);

    /// <summary>Product of all elements as a 0-d tensor (1 for an empty tensor; torch.prod). The gradient is exact with zeros in the input.</summary>
    public Tensor Prod(DType? dtype = null) => ProdNode.Forward(dtype is { } t ? To(t) : this, null, false);

    /// <summary>Product along <paramref name="dim"/> (torch.prod); the gradient is exact with zeros in the input.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Prod(int dim, bool keepDim = false, DType? dtype = null) => ProdNode.Forward(dtype is { } t ? To(t) : this, dim, keepDim);

    /// <summary>
    /// Vector p-norm over all elements, or over <paramref name="dims"/> (torch.linalg.vector_norm, also
    /// torch.norm with a numeric p): p = 2 √Σx², 1 Σ|x|, ∞ max|x|, −∞ min|x|, 0 the count of nonzero elements,
    /// any other p (Σ|x|^p)^(1/p). The gradient follows PyTorch's, with 0 as the subgradient at a zero norm and
    /// the gradient of ±∞ shared among tied extremes.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not float32 or float64, p is NaN, a dim repeats, or p = ±∞ over an empty reduction.</exception>
    public Tensor Norm(double p = 2, int[]? dims = null, bool keepDim = false) => NormNode.Forward(this, p, dims ?? [], keepDim);

    /// <summary>Vector p-norm along one dim; see <see cref="Norm(double, int[], bool)"/>.</summary>
    public Tensor Norm(double p, int dim, bool keepDim = false) => NormNode.Forward(this, p, [dim], keepDim);

    /// <summary>
    /// Frobenius norm √Σx² over all elements, or over one or two <paramref name="dims"/> (torch.norm with p = "fro").
    /// </summary>
    /// <exception cref="ArgumentException">More than two dims are given, or the tensor is not float32 or float64.</exception>
    public Tensor FrobeniusNorm(int[]? dims = null, bool keepDim = false)
    {
        if (dims is { Length: > 2 })
            throw new ArgumentException($"FrobeniusNorm: expected at most 2 dims, got {dims.Length} [{string.Join(", ", dims)}] (shape {Shape}); use Norm(2, dims) for a vector norm over more");
        return NormNode.Forward(this, 2, dims ?? [], keepDim, "FrobeniusNorm");
    }

    /// <summary>A copy with the order of elements reversed along each of <paramref name="dims"/> (torch.flip).</summary>
    /// <exception cref="ArgumentException">A dim repeats.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dim is out of range.</exception>
    public Tensor Flip(params int[] dims) => FlipNode.Forward(this, dims ?? []);

    /// <summary>
    /// A copy with elements rotated by <paramref name="shifts"/> along <paramref name="dims"/> (torch.roll): element i
    /// moves to (i + shift) mod size. Without dims the tensor is rolled flattened and keeps its shape.
    /// </summary>
    /// <exception cref="ArgumentException">Shifts and dims differ in length (or several shifts come without dims).</exception>
    public Tensor Roll(int shifts, int? dims = null) => dims is { } d ? RollNode.Forward(this, [shifts], [d]) : RollNode.Forward(this, [shifts], []);

    /// <inheritdoc cref="Roll(int, int?)"/>
    public Tensor Roll(int[] shifts, int[]? dims = null) => RollNode.Forward(this, shifts ?? [], dims ?? []);

    /// <summary>Element-wise ln(1 + x), accurate near 0 (torch.log1p).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor Log1p() => Log1pNode.Forward(this);

    /// <summary>Element-wise eˣ − 1, accurate near 0 (torch.expm1).</summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor Expm1() => Expm1Node.Forward(this);

    /// <summary>
    /// Einstein summation (torch.einsum): <c>Einsum("bij,bjk->bik", a, b)</c> is a batched matrix product,
    /// <c>"ii"</c> a trace, <c>"ii->i"</c> a diagonal, <c>"...ij->...ji"</c> a transpose of the last two dims.
    /// Subscripts are letters; "..." stands for broadcast dims; without "->" the output is the ellipsis dims and
    /// the subscripts used once, alphabetically. Built from differentiable ops, so it has a gradient.
    /// </summary>
    /// <exception cref="ArgumentException">The equation is malformed, does not fit the operands' shapes, or the operands' dtypes differ; the message names the equation and the shapes.</exception>
    public static Tensor Einsum(string equation, params Tensor[] operands) => EinsumOp.Forward(equation, operands);
}
