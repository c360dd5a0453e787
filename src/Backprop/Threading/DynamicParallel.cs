using System.Runtime.CompilerServices;

namespace Backprop.Threading;

/// <summary>
/// A dynamic parallel-for: units 0, 1, ..., units − 1 are claimed one at a time, in order, from one
/// shared counter by up to <c>threads</c> threads (the calling thread included). A thread that starts
/// late or is descheduled simply claims fewer units, and when the worker pool is busy (or the call is
/// nested inside another loop) the calling thread claims them all. Each unit runs exactly once; a unit
/// may wait for a unit claimed before it, never for a later one. The GEMM driver and the convolution
/// driver share work this way.
/// </summary>
internal static unsafe class DynamicParallel
{
    /// <summary>
    /// Runs body.Invoke(u) for every u in [0, <paramref name="units"/>) on up to <paramref name="threads"/>
    /// threads (capped by <see cref="Parallelism.ThreadCount"/>) and returns when all are done. The body
    /// must be a local of the caller (workers read it through its address). An exception thrown by a
    /// unit is rethrown here once every thread has stopped; units not yet claimed by the thread that
    /// threw may be left undone.
    /// </summary>
    public static void For<TBody>(int units, int threads, ref TBody body) where TBody : struct, IUnitBody
    {
        if (units <= 0) return;
        int next = 0;
        var claim = new Claim<TBody> { Body = Unsafe.AsPointer(ref body), Next = &next, Units = units };
        Parallelism.ParallelFor(Math.Clamp(threads, 1, units), 1, ref claim);
    }

    /// <summary>One thread's loop: claim the next unit until none is left (the range it is given does not matter).</summary>
    private struct Claim<TBody> : IRangeBody where TBody : struct, IUnitBody
    {
        public void* Body;
        public int* Next;
        public int Units;

        public readonly void Invoke(int start, int end)
        {
            ref TBody body = ref Unsafe.AsRef<TBody>(Body);
            int u;
            while ((u = Interlocked.Increment(ref *Next) - 1) < Units)
                body.Invoke(u);
        }
    }
}

/// <summary>A loop body over single units, run by <see cref="DynamicParallel.For{TBody}"/>.</summary>
internal interface IUnitBody
{
    /// <summary>Runs unit <paramref name="unit"/>.</summary>
    void Invoke(int unit);
}
