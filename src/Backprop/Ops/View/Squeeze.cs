using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.View;

/// <summary>Inserts a size-1 dim as a view.</summary>
internal sealed class UnsqueezeNode(Tensor x, int dim) : Node(x)
{
    /// <summary>The view; dim must already be normalized to 0..rank.</summary>
    public static Tensor Forward(Tensor x, int dim)
    {
        var shape = new int[x.Rank + 1];
        var strides = new int[x.Rank + 1];
        for (int d = 0, r = 0; d <= x.Rank; d++)
        {
            if (d == dim)
            {
                shape[d] = 1;
                // Any stride works for a size-1 dim; PyTorch's choice keeps a contiguous tensor contiguous.
                strides[d] = dim < x.Rank ? x.Shape[dim] * x.Strides[dim] : 1;
                continue;
            }
            shape[d] = x.Shape[r];
            strides[d] = x.Strides[r++];
        }
        Tensor y = x.Strided(new Shape(shape), strides, x.Offset);
        if (GradMode.Records(x)) y.SetGradFn(new UnsqueezeNode(x, dim));
        return y;
    }

    // Only the indexing changes: drop the inserted dim from the gradient.
    protected internal override Tensor?[] Backward(Tensor dy) => [SqueezeNode.Forward(dy, [dim])];
}

/// <summary>Removes size-1 dims as a view.</summary>
internal sealed class SqueezeNode(Tensor x) : Node(x)
{
    private readonly Shape _inputShape = x.Shape;

    /// <summary>Drops the listed dims (each of size 1); returns x itself when the list is empty.</summary>
    public static Tensor Forward(Tensor x, ReadOnlySpan<int> drop)
    {
        if (drop.Length == 0) return x;
        var shape = new int[x.Rank - drop.Length];
        var strides = new int[shape.Length];
        for (int d = 0, w = 0; d < x.Rank; d++)
        {
            if (drop.Contains(d)) continue;
            shape[w] = x.Shape[d];
            strides[w++] = x.Strides[d];
        }
        Tensor y = x.Strided(new Shape(shape), strides, x.Offset);
        if (GradMode.Records(x)) y.SetGradFn(new SqueezeNode(x));
        return y;
    }

    // Only the indexing changes: put the size-1 dims back.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy.Reshape(_inputShape.ToArray())];
}
