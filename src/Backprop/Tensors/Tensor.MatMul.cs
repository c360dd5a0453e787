using Backprop.Ops.MatMul;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product with torch.matmul semantics: [k]·[k] → 0-d dot product; [m, k]·[k, n] → [m, n];
    /// a 1-D operand is promoted to a matrix ([k] → [1, k] on the left, [k, 1] on the right) and the
    /// added dim removed from the result; operands of rank ≥ 3 are batches of matrices whose leading
    /// dims broadcast: [..., m, k]·[..., k, n] → [broadcast(...), m, n]. Transposed views are read
    /// in place (no copy).
    /// </summary>
    /// <exception cref="ArgumentException">An operand is 0-d, the inner dims differ, the batch dims do not
    /// broadcast, the dtypes differ, or the dtype is not floating point.</exception>
    public Tensor MatMul(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Tensor a = this, b = other;
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"MatMul: both operands need at least one dimension, got {a.Shape} by {b.Shape}");
        CheckSameDType(a, b, "MatMul");
        if (!a.DType.IsFloatingPoint())
            throw new ArgumentException($"MatMul: {a.DType.Name()} tensors are not supported ({a.Shape} by {b.Shape}); convert them with To(DType.Float32) or To(DType.Float64)");
        int k = a.Shape[a.Rank - 1], kb = b.Shape[b.Rank == 1 ? 0 : b.Rank - 2];
        if (k != kb)
            throw new ArgumentException($"MatMul: inner dimensions differ, {a.Shape} by {b.Shape} ({k} vs {kb})");

        Tensor a2 = a.Rank == 1 ? a.Reshape(1, k) : a;         // [k] -> [1, k]
        Tensor b2 = b.Rank == 1 ? b.Reshape(k, 1) : b;         // [k] -> [k, 1]
        Tensor y;
        if (a2.Rank > 2 && b2.Rank == 2 && a2.IsContiguous)
        {
            // [..., m, k]·[k, n]: fold the batch into the rows, one large GEMM instead of many.
            int rows = Product(a2.Shape.Dims[..^1]);
            Tensor flat = MatMulNode.Forward(a2.Reshape(rows, k), b2);   // [B*m, n]
            int[] dims = a2.Shape.ToArray();
            dims[^1] = b2.Shape[1];
            y = flat.Reshape(dims);                                           // [..., m, n]
        }
        else
        {
            y = MatMulNode.Forward(a2, b2);
        }

        if (a.Rank == 1 && b.Rank == 1) return y.Reshape();                   // [1, 1] -> []
        if (a.Rank == 1) return y.Reshape(DropDim(y.Shape, y.Rank - 2));     // [..., 1, n] -> [..., n]
        if (b.Rank == 1) return y.Reshape(DropDim(y.Shape, y.Rank - 1));     // [..., m, 1] -> [..., m]
        return y;
    }

    private static int Product(ReadOnlySpan<int> dims)
    {
        int p = 1;
        foreach (int d in dims) p *= d;
        return p;
    }

    private static int[] DropDim(Shape shape, int dim)
    {
        var dims = new int[shape.Rank - 1];
        for (int d = 0, j = 0; d < shape.Rank; d++)
            if (d != dim) dims[j++] = shape[d];
        return dims;
    }
}
