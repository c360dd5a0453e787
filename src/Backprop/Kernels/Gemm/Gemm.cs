using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Backprop.Threading;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// General matrix multiply on row-major buffers: C = alpha·op(A)·op(B) + beta·C, where op(X)
/// is X or Xᵀ. A is M×K after op, B is K×N after op, C is M×N. lda/ldb/ldc are row strides.
/// beta = 0 overwrites C without reading it. Packed, cache-blocked and register-tiled
/// (<see cref="GemmDriver{T, K}"/>); large problems run on <see cref="Parallelism.ThreadCount"/>
/// threads, which share the packed B and split M (or, for very few rows, split N).
/// </summary>
internal static unsafe class GemmKernel
{
    /// <summary>Problems with fewer multiply-adds than this run on the calling thread only.</summary>
    internal const long ParallelThreshold = 1 << 20;

    /// <summary>C = alpha·op(A)·op(B) + beta·C on spans; checks that every operand fits its span.</summary>
    /// <exception cref="ArgumentException">A size or stride is invalid, or a span is too short.</exception>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
                                   T alpha, ReadOnlySpan<T> a, int lda,
                                   ReadOnlySpan<T> b, int ldb,
                                   T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSizes(m, n, k);
        CheckOperand("A", transA ? k : m, transA ? m : k, lda, a.Length);
        CheckOperand("B", transB ? n : k, transB ? k : n, ldb, b.Length);
        CheckOperand("C", m, n, ldc, c.Length);
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
            Multiply(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, parallel: true);
    }

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C + bias (one value per column of C, added with the first depth
    /// block), then max(C, 0) when <paramref name="relu"/>: Linear's bias and ReLU fused into the GEMM.
    /// An empty <paramref name="bias"/> adds nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A size or stride is invalid, a span is too short, or the bias is shorter than n.</exception>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
                                   T alpha, ReadOnlySpan<T> a, int lda,
                                   ReadOnlySpan<T> b, int ldb,
                                   T beta, Span<T> c, int ldc, ReadOnlySpan<T> bias, bool relu)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSizes(m, n, k);
        CheckOperand("A", transA ? k : m, transA ? m : k, lda, a.Length);
        CheckOperand("B", transB ? n : k, transB ? k : n, ldb, b.Length);
        CheckOperand("C", m, n, ldc, c.Length);
        if (!bias.IsEmpty && bias.Length < n)
            throw new ArgumentException($"Gemm: the bias has {bias.Length} values but C has {n} columns");
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        fixed (T* pbias = bias)
            Multiply(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, parallel: true,
                     new GemmEpilogue<T>(bias.IsEmpty ? null : pbias, relu));
    }

    /// <summary>
    /// A batch of GEMMs with the same sizes; operand i starts at aOffsets[i], bOffsets[i],
    /// cOffsets[i] of its array. Many small products run in parallel over the batch, large ones
    /// one after another, each split over the threads.
    /// </summary>
    /// <exception cref="ArgumentException">A size, stride or offset is invalid.</exception>
    public static void MultiplyBatched<T>(bool transA, bool transB, int m, int n, int k,
                                          T alpha, T[] a, int[] aOffsets, int lda,
                                          T[] b, int[] bOffsets, int ldb,
                                          T beta, T[] c, int[] cOffsets, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSizes(m, n, k);
        int count = cOffsets.Length;
        if (aOffsets.Length != count || bOffsets.Length != count)
            throw new ArgumentException($"Gemm: batch offsets differ in length ({aOffsets.Length}, {bOffsets.Length}, {count})");
        for (int i = 0; i < count; i++)
        {
            CheckOperand("A", transA ? k : m, transA ? m : k, lda, a.Length - (long)aOffsets[i], aOffsets[i]);
            CheckOperand("B", transB ? n : k, transB ? k : n, ldb, b.Length - (long)bOffsets[i], bOffsets[i]);
            CheckOperand("C", m, n, ldc, c.Length - (long)cOffsets[i], cOffsets[i]);
        }
        if (count == 0 || m == 0 || n == 0) return;
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            if (count > 1 && Parallelism.ThreadCount > 1 && (long)m * n * k < ParallelThreshold)
            {
                var body = new BatchBody<T>
                {
                    TransA = transA, TransB = transB, M = m, N = n, Depth = k, Alpha = alpha, Beta = beta,
                    A = pa, B = pb, C = pc, Lda = lda, Ldb = ldb, Ldc = ldc,
                    AOffsets = aOffsets, BOffsets = bOffsets, COffsets = cOffsets,
                };
                Parallelism.ParallelFor(count, 1, ref body);
            }
            else
            {
                for (int i = 0; i < count; i++)
                    Multiply(transA, transB, m, n, k, alpha, pa + aOffsets[i], lda, pb + bOffsets[i], ldb, beta, pc + cOffsets[i], ldc, parallel: true);
            }
        }
    }

    /// <summary>Unchecked pointer form of <see cref="Multiply{T}(bool, bool, int, int, int, T, ReadOnlySpan{T}, int, ReadOnlySpan{T}, int, T, Span{T}, int)"/>.</summary>
    internal static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
                                     T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc, bool parallel)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Multiply(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel, default);

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C, then the <paramref name="epilogue"/> (bias per column, ReLU) on
    /// every element of C: on each tile as the driver finishes it, or in one pass for the small paths.
    /// </summary>
    internal static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
                                     T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc, bool parallel, GemmEpilogue<T> epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == T.Zero)
        {
            ScaleC(m, n, beta, c, ldc);
            epilogue.ApplyAll(c, ldc, m, n);
            return;
        }
        if (m == 1 || n == 1)
        {
            Gemv.Multiply(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            epilogue.ApplyAll(c, ldc, m, n);
            return;
        }
        if (typeof(T) == typeof(float))
            Dispatch(transA, transB, m, n, k, Unsafe.BitCast<T, float>(alpha), (float*)a, lda, (float*)b, ldb, Unsafe.BitCast<T, float>(beta), (float*)c, ldc, parallel,
                     epilogue.As<float>());
        else if (typeof(T) == typeof(double))
            Dispatch(transA, transB, m, n, k, Unsafe.BitCast<T, double>(alpha), (double*)a, lda, (double*)b, ldb, Unsafe.BitCast<T, double>(beta), (double*)c, ldc, parallel,
                     epilogue.As<double>());
        else
        {
            Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            epilogue.ApplyAll(c, ldc, m, n);
        }
    }

    /// <summary>
    /// C = alpha·op(A)·B + beta·C with B(p, j) = <paramref name="b"/>.Src[RowOff[p] + ColOff[j]] packed
    /// straight from its source (implicit GEMM); m, n, k ≥ 0. With <paramref name="parallel"/>, a large
    /// product shares its B panels among the threads and splits the rows of C. Float32 and float64 only.
    /// </summary>
    internal static void MultiplyGathered<T>(bool transA, int m, int n, int k, T alpha, T* a, nint lda, GemmGatherB<T> b, T beta, T* c, nint ldc, bool parallel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == T.Zero)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        if (typeof(T) == typeof(float))
            DispatchGathered(transA, m, n, k, Unsafe.BitCast<T, float>(alpha), (float*)a, lda, Unsafe.As<GemmGatherB<T>, GemmGatherB<float>>(ref b),
                             Unsafe.BitCast<T, float>(beta), (float*)c, ldc, parallel);
        else if (typeof(T) == typeof(double))
            DispatchGathered(transA, m, n, k, Unsafe.BitCast<T, double>(alpha), (double*)a, lda, Unsafe.As<GemmGatherB<T>, GemmGatherB<double>>(ref b),
                             Unsafe.BitCast<T, double>(beta), (double*)c, ldc, parallel);
        else
            throw new NotSupportedException($"Gemm: no gathered-B product for {typeof(T).Name}");
    }

    private static void DispatchGathered<T>(bool transA, int m, int n, int k, T alpha, T* a, nint lda, GemmGatherB<T> b, T beta, T* c, nint ldc, bool parallel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated)
            RunGathered<T, Vector512Kernel<T>>(transA, m, n, k, alpha, a, lda, b, beta, c, ldc, parallel);
        else if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
            RunGathered<T, Vector256Kernel<T>>(transA, m, n, k, alpha, a, lda, b, beta, c, ldc, parallel);
        else if (Vector128.IsHardwareAccelerated)
            RunGathered<T, Vector128Kernel<T>>(transA, m, n, k, alpha, a, lda, b, beta, c, ldc, parallel);
        else
            RunGathered<T, ScalarKernel<T>>(transA, m, n, k, alpha, a, lda, b, beta, c, ldc, parallel);
    }

    private static void RunGathered<T, K>(bool transA, int m, int n, int k, T alpha, T* a, nint lda, GemmGatherB<T> b, T beta, T* c, nint ldc, bool parallel)
        where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGemmKernel<T>
    {
        int threads = parallel && (long)m * n * k >= ParallelThreshold ? Math.Min(Parallelism.ThreadCount, (m + K.MR - 1) / K.MR) : 1;
        GemmDriver<T, K>.Run(transA, false, m, n, k, alpha, a, lda, null, 0, beta, c, ldc, Math.Max(threads, 1), default, b);
    }

    private static void Dispatch<T>(bool transA, bool transB, int m, int n, int k,
                                    T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc, bool parallel, GemmEpilogue<T> epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated)
            Split<T, Vector512Kernel<T>>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel, epilogue);
        else if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
            Split<T, Vector256Kernel<T>>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel, epilogue);
        else if (Vector128.IsHardwareAccelerated)
            Split<T, Vector128Kernel<T>>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel, epilogue);
        else
            Split<T, ScalarKernel<T>>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel, epilogue);
    }

    /// <summary>
    /// Runs on one thread; or on a team that shares the packed B and splits the rows of C; or, when
    /// C is short (all its rows fit one packed block of A, as a Linear layer's batch does), splits its
    /// columns into independent products, each packing only its own columns of B.
    /// </summary>
    /// <remarks>
    /// A short C gives each B micro-panel only a few row tiles to serve, so in the row split half of a thread's
    /// B reads are of panels the other thread packed: on a mesh-connected Xeon those come from the other core's
    /// cache. There the mlp's 128×512×784 product on 2 threads ran at 137–152 GFLOP/s split by rows and 161–172
    /// split by columns, with nothing shared (the two alternated call by call; 138 on one thread). Two column
    /// ranges per thread let the thread still running take over the second range of one that was descheduled.
    /// Every tile is computed by the same kernel calls either way, so the bits do not depend on the split.
    /// </remarks>
    private static void Split<T, K>(bool transA, bool transB, int m, int n, int k,
                                    T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc, bool parallel, GemmEpilogue<T> epilogue)
        where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGemmKernel<T>
    {
        int threads = Parallelism.ThreadCount;
        if (!parallel || threads == 1 || (long)m * n * k < ParallelThreshold)
        {
            GemmDriver<T, K>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
            return;
        }
        int mTiles = (m + K.MR - 1) / K.MR, nTiles = (n + K.NR - 1) / K.NR;
        bool shortC = m <= K.MC && nTiles >= 2 * threads;
        if (!shortC && (mTiles >= 2 * threads || mTiles >= nTiles))
        {
            GemmDriver<T, K>.Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Math.Min(threads, mTiles), epilogue);
            return;
        }
        var body = new ColumnsBody<T, K>
        {
            TransA = transA, TransB = transB, M = m, N = n, Depth = k, Alpha = alpha, Beta = beta,
            A = a, B = b, C = c, Lda = lda, Ldb = ldb, Ldc = ldc, Epilogue = epilogue,
        };
        Parallelism.ParallelFor(nTiles, 1, ref body, chunksPerThread: 2);
    }

    /// <summary>One range of a short C's column tiles: its own B columns packed, A read in place or packed for the range.</summary>
    private struct ColumnsBody<T, K> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGemmKernel<T>
    {
        public bool TransA, TransB;
        public int M, N, Depth;
        public T Alpha, Beta;
        public T* A, B, C;
        public nint Lda, Ldb, Ldc;
        public GemmEpilogue<T> Epilogue;

        public readonly void Invoke(int start, int end)
        {
            int j0 = start * K.NR, j1 = Math.Min(end * K.NR, N);
            T* b = TransB ? B + j0 * Ldb : B + j0;
            var epilogue = Epilogue.At(0, j0);
            GemmDriver<T, K>.Run(TransA, TransB, M, j1 - j0, Depth, Alpha, A, Lda, b, Ldb, Beta, C + j0, Ldc, epilogue);
        }
    }

    private struct BatchBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool TransA, TransB;
        public int M, N, Depth;
        public T Alpha, Beta;
        public T* A, B, C;
        public nint Lda, Ldb, Ldc;
        public int[] AOffsets, BOffsets, COffsets;

        public readonly void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
                Multiply(TransA, TransB, M, N, Depth, Alpha, A + AOffsets[i], Lda, B + BOffsets[i], Ldb, Beta, C + COffsets[i], Ldc, parallel: false);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaleC<T>(int m, int n, T beta, T* c, nint ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + i * ldc, n);
            if (beta == T.Zero) row.Clear(); // beta = 0 ignores NaN/Inf already in C
            else if (beta != T.One)
                for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }

    /// <summary>Plain triple loop for element types without a SIMD kernel.</summary>
    private static void Reference<T>(bool transA, bool transB, int m, int n, int k,
                                     T alpha, T* a, nint lda, T* b, nint ldb, T beta, T* c, nint ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++)
                    sum += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                T* cij = c + i * ldc + j;
                *cij = beta == T.Zero ? alpha * sum : alpha * sum + beta * *cij;
            }
    }

    internal static void CheckSizes(int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"Gemm: sizes must be non-negative, got m={m}, n={n}, k={k}");
    }

    /// <summary>A rows×cols row-major operand with row stride ld must fit in length elements.</summary>
    internal static void CheckOperand(string name, int rows, int cols, int ld, long length, int offset = 0)
    {
        if (offset < 0)
            throw new ArgumentException($"Gemm: {name} has negative offset {offset}");
        if (rows > 1 && ld < cols || ld < 0)
            throw new ArgumentException($"Gemm: {name} is stored as {rows}×{cols} but its row stride is {ld} (must be at least {cols})");
        long need = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (need > length)
            throw new ArgumentException($"Gemm: {name} is stored as {rows}×{cols} with row stride {ld}, which needs {need} elements, but only {Math.Max(length, 0)} are available");
    }
}
