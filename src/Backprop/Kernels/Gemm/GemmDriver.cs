using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Kernels;

/// <summary>
/// Single-threaded cache-blocked GEMM around micro-kernel <typeparamref name="K"/>:
/// for each NC column block and KC depth block, B is packed once; for each MC row block A is
/// packed and the MR×NR tiles are swept with the B micro-panel reused across the rows.
/// </summary>
internal static unsafe class GemmDriver<T, K> where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGemmKernel<T>
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C with m, n, k ≥ 1 (checked by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(bool transA, bool transB, int m, int n, int k, T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
    {
        int mr = K.MR, nr = K.NR;
        // Split k into equal blocks so a k just over KC does not leave a sliver.
        int kBlocks = (k + K.KC - 1) / K.KC;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        int mcMax = Math.Min(K.MC, RoundUp(m, mr));
        int ncMax = Math.Min(K.NC, RoundUp(n, nr));
        T* packA = (T*)GemmWorkspace.A(((nint)mcMax * kcMax + GemmPacking.Slack) * sizeof(T));
        T* packB = (T*)GemmWorkspace.B(((nint)ncMax * kcMax + GemmPacking.Slack) * sizeof(T));
        T* edge = stackalloc T[K.MR * K.NR];

        for (int jc = 0; jc < n; jc += K.NC)
        {
            int nc = Math.Min(K.NC, n - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                T betaBlock = pc == 0 ? beta : T.One; // later depth blocks accumulate
                GemmPacking.PackB(transB, transB ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, kc, nc, packB, nr);
                for (int ic = 0; ic < m; ic += K.MC)
                {
                    int mc = Math.Min(K.MC, m - ic);
                    GemmPacking.PackA(transA, transA ? a + pc * lda + ic : a + ic * lda + pc, lda, mc, kc, packA, mr);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int ncols = Math.Min(nr, nc - jr);
                        T* panelB = packB + (nint)jr * kc;
                        T* cColumn = c + ic * ldc + jc + jr;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int nrows = Math.Min(mr, mc - ir);
                            T* panelA = packA + (nint)ir * kc;
                            T* cTile = cColumn + ir * ldc;
                            if (nrows == mr && ncols == nr)
                                K.Kernel(kc, panelA, panelB, cTile, ldc, alpha, betaBlock);
                            else
                            {
                                K.Kernel(kc, panelA, panelB, edge, nr, T.One, T.Zero);
                                StoreEdge(edge, nr, cTile, ldc, nrows, ncols, alpha, betaBlock);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Writes the valid nrows×ncols corner of a full tile computed into scratch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreEdge(T* tile, int nr, T* c, nint ldc, int nrows, int ncols, T alpha, T beta)
    {
        for (int i = 0; i < nrows; i++, tile += nr, c += ldc)
        {
            if (beta == T.Zero)
                for (int j = 0; j < ncols; j++) c[j] = alpha * tile[j];
            else
                for (int j = 0; j < ncols; j++) c[j] = alpha * tile[j] + beta * c[j];
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
