using System.Numerics;

namespace Backprop.Kernels;

/// <summary>
/// General matrix multiply on row-major buffers: C = alpha·op(A)·op(B) + beta·C, where op(X)
/// is X or Xᵀ. A is M×K after op, B is K×N after op, C is M×N. lda/ldb/ldc are row strides.
/// </summary>
internal static class Gemm
{
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
                                   T alpha, ReadOnlySpan<T> a, int lda,
                                   ReadOnlySpan<T> b, int ldb,
                                   T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Placeholder i-k-j loop with the row of B streamed contiguously; replaced by the packed kernel.
        for (int i = 0; i < m; i++)
        {
            Span<T> cRow = c.Slice(i * ldc, n);
            if (beta == T.Zero) cRow.Clear();
            else if (beta != T.One) System.Numerics.Tensors.TensorPrimitives.Multiply(cRow, beta, cRow);
            for (int p = 0; p < k; p++)
            {
                T aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p]);
                if (aip == T.Zero) continue;
                if (!transB)
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), aip, cRow, cRow);
                else
                    for (int j = 0; j < n; j++) cRow[j] += aip * b[j * ldb + p];
            }
        }
    }
}
