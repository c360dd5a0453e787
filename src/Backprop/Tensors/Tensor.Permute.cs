using Backprop.Ops.View;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>Reorders dimensions (a view): output dim i is input dim dims[i].</summary>
    public Tensor Permute(params int[] dims) => PermuteNode.Forward(this, dims);

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var order = new int[Rank];
        for (int i = 0; i < Rank; i++) order[i] = i;
        int a = Shape.NormalizeDim(dim0, "Transpose"), b = Shape.NormalizeDim(dim1, "Transpose");
        if (Rank == 0) return this;
        (order[a], order[b]) = (order[b], order[a]);
        return PermuteNode.Forward(this, order);
    }

    /// <summary>Transpose of a 2-D tensor (a view); for higher ranks swaps the last two dims.</summary>
    public Tensor T() => Rank < 2 ? this : Transpose(-2, -1);
}
