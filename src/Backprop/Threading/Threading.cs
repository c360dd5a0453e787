using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// Controls the threads kernels use (GEMM today; other kernels can share the same pool).
/// Work is split across one persistent worker per extra thread plus the calling thread.
/// </summary>
public static class Threading
{
    private static volatile int s_threadCount = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// Number of threads a kernel may use, the calling thread included. Defaults to
    /// <see cref="Environment.ProcessorCount"/>; 1 runs everything on the calling thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int ThreadCount
    {
        get => s_threadCount;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), $"Threading.ThreadCount: must be at least 1, got {value}");
            s_threadCount = value;
        }
    }

    /// <summary>
    /// Runs body.Invoke(start, end) over [0, length) split into at most <see cref="ThreadCount"/>
    /// contiguous ranges whose boundaries are multiples of <paramref name="grain"/>. Returns when
    /// every range is done. The body must be a local of the caller (it is read through its address
    /// by the workers). Nested calls, calls from a worker, and calls while another thread holds the
    /// pool run on the calling thread.
    /// </summary>
    internal static unsafe void ParallelFor<TBody>(int length, int grain, ref TBody body) where TBody : struct, IRangeBody
    {
        if (length <= 0) return;
        grain = Math.Max(grain, 1);
        int units = (int)(((long)length + grain - 1) / grain);
        int chunks = Math.Min(ThreadCount, units);
        if (chunks <= 1 || !WorkerPool.TryRun(&Invoke<TBody>, Unsafe.AsPointer(ref body), length, grain, units, chunks))
            body.Invoke(0, length);
    }

    private static unsafe void Invoke<TBody>(void* state, int start, int end) where TBody : struct, IRangeBody
        => Unsafe.AsRef<TBody>(state).Invoke(start, end);

    /// <summary>
    /// Runs body.Invoke(index, count) once on each of <paramref name="threads"/> threads at the same time
    /// (the calling thread is one of them), so that members may wait for each other with a
    /// <see cref="TeamBarrier"/>. Falls back to a team of one on the calling thread when the pool is
    /// busy or this is a nested call. The body must be a local of the caller.
    /// </summary>
    internal static unsafe void RunTeam<TBody>(int threads, ref TBody body) where TBody : struct, ITeamBody
    {
        if (threads > 1)
        {
            var team = new TeamState { Body = Unsafe.AsPointer(ref body), Count = threads };
            // One chunk per member: a member blocked in a barrier cannot claim a second chunk, so every
            // chunk gets its own thread (the pool has threads - 1 workers plus the caller).
            if (WorkerPool.TryRun(&InvokeMember<TBody>, &team, threads, 1, threads, threads)) return;
        }
        body.Invoke(0, 1);
    }

    private unsafe struct TeamState
    {
        public void* Body;
        public int Count;
    }

    private static unsafe void InvokeMember<TBody>(void* state, int start, int end) where TBody : struct, ITeamBody
    {
        var team = (TeamState*)state;
        Unsafe.AsRef<TBody>(team->Body).Invoke(start, team->Count);
    }
}

/// <summary>The work of one member of a team run by <see cref="Threading.RunTeam{TBody}"/>.</summary>
internal interface ITeamBody
{
    void Invoke(int index, int count);
}

/// <summary>
/// A reusable spinning barrier for the members of one team. Waiters spin, then yield (never sleep),
/// since the other members are running the same loop on other cores.
/// </summary>
internal struct TeamBarrier
{
    private int _arrived;
    private int _phase;

    /// <summary>Returns once all <paramref name="count"/> members have called it.</summary>
    public void Wait(int count)
    {
        if (count <= 1) return;
        int phase = Volatile.Read(ref _phase);
        if (Interlocked.Increment(ref _arrived) == count)
        {
            _arrived = 0;
            Volatile.Write(ref _phase, phase + 1); // release: the reset above is visible before the phase moves
            return;
        }
        var spin = new SpinWait();
        while (Volatile.Read(ref _phase) == phase) spin.SpinOnce(sleep1Threshold: -1);
    }
}

/// <summary>A loop body over a range [start, end), run by <see cref="Threading.ParallelFor{TBody}"/>.</summary>
internal interface IRangeBody
{
    void Invoke(int start, int end);
}
