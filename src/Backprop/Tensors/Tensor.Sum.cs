using Backprop.Ops.Reduce;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>Sum of all elements, as a 0-d tensor (for a bool tensor, the number of trues as int64, as PyTorch).</summary>
    public Tensor Sum() => SumNode.Forward(this, [], false);

    /// <summary>Sum over one dimension.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => SumNode.Forward(this, [dim], keepDim);

    /// <summary>Sum over several dimensions.</summary>
    public Tensor Sum(int[] dims, bool keepDim = false) => SumNode.Forward(this, dims, keepDim);

    /// <summary>
    /// Sums a broadcast gradient back to <paramref name="shape"/>: the leading extra dims and
    /// the dims where <paramref name="shape"/> has size 1 are summed.
    /// </summary>
    public Tensor SumToShape(Shape shape)
    {
        if (Shape == shape) return this;
        int lead = Rank - shape.Rank;
        if (lead < 0)
            throw new ArgumentException($"SumToShape: cannot sum shape {Shape} to the larger rank shape {shape}");
        var dims = new List<int>();
        for (int d = 0; d < Rank; d++)
            if (d < lead || (shape[d - lead] == 1 && Shape[d] != 1)) dims.Add(d);
        Tensor s = dims.Count > 0 ? Sum([.. dims], keepDim: true) : this;
        return s.Shape == shape ? s : s.Reshape(shape.ToArray());
    }
}
