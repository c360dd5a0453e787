using Backprop.Ops.Indexing;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Gathers values along <paramref name="dim"/>: y[i][j][k] = this[index[i][j][k]][j][k] for dim 0
    /// (as torch.gather). The index is int64 with this tensor's rank; y has the index's shape.
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
    /// torch.index_select): [.., n, ..] → [.., index.Numel, ..]. Always copies.
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
    /// Element-wise choice: a where <paramref name="condition"/> is nonzero, else b. All three
    /// broadcast; the condition may have any dtype; a and b must share a dtype.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes cannot broadcast or a and b have different dtypes.</exception>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b) => WhereNode.Forward(condition, a, b);

    /// <summary>
    /// A copy with <paramref name="value"/> wherever <paramref name="mask"/> is nonzero (mask of any
    /// dtype, broadcast with this tensor, as torch.masked_fill). No gradient flows to filled positions.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes cannot broadcast.</exception>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        if (!Shape.TryBroadcast(Shape, mask.Shape, out _))
            throw new ArgumentException($"MaskedFill: mask shape {mask.Shape} cannot broadcast with input shape {Shape}");
        return WhereNode.Forward(mask, Scalar(value, DType), this);
    }
}
