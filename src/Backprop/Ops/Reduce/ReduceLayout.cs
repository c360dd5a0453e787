using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>
/// Lays a reduction out as a contiguous [outer, n, inner] block for the middle-axis kernels:
/// adjacent reduced dims are read in place, scattered ones are permuted to the end first.
/// </summary>
internal static class ReduceLayout
{
    /// <summary>Contiguous, detached source and its [outer, n, inner] geometry for reducing the masked dims.</summary>
    public static Tensor Prepare(Tensor x, bool[] reduced, out int outer, out int n, out int inner)
    {
        Tensor detached = x.Detach();
        if (ReduceDims.TryBlock(x.Shape, reduced, out outer, out n, out inner))
            return detached.Contiguous();
        n = ReduceDims.ReducedCount(x.Shape, reduced);
        outer = x.Numel / Math.Max(n, 1);
        if (n == 0) outer = ReduceDims.DroppedShape(x.Shape, reduced).Numel;
        inner = 1;
        return detached.Permute(ReduceDims.KeptFirstOrder(reduced)).Contiguous();
    }

    /// <summary>[outer, size, inner] around one (already normalized) dim; a 0-d tensor is [1, 1, 1].</summary>
    public static void AroundDim(Shape shape, int dim, out int outer, out int n, out int inner)
    {
        outer = 1; inner = 1;
        if (shape.Rank == 0) { n = 1; return; }
        for (int d = 0; d < dim; d++) outer *= shape[d];
        n = shape[dim];
        for (int d = dim + 1; d < shape.Rank; d++) inner *= shape[d];
    }

    /// <summary>The reduced dims as a list of indices (for differentiable re-reductions in backward).</summary>
    public static int[] DimList(bool[] reduced)
    {
        int count = 0;
        foreach (bool r in reduced) if (r) count++;
        var dims = new int[count];
        count = 0;
        for (int d = 0; d < reduced.Length; d++) if (reduced[d]) dims[count++] = d;
        return dims;
    }

    /// <summary>Output with the reduced dims removed when keepDim is false (a view of the kept-shape result).</summary>
    public static Tensor Finish(Tensor keptResult, Shape inputShape, bool[] reduced, bool keepDim)
    {
        if (keepDim) return keptResult;
        Shape dropped = ReduceDims.DroppedShape(inputShape, reduced);
        return keptResult.Strided(dropped, dropped.ContiguousStrides(), keptResult.Offset);
    }

    /// <summary>A mask reducing the single dim (normalized) of shape.</summary>
    public static bool[] SingleDim(Shape shape, int dim)
    {
        var mask = new bool[shape.Rank];
        if (shape.Rank > 0) mask[dim] = true;
        return mask;
    }

    /// <summary>dy viewed in the kept shape (reduced dims as size 1) so it broadcasts against the input.</summary>
    public static Tensor Unsqueeze(Tensor dy, Shape inputShape, bool[] reduced, bool keepDim)
        => keepDim ? dy : dy.Reshape(ReduceDims.KeptShape(inputShape, reduced).ToArray());
}
