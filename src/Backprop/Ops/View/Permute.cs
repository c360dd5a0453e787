using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.View;

/// <summary>Reorders dimensions as a view (no copy); transpose is the two-dim case.</summary>
internal sealed class PermuteNode(Tensor x, int[] order) : Node(x)
{
    public static Tensor Forward(Tensor x, ReadOnlySpan<int> dims)
    {
        if (dims.Length != x.Rank)
            throw new ArgumentException($"Permute: got {dims.Length} dims [{string.Join(", ", dims.ToArray())}] for a tensor of shape {x.Shape} (rank {x.Rank})");
        var order = new int[dims.Length];
        var seen = new bool[dims.Length];
        var shape = new int[dims.Length];
        var strides = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            int d = x.Shape.NormalizeDim(dims[i], "Permute");
            if (seen[d]) throw new ArgumentException($"Permute: dimension {dims[i]} repeats in [{string.Join(", ", dims.ToArray())}]");
            seen[d] = true;
            order[i] = d;
            shape[i] = x.Shape[d];
            strides[i] = x.Strides[d];
        }
        Tensor y = x.Strided(new Shape(shape), strides, x.Offset);
        if (GradMode.Records(x)) y.SetGradFn(new PermuteNode(x, order));
        return y;
    }

    // Moving elements around moves their gradients the same way: apply the inverse permutation.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        var inverse = new int[order.Length];
        for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
        return [dy.Permute(inverse)];
    }
}
