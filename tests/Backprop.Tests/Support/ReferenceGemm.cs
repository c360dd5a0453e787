namespace Backprop.Tests.Support;

/// <summary>Naive triple-loop GEMM in double precision, the reference the packed kernel is tested against.</summary>
internal static class ReferenceGemm
{
    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C computed in double, row-major with row strides lda/ldb/ldc.
    /// Also returns, per element of C, the bound Σ|alpha·a·b| + |beta·c| used to scale tolerances.
    /// </summary>
    public static (double[] C, double[] Magnitude) Multiply(bool transA, bool transB, int m, int n, int k,
        double alpha, double[] a, int lda, double[] b, int ldb, double beta, double[] c, int ldc)
    {
        var result = (double[])c.Clone();
        var magnitude = new double[c.Length];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * lda + i] : a[i * lda + p];
                    double y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += x * y;
                    abs += Math.Abs(x * y);
                }
                int idx = i * ldc + j;
                double old = c[idx];
                result[idx] = beta == 0 ? alpha * sum : alpha * sum + beta * old;
                magnitude[idx] = Math.Abs(alpha) * abs + (beta == 0 ? 0 : Math.Abs(beta * old));
            }
        return (result, magnitude);
    }
}
