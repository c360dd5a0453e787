using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.View;

/// <summary>
/// Slice along one dim, elements start, start+step, ... (length of them), as a view (no copy).
/// Narrow is the step-1 case; Split and Chunk are made of narrows.
/// </summary>
internal sealed class SliceNode(Tensor x, int dim, int start, int step) : Node(x)
{
    private readonly Shape _inputShape = x.Shape;

    /// <summary>The view; dim, start and length must already be valid (start + (length−1)·step &lt; size).</summary>
    public static Tensor Forward(Tensor x, int dim, int start, int length, int step)
    {
        int[] shape = x.Shape.ToArray();
        int[] strides = (int[])x.StridesArray.Clone();
        int offset = x.Offset + (length == 0 ? 0 : start * x.Strides[dim]);
        shape[dim] = length;
        strides[dim] = x.Strides[dim] * step;
        Tensor y = x.Strided(new Shape(shape), strides, offset);
        if (GradMode.Records(x)) y.SetGradFn(new SliceNode(x, dim, start, step));
        return y;
    }

    // dx is zero except at the sliced positions, which receive dy: pad dy back into the input shape.
    protected internal override Tensor?[] Backward(Tensor dy) => [SlicePadNode.Forward(dy, _inputShape, dim, start, step)];
}

/// <summary>
/// The adjoint of <see cref="SliceNode"/>: a zero tensor of <c>shape</c> whose slice
/// (dim, start, step) holds g. Used by the backward of every slicing view.
/// </summary>
internal sealed class SlicePadNode(Tensor g, int dim, int start, int step) : Node(g)
{
    private readonly int _length = g.Shape[dim];

    public static Tensor Forward(Tensor g, Shape shape, int dim, int start, int step)
    {
        var y = new Tensor(shape, g.DType);
        if (g.Numel > 0)
        {
            Tensor packed;
            using (GradMode.Disable()) packed = g.Contiguous();
            int[] strides = (int[])y.StridesArray.Clone();
            int offset = start * strides[dim];
            strides[dim] *= step;
            StridedCopy.Scatter(packed, y, offset, strides, g.Shape.Dims);
        }
        if (GradMode.Records(g)) y.SetGradFn(new SlicePadNode(g, dim, start, step));
        return y;
    }

    // Padding is linear and only places g: its adjoint takes the same slice back out.
    protected internal override Tensor?[] Backward(Tensor dy) => [SliceNode.Forward(dy, dim, start, _length, step)];
}

/// <summary>Select: one index along a dim, dropping that dim, as a view.</summary>
internal sealed class SelectNode(Tensor x, int dim, int index) : Node(x)
{
    private readonly Shape _inputShape = x.Shape;

    /// <summary>The view; dim and index must already be normalized and in range.</summary>
    public static Tensor Forward(Tensor x, int dim, int index)
    {
        var shape = new int[x.Rank - 1];
        var strides = new int[x.Rank - 1];
        for (int d = 0, w = 0; d < x.Rank; d++)
        {
            if (d == dim) continue;
            shape[w] = x.Shape[d];
            strides[w++] = x.Strides[d];
        }
        Tensor y = x.Strided(new Shape(shape), strides, x.Offset + index * x.Strides[dim]);
        if (GradMode.Records(x)) y.SetGradFn(new SelectNode(x, dim, index));
        return y;
    }

    // dx is dy placed at row `index` of dim, zero elsewhere.
    protected internal override Tensor?[] Backward(Tensor dy) => [SlicePadNode.Forward(dy.Unsqueeze(dim), _inputShape, dim, index, 1)];
}
