using System.Runtime.CompilerServices;
using Backprop.Diagnostics;

namespace Backprop.Threading;

/// <summary>
/// Controls the threads kernels use (GEMM today; other kernels can share the same pool).
/// Work is split across one persistent worker per extra thread plus the calling thread.
/// </summary>
/// <remarks>
/// Where threads cannot start (Blazor WebAssembly without threading), every loop runs on the calling thread:
/// <see cref="ThreadCount"/> defaults to 1 there, and a larger value is accepted (shared code need not test the
/// platform) but starts no thread, with a warning through <see cref="Warnings"/> the first time. Results equal those
/// of the same thread count where threads run: they never depend on which thread ran a piece of work.
/// </remarks>
public static class Parallelism
{
    private static volatile int s_threadCount = ThreadSupport.Available ? Math.Max(1, Environment.ProcessorCount) : 1;

    /// <summary>
    /// Number of threads a kernel may use, the calling thread included. Defaults to
    /// <see cref="Environment.ProcessorCount"/> (1 where threads cannot start); 1 runs everything on the calling thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int ThreadCount
    {
        get => s_threadCount;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), $"Parallelism.ThreadCount: must be at least 1, got {value}");
            s_threadCount = value;
            if (value > 1 && !ThreadSupport.Available)
                Warnings.Once("Parallelism",
                    "Parallelism.ThreadCount above 1 has no effect here: this platform cannot start threads (WebAssembly without threading), " +
                    "so every kernel runs on the calling thread (results equal those of the same ThreadCount where threads run).");
        }
    }

    /// <summary>
    /// Ranges per thread for loops whose ranges cost about the same (element-wise maps, rows of a
    /// norm or softmax, attention slices): enough that a stalled thread delays the loop by at most
    /// a fraction of its share, few enough that claiming them costs nothing measurable.
    /// </summary>
    internal const int BalancedChunks = 4;

    /// <summary>
    /// Runs body.Invoke(start, end) over [0, length) split into at most <see cref="ThreadCount"/> ×
    /// <paramref name="chunksPerThread"/> contiguous ranges whose boundaries are multiples of
    /// <paramref name="grain"/>. Threads claim ranges in order from a shared counter, so with several
    /// ranges per thread a thread that starts late or is descheduled by a busy host does fewer of
    /// them instead of holding up the others. Returns when every range is done. The body must be a
    /// local of the caller (it is read through its address by the workers). Nested calls, calls from
    /// a worker, and calls while another thread holds the pool run on the calling thread.
    /// </summary>
    internal static unsafe void ParallelFor<TBody>(int length, int grain, ref TBody body, int chunksPerThread = 1) where TBody : struct, IRangeBody
    {
        if (length <= 0) return;
        grain = Math.Max(grain, 1);
        int units = (int)(((long)length + grain - 1) / grain);
        int threads = ThreadCount;
        int chunks = threads == 1 ? 1 : (int)Math.Min((long)threads * Math.Max(chunksPerThread, 1), units);
        if (chunks <= 1 || !WorkerPool.TryRun(&Invoke<TBody>, Unsafe.AsPointer(ref body), length, grain, units, chunks, threads))
            body.Invoke(0, length);
    }

    private static unsafe void Invoke<TBody>(void* state, int start, int end) where TBody : struct, IRangeBody
        => Unsafe.AsRef<TBody>(state).Invoke(start, end);
}

/// <summary>A loop body over a range [start, end), run by <see cref="Parallelism.ParallelFor{TBody}"/>.</summary>
internal interface IRangeBody
{
    void Invoke(int start, int end);
}
