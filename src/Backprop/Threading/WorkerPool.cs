using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.Versioning;

namespace Backprop.Threading;

/// <summary>
/// Long-lived worker threads that run the chunks of one parallel loop at a time. A loop is
/// published by bumping a generation number packed with the next chunk index into one 64-bit
/// word; workers claim chunks with a compare-exchange on that word, so a late worker can never
/// claim a chunk of a newer loop. Idle workers spin briefly, then sleep on their own event; the caller,
/// once its own chunks are done, spins briefly for the workers' last chunks, then sleeps until the last one ends.
/// Where threads cannot start (<see cref="ThreadSupport.Available"/> is false: WebAssembly without
/// threading) the pool declines every loop, so the caller runs it alone.
/// </summary>
internal static unsafe class WorkerPool
{
    // An idle worker's spin before it sleeps: the gap between most consecutive loops of a training step. Not
    // longer: when the host takes a core away, a spinning worker takes time from the caller's serial work (a
    // 0.5 ms spin ran the mlp step 30% slower beside a busy-looping process, and no faster when idle).
    private static readonly long SpinTicks = Stopwatch.Frequency / 20000; // 50 µs

    // The caller's spin before it sleeps at the end of a loop: a chunk's usual lag behind the others.
    private static readonly long WaitSpinTicks = Stopwatch.Frequency / 20000; // 50 µs
    private static readonly ManualResetEventSlim s_callerWake = new(false, spinCount: 0);
    private static int s_callerSleeping;

    private static readonly object s_lock = new();
    private static Worker[] s_workers = [];
    private static long s_generation;

    // The current loop; written under s_lock before the generation is published.
    private static delegate*<void*, int, int, void> s_body;
    private static void* s_state;
    private static int s_length, s_grain, s_units, s_chunks;
    private static long s_next; // generation << 32 | next chunk index
    private static int s_done;
    private static Exception? s_error;

    [ThreadStatic] private static bool t_inLoop;

    /// <summary>
    /// Runs the loop's <paramref name="chunks"/> ranges on the calling thread and up to
    /// <paramref name="threads"/> − 1 workers; false if the pool is busy, this is a nested call or
    /// threads cannot start here.
    /// </summary>
    public static bool TryRun(delegate*<void*, int, int, void> body, void* state, int length, int grain, int units, int chunks, int threads)
    {
        if (!ThreadSupport.Available || t_inLoop || !Monitor.TryEnter(s_lock)) return false;
        t_inLoop = true;
        try
        {
            int wanted = Math.Min(threads, chunks) - 1;
            int helpers = Math.Min(wanted, EnsureWorkers(wanted));
            s_body = body;
            s_state = state;
            s_length = length;
            s_grain = grain;
            s_units = units;
            s_chunks = chunks;
            s_done = 0;
            s_error = null;
            long generation = ++s_generation;
            Interlocked.Exchange(ref s_next, generation << 32); // full fence: publishes the fields above
            for (int i = 0; i < helpers; i++) s_workers[i].WakeIfSleeping();

            RunChunks(generation);
            if (Volatile.Read(ref s_done) < chunks) WaitForChunks(chunks);
            if (s_error is { } error) ExceptionDispatchInfo.Capture(error).Throw();
            return true;
        }
        finally
        {
            t_inLoop = false;
            Monitor.Exit(s_lock);
        }
    }

    /// <summary>
    /// The caller's wait for the chunks the workers still run: a short spin (the usual case, a worker finishing
    /// its last chunk), then a sleep until the last chunk's thread wakes it. Sleeping rather than spinning on
    /// matters when the host takes a core away: a worker preempted in the middle of a chunk is runnable, and the
    /// core the caller leaves idle can run it at once, where a spinning caller would keep that core busy and
    /// leave the worker queued behind the other core's load.
    /// </summary>
    [UnsupportedOSPlatform("browser")] // called only once workers run, which ThreadSupport.Available guards
    private static void WaitForChunks(int chunks)
    {
        long deadline = Stopwatch.GetTimestamp() + WaitSpinTicks;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (Volatile.Read(ref s_done) >= chunks) return;
            Thread.SpinWait(20);
        }
        // Dekker-style handshake with the thread that finishes the last chunk (RunChunks): announce, fence, re-check, sleep.
        s_callerWake.Reset();
        Interlocked.Exchange(ref s_callerSleeping, 1);
        if (Volatile.Read(ref s_done) < chunks) s_callerWake.Wait();
        Volatile.Write(ref s_callerSleeping, 0);
    }

    /// <summary>Claims and runs chunks of <paramref name="generation"/> until none is left.</summary>
    private static void RunChunks(long generation)
    {
        while (true)
        {
            long v = Volatile.Read(ref s_next);
            if (v >> 32 != generation) return;
            // Read after the generation check; the compare-exchange below proves they belong to it.
            delegate*<void*, int, int, void> body = s_body;
            void* state = s_state;
            int chunks = s_chunks, units = s_units, grain = s_grain, length = s_length;
            int index = (int)(v & 0xFFFFFFFF);
            if (index >= chunks) return;
            if (Interlocked.CompareExchange(ref s_next, v + 1, v) != v) continue;
            int start = (int)Math.Min((long)units * index / chunks * grain, length);
            int end = (int)Math.Min((long)units * (index + 1) / chunks * grain, length);
            try
            {
                if (start < end) body(state, start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref s_error, e, null);
            }
            if (Interlocked.Increment(ref s_done) == chunks && Volatile.Read(ref s_callerSleeping) != 0) s_callerWake.Set();
        }
    }

    /// <summary>
    /// Starts workers until there are <paramref name="count"/>, and returns how many there are: fewer if the
    /// platform refuses a thread start (which switches threads off for the process, see <see cref="ThreadSupport"/>).
    /// </summary>
    [UnsupportedOSPlatform("browser")]
    private static int EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return s_workers.Length;
        var workers = new List<Worker>(s_workers);
        try
        {
            for (int i = s_workers.Length; i < count; i++) workers.Add(new Worker(i, s_generation));
        }
        catch (PlatformNotSupportedException)
        {
            ThreadSupport.StartRefused();
        }
        s_workers = [.. workers];
        return s_workers.Length;
    }

    [UnsupportedOSPlatform("browser")]
    private sealed class Worker
    {
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
        private int _sleeping;

        private readonly long _startGeneration;

        /// <summary>
        /// Starts a worker that takes part in every loop after <paramref name="generation"/>, including
        /// the one about to be published even if the thread only starts running after it is (a team
        /// loop waits for every member, so a new worker must not skip it).
        /// </summary>
        public Worker(int index, long generation)
        {
            _startGeneration = generation;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Backprop worker {index + 1}" };
            thread.Start();
        }

        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) != 0) _wake.Set();
        }

        private void Loop()
        {
            t_inLoop = true; // kernels called from a chunk must not re-enter the pool
            long seen = _startGeneration;
            while (true)
            {
                long generation = WaitForNewGeneration(seen);
                seen = generation;
                RunChunks(generation);
            }
        }

        private long WaitForNewGeneration(long seen)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            while (true)
            {
                long g = Volatile.Read(ref s_next) >> 32;
                if (g != seen) return g;
                if (Stopwatch.GetTimestamp() < deadline)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                // Dekker-style handshake with WakeIfSleeping: announce, fence, re-check, then sleep.
                _wake.Reset();
                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref s_next) >> 32 == seen) _wake.Wait();
                Volatile.Write(ref _sleeping, 0);
                deadline = Stopwatch.GetTimestamp() + SpinTicks;
            }
        }
    }
}
