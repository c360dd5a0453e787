using Backprop.Ops.Indexing;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Gathers values along <paramref name="dim"/>: y[i][j][k] = this[index[i][j][k]][j][k] for dim 0
    /// (as torch.gather). The index is int64 with this tensor's rank (<c>Tensor.FromArray(int[])</c> makes one); y has the index's shape.
    /// </summary>
    /// <exception cref="ArgumentException">The index is not int64, has another rank, or is larger than this tensor outside dim.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index value is outside [0, size of dim).</exception>
    public Tensor Gather(int dim, Tensor index) => GatherNode.Forward(this, dim, index);

    /// <summary>
    /// Out-of-place scatter-add: a copy of this tensor with y[index[i][j][k]][j][k] += src[i][j][k]
    /// for dim 0 (as torch.scatter_add); repeated indices accumulate. Differentiable in this and src.
    /// </summary>
    /// <exception cref="ArgumentException">Dtypes or ranks differ, or the index is larger than src (or this tensor outside dim).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index value is outside [0, size of dim).</exception>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor src) => ScatterAddNode.Forward(this, dim, index, src);

    /// <summary>
    /// The rows along <paramref name="dim"/> listed by a 0-D or 1-D int64 index, repeats allowed (as
    /// torch.index_select): [.., n, ..] → [.., index.Numel, ..]. Always copies. C# ints become an int64
    /// index through <c>Tensor.FromArray(int[])</c> or the <see cref="IndexSelect(int, int[])"/> overload.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An index value is outside [0, size of dim).</exception>
    public Tensor IndexSelect(int dim, Tensor index) => IndexSelectNode.Forward(this, dim, index);

    /// <summary>
    /// Out-of-place index-add: a copy of this tensor with y[.., index[j], ..] += source[.., j, ..] along
    /// <paramref name="dim"/> (as torch.index_add); source is this shape with dim resized to the index length.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or dtypes do not match.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index value is outside [0, size of dim).</exception>
    public Tensor IndexAdd(int dim, Tensor index, Tensor source) => IndexAddNode.Forward(this, dim, index, source);

    /// <summary>
    /// Element-wise choice: a where <paramref name="condition"/> is true, else b (as torch.where). All three
    /// broadcast; the condition is a bool tensor (a comparison's result); a and b are promoted to a common
    /// dtype as in arithmetic. Differentiable in a and b.
    /// </summary>
    /// <exception cref="ArgumentException">The condition is not bool, or the shapes cannot broadcast.</exception>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => WhereNode.Forward(condition, a, b);

    /// <summary>
    /// Where with a number for b: a where <paramref name="condition"/> is true, else <paramref name="b"/>. As in
    /// arithmetic, a double is a Python float (an int64 or bool a gives float32) and a C# integer a Python int.
    /// </summary>
    /// <exception cref="ArgumentException">The condition is not bool, or the shapes cannot broadcast.</exception>
    public static Tensor Where(Tensor condition, Tensor a, double b) => WhereNode.Forward(condition, a, a.FloatOperand(b));

    /// <summary>Where with a whole number for b (int64 a stays int64); see <see cref="Where(Tensor, Tensor, double)"/>.</summary>
    /// <exception cref="ArgumentException">The condition is not bool, or the shapes cannot broadcast.</exception>
    public static Tensor Where(Tensor condition, Tensor a, long b) => WhereNode.Forward(condition, a, a.IntOperand(b));

    /// <summary>Where with a number for a: <paramref name="a"/> where <paramref name="condition"/> is true, else b.</summary>
    /// <exception cref="ArgumentException">The condition is not bool, or the shapes cannot broadcast.</exception>
    public static Tensor Where(Tensor condition, double a, Tensor b) => WhereNode.Forward(condition, b.FloatOperand(a), b);

    /// <summary>Where with a whole number for a (int64 b stays int64).</summary>
    /// <exception cref="ArgumentException">The condition is not bool, or the shapes cannot broadcast.</exception>
    public static Tensor Where(Tensor condition, long a, Tensor b) => WhereNode.Forward(condition, b.IntOperand(a), b);

    /// <summary>
    /// A copy with <paramref name="value"/> wherever the bool <paramref name="mask"/> is true (broadcast with
    /// this tensor, as torch.masked_fill; the value is converted to this tensor's dtype). No gradient flows to
    /// filled positions.
    /// </summary>
    /// <exception cref="ArgumentException">The mask is not bool, or the shapes cannot broadcast.</exception>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        WhereNode.CheckCondition(mask, "MaskedFill", "mask");
        if (!Shape.TryBroadcast(Shape, mask.Shape, out _))
            throw new ArgumentException($"MaskedFill: mask shape {mask.Shape} cannot broadcast with input shape {Shape}");
        return WhereNode.Forward(mask, Scalar(value, DType), this);
    }

    /// <summary>
    /// The elements where the bool <paramref name="mask"/> is true, in row-major order, as a 1-D tensor (as
    /// torch.masked_select and x[mask]); the mask broadcasts with this tensor. Differentiable: the gradient
    /// goes back to the selected positions.
    /// </summary>
    /// <exception cref="ArgumentException">The mask is not bool, or the shapes cannot broadcast.</exception>
    public Tensor MaskedSelect(Tensor mask) => MaskedSelectNode.Forward(this, mask);

    /// <summary>The rows along <paramref name="dim"/> at C# int positions; see <see cref="IndexSelect(int, Tensor)"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index value is outside [0, size of dim).</exception>
    public Tensor IndexSelect(int dim, int[] index) => IndexSelectNode.Forward(this, dim, FromArray(index));
}
