using System.Diagnostics;

namespace Backprop.Threading;

/// <summary>
/// Waiting for a counter that another thread advances (a unit of a <see cref="DynamicParallel"/> loop waiting
/// for one claimed before it): a short spin, the usual case, then a sleep until an advance is announced.
/// Sleeping matters when the host takes a core away: the thread being waited for may be preempted but
/// runnable, and the core a sleeping waiter leaves idle can run it at once, where a spinning (or yielding)
/// waiter keeps that core busy. Every advance of a counter someone may wait on is followed by
/// <see cref="Advanced"/>; a sleeper also re-checks every millisecond, so a missed announcement costs time, never a hang.
/// </summary>
internal static class ProgressWait
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 20000; // 50 µs
    private static readonly object s_lock = new();
    private static int s_sleepers;
    private static int s_never; // the failure flag of a wait that cannot fail: never written

    /// <summary>Returns once <paramref name="counter"/> is at least <paramref name="target"/>.</summary>
    public static void Until(ref int counter, int target) => Until(ref counter, target, ref s_never);

    /// <summary>
    /// Returns true once <paramref name="counter"/> is at least <paramref name="target"/>, or false once
    /// <paramref name="failed"/> is nonzero (a party that would have advanced the counter failed; announce
    /// the failure with <see cref="Advanced"/> too).
    /// </summary>
    public static bool Until(ref int counter, int target, ref int failed)
    {
        if (Volatile.Read(ref counter) >= target) return true;
        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            Thread.SpinWait(20);
            if (Volatile.Read(ref counter) >= target) return true;
            if (Volatile.Read(ref failed) != 0) return false;
        }
        if (!ThreadSupport.Available) // no other thread to wait for can exist here; kept for the platform analyzer
        {
            while (Volatile.Read(ref counter) < target)
            {
                if (Volatile.Read(ref failed) != 0) return false;
                Thread.SpinWait(20);
            }
            return true;
        }
        Interlocked.Increment(ref s_sleepers); // full fence: an advance after this sees a sleeper
        try
        {
            lock (s_lock)
                while (Volatile.Read(ref counter) < target)
                {
                    if (Volatile.Read(ref failed) != 0) return false;
                    Monitor.Wait(s_lock, 1);
                }
            return true;
        }
        finally
        {
            Interlocked.Decrement(ref s_sleepers);
        }
    }

    /// <summary>
    /// Announces that a counter advanced (call it after the interlocked write, which orders the two): wakes the
    /// sleepers, if any, to re-check theirs.
    /// </summary>
    public static void Advanced()
    {
        if (Volatile.Read(ref s_sleepers) == 0) return;
        lock (s_lock) Monitor.PulseAll(s_lock);
    }
}
