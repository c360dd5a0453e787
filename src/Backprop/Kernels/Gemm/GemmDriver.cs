using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Threading;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// Cache-blocked GEMM around micro-kernel <typeparamref name="K"/>. For each NC column block and
/// KC depth block ("block"), B is packed once into a shared panel; the rows of C are cut into
/// chunks of at most MC rows, and each chunk packs its rows of A (a row-major A is read in place
/// instead, see <see cref="ReadsAInPlace"/>) and sweeps its MR×NR tiles with the B micro-panels
/// reused across the rows.
/// <para>
/// Several threads cooperate without fixed shares: the work is a list of items, per block first
/// the slices of the B panel to pack, then the row chunks to compute, and each thread claims the
/// next item from one counter. An item only waits for items claimed before it (a row chunk for
/// the B panel of its block and for the same chunk of the previous block, a B slice for the rows
/// that last used its buffer), so a thread that starts late or is descheduled just takes fewer
/// items, and the calling thread alone can do all of them (the claiming is <see cref="DynamicParallel"/>). Two B buffers alternate, so packing
/// the next block overlaps the end of the current one. Every tile of C is computed by one kernel
/// call per block whoever claims it, so results do not depend on the number of threads.
/// </para>
/// </summary>
internal static unsafe class GemmDriver<T, K> where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGemmKernel<T>
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C with m, n, k ≥ 1 (checked by the caller), on the calling thread.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads: 1, default);

    /// <summary>As the single-threaded <see cref="Run(bool, bool, int, int, int, T, T*, nint, T*, nint, T, T*, nint)"/>, with an epilogue.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc, GemmEpilogue<T> epilogue)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads: 1, epilogue);

    /// <summary>
    /// As <see cref="Run(bool, bool, int, int, int, T, T*, nint, T*, nint, T, T*, nint)"/>, shared by up to
    /// <paramref name="threads"/> threads, with <paramref name="epilogue"/> applied to each tile of C while it is in cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(bool transA, bool transB, int m, int n, int k, T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc,
                           int threads, GemmEpilogue<T> epilogue)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, epilogue, default);

    /// <summary>As above; when <paramref name="gather"/> is set, B is packed from it and <paramref name="b"/>, <paramref name="transB"/> are ignored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(bool transA, bool transB, int m, int n, int k, T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc,
                           int threads, GemmEpilogue<T> epilogue, GemmGatherB<T> gather)
    {
        int mr = K.MR, nr = K.NR;
        // Split k into equal blocks so a k just over KC does not leave a sliver.
        int kBlocks = (k + K.KC - 1) / K.KC;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        int ncMax = Math.Min(K.NC, RoundUp(n, nr));
        int blocks = kBlocks * ((n + K.NC - 1) / K.NC);

        // Row chunks: whole MR tiles, at most MC rows, and with several threads at least two per
        // thread (so that a late thread still finds work) and of equal size.
        int mTiles = (m + mr - 1) / mr;
        int chunks = (m + K.MC - 1) / K.MC;
        if (threads > 1) chunks = Math.Min(Math.Max(chunks, 2 * threads), mTiles);
        int rowChunk = RoundUp((m + chunks - 1) / chunks, mr);
        chunks = (m + rowChunk - 1) / rowChunk;
        int slices = threads > 1 ? Math.Min(2 * threads, (ncMax + nr - 1) / nr) : 1;

        nint bufferElems = ((nint)ncMax * kcMax + GemmPacking.Slack + 15) & ~(nint)15; // keeps the second buffer 64-byte aligned
        bool shared = threads > 1;
        T* packB = (T*)GemmWorkspace.B((shared ? 2 : 1) * bufferElems * sizeof(T));

        // Progress counters: per block the packed slices and finished row chunks, per chunk the blocks done.
        int counters = 2 * blocks + chunks;
        int[]? rented = counters > 256 ? ArrayPool<int>.Shared.Rent(counters) : null;
        Span<int> state = rented is null ? stackalloc int[counters] : rented.AsSpan(0, counters);
        state.Clear();
        try
        {
            fixed (int* s = state)
            {
                var work = new Work
                {
                    TransA = transA, TransB = transB, M = m, N = n, Depth = k, KcMax = kcMax, KBlocks = kBlocks,
                    Alpha = alpha, Beta = beta, A = a, B = b, C = c, Lda = lda, Ldb = ldb, Ldc = ldc, Epilogue = epilogue, Gather = gather,
                    PackB0 = packB, PackB1 = shared ? packB + bufferElems : packB,
                    RowChunk = rowChunk, Chunks = chunks, Slices = slices, Blocks = blocks,
                    SlicesPacked = s, ChunksDone = s + blocks, ChunkBlocks = s + 2 * blocks,
                };
                DynamicParallel.For(blocks * (slices + chunks), shared ? threads : 1, ref work);
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>One product's work list and progress, shared by the threads that take items from it.</summary>
    private struct Work : IUnitBody
    {
        public bool TransA, TransB;
        public int M, N, Depth, KcMax, KBlocks, RowChunk, Chunks, Slices, Blocks;
        public T Alpha, Beta;
        public T* A, B, C, PackB0, PackB1;
        public nint Lda, Ldb, Ldc;
        public GemmEpilogue<T> Epilogue;
        public GemmGatherB<T> Gather;
        public int* SlicesPacked, ChunksDone, ChunkBlocks;

        /// <summary>
        /// Runs item <paramref name="item"/>: per block (in order), first its B slices, then its row chunks.
        /// Items are claimed in order (<see cref="DynamicParallel"/>), so the items waited for are running.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        [SkipLocalsInit] // the edge tile is written before it is read
        public readonly void Invoke(int item)
        {
            int perBlock = Slices + Chunks;
            int block = item / perBlock, index = item % perBlock;
            int jc = block / KBlocks * K.NC, pc = block % KBlocks * KcMax;
            int nc = Math.Min(K.NC, N - jc), kc = Math.Min(KcMax, Depth - pc);
            T* packB = (block & 1) == 0 ? PackB0 : PackB1;
            if (index < Slices)
            {
                // The buffer was last read by block - 2: all its row chunks must be done.
                if (block >= 2) WaitFor(ref ChunksDone[block - 2], Chunks);
                PackSlice(index, jc, pc, nc, kc, packB);
                Interlocked.Increment(ref SlicesPacked[block]);
                ProgressWait.Advanced();
                return;
            }
            int chunk = index - Slices;
            WaitFor(ref SlicesPacked[block], Slices);
            WaitFor(ref ChunkBlocks[chunk], block); // this chunk's previous block has written C
            int splat = K.SplatsA ? Vector128<T>.Count : 1;
            T* packA = (T*)GemmWorkspace.A(((nint)RowChunk * KcMax * splat + GemmPacking.Slack) * sizeof(T));
            T* edge = stackalloc T[K.MR * K.NR];
            int ic = chunk * RowChunk, mc = Math.Min(RowChunk, M - ic);
            T* aBlock = TransA ? A + pc * Lda + ic : A + ic * Lda + pc;
            // Whole MR-row panels of a row-major A are read in place; only the rest is packed.
            int inPlace = !K.SplatsA && ReadsAInPlace(TransA, Lda) ? mc / K.MR * K.MR : 0;
            if (K.SplatsA)
                GemmPacking.PackASplat(TransA, aBlock, Lda, mc, kc, packA, K.MR);
            else if (inPlace < mc)
                GemmPacking.PackA(TransA, TransA ? aBlock + inPlace : aBlock + inPlace * Lda, Lda, mc - inPlace, kc, packA + (nint)inPlace * kc, K.MR);
            T beta = pc == 0 ? Beta : T.One; // later depth blocks accumulate
            // The bias joins with the first depth block, the activation follows the last one.
            bool last = pc + kc == Depth;
            MacroKernel(mc, nc, kc, aBlock, Lda, inPlace, packA, packB, C + ic * Ldc + jc, Ldc, Alpha, beta, edge,
                        Epilogue.At(ic, jc), pc == 0, last);
            if (last) Epilogue.ApplyGelu(C + ic * Ldc + jc, Ldc, ic, jc, mc, nc); // on the whole block, still in L2
            Interlocked.Exchange(ref ChunkBlocks[chunk], block + 1);
            Interlocked.Increment(ref ChunksDone[block]);
            ProgressWait.Advanced();
        }

        /// <summary>Packs slice <paramref name="index"/> (whole NR panels) of the block's B panel.</summary>
        private readonly void PackSlice(int index, int jc, int pc, int nc, int kc, T* packB)
        {
            int nr = K.NR, panels = (nc + nr - 1) / nr;
            int j0 = panels * index / Slices * nr, j1 = Math.Min(panels * (index + 1) / Slices * nr, nc);
            if (j0 >= j1) return;
            int col = jc + j0;
            if (Gather.IsSet)
            {
                Gather.Pack(pc, kc, col, j1 - j0, packB + (nint)j0 * kc, nr);
                return;
            }
            GemmPacking.PackB(TransB, TransB ? B + col * Ldb + pc : B + pc * Ldb + col, Ldb, kc, j1 - j0, packB + (nint)j0 * kc, nr);
        }

        /// <summary>Waits until <paramref name="counter"/> reaches <paramref name="target"/>; it is advanced by an item claimed earlier, which is running.</summary>
        private static void WaitFor(ref int counter, int target) => ProgressWait.Until(ref counter, target);
    }

    /// <summary>
    /// Whether A's panels are read in place rather than packed: A must be row-major (its rows run along
    /// the depth), and its rows must not all fall into the same L1 sets, which a row stride of a whole
    /// multiple of 4 KiB would make (six or eight rows competing for the ways the B panel needs).
    /// </summary>
    internal static bool ReadsAInPlace(bool transA, nint lda) => !transA && ((lda * sizeof(T)) & 4095) != 0;

    /// <summary>
    /// C block [mc, nc] = alpha·(A block)·(packed B panel) + beta·C, tile by tile. The first
    /// <paramref name="inPlace"/> rows of A are read from <paramref name="aRows"/> (row stride
    /// <paramref name="lda"/>), the others from their packed panels in <paramref name="packA"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MacroKernel(int mc, int nc, int kc, T* aRows, nint lda, int inPlace, T* packA, T* packB, T* c, nint ldc,
                                    T alpha, T beta, T* edge, GemmEpilogue<T> epilogue, bool first, bool last)
    {
        // The bias joins with the first depth block, ReLU follows the last: in the kernel's registers for a whole tile.
        T* bias = first ? epilogue.Bias : null;
        bool relu = last && epilogue.Relu;
        int mr = K.MR, nr = K.NR;
        for (int jr = 0; jr < nc; jr += nr)
        {
            int ncols = Math.Min(nr, nc - jr);
            T* panelB = packB + (nint)jr * kc;
            T* cColumn = c + jr;
            T* biasTile = bias == null ? null : bias + jr;
            for (int ir = 0; ir < mc; ir += mr)
            {
                int nrows = Math.Min(mr, mc - ir);
                T* cTile = cColumn + ir * ldc;
                if (ir < inPlace)
                    Tile(kc, new RowsA<T>(aRows + ir * lda, lda), panelB, cTile, ldc, nrows, ncols, alpha, beta, edge, biasTile, relu);
                else if (K.SplatsA)
                    Tile(kc, new SplatA<T>(packA + (nint)ir * kc * Vector128<T>.Count, mr), panelB, cTile, ldc, nrows, ncols, alpha, beta, edge, biasTile, relu);
                else
                    Tile(kc, new PackedA<T>(packA + (nint)ir * kc, mr), panelB, cTile, ldc, nrows, ncols, alpha, beta, edge, biasTile, relu);
            }
        }
    }

    /// <summary>
    /// One tile of C, with the bias and ReLU; a partial tile is computed whole into <paramref name="edge"/>, its valid
    /// corner copied out, and then finished in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TA>(int kc, TA a, T* panelB, T* cTile, nint ldc, int nrows, int ncols, T alpha, T beta, T* edge, T* bias, bool relu)
        where TA : struct, IPanelA<T>
    {
        if (nrows == K.MR && ncols == K.NR)
            K.Kernel(kc, a, panelB, cTile, ldc, alpha, beta, bias, relu);
        else
        {
            K.Kernel(kc, a, panelB, edge, K.NR, T.One, T.Zero, null, false);
            StoreEdge(edge, K.NR, cTile, ldc, nrows, ncols, alpha, beta);
            if (bias != null || relu) GemmEpilogue<T>.BiasRelu(cTile, ldc, nrows, ncols, bias, relu);
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
