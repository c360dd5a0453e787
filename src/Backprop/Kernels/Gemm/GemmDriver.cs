using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Kernels;

/// <summary>
/// Cache-blocked GEMM around micro-kernel <typeparamref name="K"/>: for each NC column block and
/// KC depth block, B is packed once; for each MC row block A is packed and the MR×NR tiles are
/// swept with the B micro-panel reused across the rows. A team of threads shares the packed B
/// (each member packs a slice of it) and splits the rows of C, each member packing its own A
/// blocks, so nothing is packed twice. Every element of C is computed by one thread with the
/// same sequence of kernel calls whatever the team size, so results do not depend on it.
/// </summary>
internal static unsafe class GemmDriver<T, K> where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGemmKernel<T>
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C with m, n, k ≥ 1 (checked by the caller), on the calling thread.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads: 1);

    /// <summary>As <see cref="Run(bool, bool, int, int, int, T, T*, nint, T*, nint, T, T*, nint)"/>, on a team of <paramref name="threads"/>.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc, int threads)
    {
        // Split k into equal blocks so a k just over KC does not leave a sliver.
        int kBlocks = (k + K.KC - 1) / K.KC;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        int ncMax = Math.Min(K.NC, RoundUp(n, K.NR));
        // Two packed-B buffers when several threads share them: a member may pack the next block
        // while another still computes with the current one.
        nint bufferElems = (nint)ncMax * kcMax + GemmPacking.Slack;
        bufferElems = (bufferElems + 15) & ~(nint)15; // keeps the second buffer 64-byte aligned
        bool team = threads > 1;
        T* packB = (T*)GemmWorkspace.B((team ? 2 : 1) * bufferElems * sizeof(T));
        var barrier = new TeamBarrier();
        var body = new Body
        {
            TransA = transA, TransB = transB, M = m, N = n, Depth = k, KcMax = kcMax, Alpha = alpha, Beta = beta,
            A = a, B = b, C = c, Lda = lda, Ldb = ldb, Ldc = ldc,
            PackB0 = packB, PackB1 = team ? packB + bufferElems : packB, Barrier = &barrier,
        };
        if (team) Threading.RunTeam(threads, ref body);
        else body.Invoke(0, 1);
    }

    private struct Body : ITeamBody
    {
        public bool TransA, TransB;
        public int M, N, Depth, KcMax;
        public T Alpha, Beta;
        public T* A, B, C, PackB0, PackB1;
        public nint Lda, Ldb, Ldc;
        public TeamBarrier* Barrier;

        public readonly void Invoke(int index, int count) => Compute(in this, index, count);
    }

    /// <summary>Member <paramref name="index"/> of <paramref name="count"/>: its share of B packing and its rows of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute(in Body p, int index, int count)
    {
        int mr = K.MR, nr = K.NR, m = p.M, n = p.N, k = p.Depth, kcMax = p.KcMax;
        bool transA = p.TransA, transB = p.TransB;
        T* a = p.A, b = p.B, c = p.C;
        nint lda = p.Lda, ldb = p.Ldb, ldc = p.Ldc;
        T alpha = p.Alpha;

        // Rows [i0, i1) of C, whole MR tiles.
        int mTiles = (m + mr - 1) / mr;
        int i0 = Math.Min(mTiles * index / count * mr, m), i1 = Math.Min(mTiles * (index + 1) / count * mr, m);
        int mcMax = Math.Min(K.MC, RoundUp(Math.Max(i1 - i0, 1), mr));
        T* packA = (T*)GemmWorkspace.A(((nint)mcMax * kcMax + GemmPacking.Slack) * sizeof(T));
        T* edge = stackalloc T[K.MR * K.NR];

        int block = 0;
        for (int jc = 0; jc < n; jc += K.NC)
        {
            int nc = Math.Min(K.NC, n - jc);
            for (int pc = 0; pc < k; pc += kcMax, block++)
            {
                int kc = Math.Min(kcMax, k - pc);
                T betaBlock = pc == 0 ? p.Beta : T.One; // later depth blocks accumulate
                T* packB = (block & 1) == 0 ? p.PackB0 : p.PackB1;

                // This member's slice of the packed B: whole NR panels.
                int panels = (nc + nr - 1) / nr;
                int j0 = panels * index / count * nr, j1 = Math.Min(panels * (index + 1) / count * nr, nc);
                if (j0 < j1)
                {
                    int col = jc + j0;
                    GemmPacking.PackB(transB, transB ? b + col * ldb + pc : b + pc * ldb + col, ldb, kc, j1 - j0, packB + (nint)j0 * kc, nr);
                }
                // Every slice is packed before anyone reads the panel. The other buffer is free:
                // everyone passed the previous barrier, so nobody still computes with block - 2.
                p.Barrier->Wait(count);

                for (int ic = i0; ic < i1; ic += K.MC)
                {
                    int mc = Math.Min(K.MC, i1 - ic);
                    GemmPacking.PackA(transA, transA ? a + pc * lda + ic : a + ic * lda + pc, lda, mc, kc, packA, mr);
                    MacroKernel(mc, nc, kc, packA, packB, c + ic * ldc + jc, ldc, alpha, betaBlock, edge);
                }
            }
        }
    }

    /// <summary>C block [mc, nc] += the packed A block times the packed B panel, tile by tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel(int mc, int nc, int kc, T* packA, T* packB, T* c, nint ldc, T alpha, T beta, T* edge)
    {
        int mr = K.MR, nr = K.NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int ncols = Math.Min(nr, nc - jr);
            T* panelB = packB + (nint)jr * kc;
            T* cColumn = c + jr;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int nrows = Math.Min(mr, mc - ir);
                T* panelA = packA + (nint)ir * kc;
                T* cTile = cColumn + ir * ldc;
                if (nrows == mr && ncols == nr)
                    K.Kernel(kc, panelA, panelB, cTile, ldc, alpha, beta);
                else
                {
                    K.Kernel(kc, panelA, panelB, edge, nr, T.One, T.Zero);
                    StoreEdge(edge, nr, cTile, ldc, nrows, ncols, alpha, beta);
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
