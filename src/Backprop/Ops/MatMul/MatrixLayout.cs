using Backprop.Tensors;

namespace Backprop.Ops.MatMul;

/// <summary>
/// How the last two dims of a tensor map onto a GEMM operand: row-major with row stride Ld, or
/// (Trans) the transpose of a row-major matrix with row stride Ld, as produced by T() on a
/// contiguous tensor. Any other layout needs a contiguous copy.
/// </summary>
internal readonly record struct MatrixLayout(bool Trans, int Ld)
{
    /// <summary>Layout of a rows×cols matrix whose elements are at r·rowStride + c·colStride.</summary>
    public static bool TryGet(int rows, int cols, int rowStride, int colStride, out MatrixLayout layout)
    {
        if ((cols <= 1 || colStride == 1) && (rows <= 1 || rowStride >= Math.Max(cols, 1)))
        {
            layout = new MatrixLayout(false, rows <= 1 ? Math.Max(cols, 1) : rowStride);
            return true;
        }
        if ((rows <= 1 || rowStride == 1) && (cols <= 1 || colStride >= Math.Max(rows, 1)))
        {
            layout = new MatrixLayout(true, cols <= 1 ? Math.Max(rows, 1) : colStride);
            return true;
        }
        layout = default;
        return false;
    }

    /// <summary>Layout of the last two dims of x, copying x (outside the graph) when no GEMM layout fits.</summary>
    public static MatrixLayout Of(ref Tensor x)
    {
        int r = x.Rank;
        if (TryGet(x.Shape[r - 2], x.Shape[r - 1], x.Strides[r - 2], x.Strides[r - 1], out MatrixLayout layout))
            return layout;
        x = x.Detach().Contiguous();
        return new MatrixLayout(false, Math.Max(x.Shape[r - 1], 1));
    }
}
