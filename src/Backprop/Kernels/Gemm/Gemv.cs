using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// GEMM with one output row or column (m = 1 or n = 1): dot products or row updates straight
/// from the operands, without packing. Memory-bound, so it stays on the calling thread.
/// </summary>
internal static unsafe class Gemv
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C for m = 1 or n = 1 (m, n, k ≥ 1).</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
                                   T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 1)
        {
            // The one row of op(A) has stride 1 (untransposed) or lda (transposed).
            RowTimesMatrix(a, transA ? lda : 1, k, n, transB, b, ldb, alpha, beta, c, 1);
        }
        else
        {
            // Cᵀ = op(B)ᵀ·op(A)ᵀ: the one column of op(B) is a row of length k, and op(A)ᵀ swaps its transpose.
            RowTimesMatrix(b, transB ? 1 : ldb, k, m, !transA, a, lda, alpha, beta, c, ldc);
        }
    }

    /// <summary>
    /// y[j·incY] = alpha·Σ_p x[p·incX]·M(p, j) + beta·y[j·incY] for j &lt; n, where M is k×n with
    /// M(p, j) = mat[j·ld + p] when <paramref name="matTransposed"/>, else mat[p·ld + j].
    /// </summary>
    private static void RowTimesMatrix<T>(T* x, nint incX, int k, int n, bool matTransposed, T* mat, nint ld,
                                          T alpha, T beta, T* y, nint incY)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[]? rentedX = null, rentedY = null;
        try
        {
            ReadOnlySpan<T> xs;
            if (incX == 1) xs = new ReadOnlySpan<T>(x, k);
            else
            {
                rentedX = ArrayPool<T>.Shared.Rent(k);
                for (int p = 0; p < k; p++) rentedX[p] = x[p * incX];
                xs = rentedX.AsSpan(0, k);
            }

            if (matTransposed)
            {
                // Row j of mat is contiguous along p: one dot product per output.
                for (int j = 0; j < n; j++)
                {
                    T dot = alpha * TensorPrimitives.Dot(xs, new ReadOnlySpan<T>(mat + j * ld, k));
                    T* yj = y + j * incY;
                    *yj = beta == T.Zero ? dot : dot + beta * *yj;
                }
                return;
            }

            // Row p of mat is contiguous along j: accumulate scaled rows into a contiguous y.
            Span<T> acc;
            if (incY == 1) acc = new Span<T>(y, n);
            else
            {
                rentedY = ArrayPool<T>.Shared.Rent(n);
                acc = rentedY.AsSpan(0, n);
                for (int j = 0; j < n; j++) acc[j] = y[j * incY];
            }
            if (beta == T.Zero) acc.Clear();
            else if (beta != T.One) TensorPrimitives.Multiply(acc, beta, acc);
            for (int p = 0; p < k; p++) // no skipping of zero x[p]: 0·Inf must give NaN as in the packed path
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(mat + p * ld, n), alpha * xs[p], acc, acc);
            if (incY != 1)
                for (int j = 0; j < n; j++) y[j * incY] = acc[j];
        }
        finally
        {
            if (rentedX is not null) ArrayPool<T>.Shared.Return(rentedX);
            if (rentedY is not null) ArrayPool<T>.Shared.Return(rentedY);
        }
    }
}
