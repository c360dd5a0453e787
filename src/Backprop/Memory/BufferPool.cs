using System.Runtime.CompilerServices;

namespace Backprop.Memory;

/// <summary>
/// Free arrays for tensor storage, shared by all threads, keyed by element type and exact length.
/// It only lends and takes back: what may be returned is decided elsewhere (see
/// <see cref="TensorScope"/> and <see cref="Ownership"/>), never by the garbage collector.
/// Contents of a lent array are unspecified unless cleared: callers either ask for a cleared array
/// or overwrite every element, so results are bit-identical with the pool on and off.
/// </summary>
internal static class BufferPool
{
    /// <summary>Smallest array (in elements) worth pooling; smaller ones die young in gen 0 cheaply.</summary>
    internal const int MinLength = 1024;

    /// <summary>Off with BACKPROP_POOL=0 (for A/B measurements).</summary>
    internal static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("BACKPROP_POOL") != "0";

    /// <summary>Turns lending off for the calling thread (tests compare against unpooled runs).</summary>
    [ThreadStatic] internal static bool DisabledOnThisThread;

    /// <summary>
    /// BACKPROP_POOL_POISON=1 fills reused uninitialized arrays with NaN (or -1), so a kernel that
    /// fails to write its whole output shows up in the tests instead of leaking old values.
    /// </summary>
    internal static bool Poison { get; set; } = Environment.GetEnvironmentVariable("BACKPROP_POOL_POISON") == "1";

    /// <summary>
    /// Most bytes kept in the free lists. A returned array that does not fit evicts the arrays of the
    /// lengths used least recently (left to the GC), so sizes a program stopped using never crowd out
    /// the ones it still cycles through.
    /// </summary>
    internal static long MaxFreeBytes { get; set; } = 192L << 20;

    private static readonly Lock s_lock = new();
    private static readonly FreeList<float> s_floats = new();
    private static readonly FreeList<double> s_doubles = new();
    private static readonly FreeList<long> s_longs = new();
    private static long s_freeBytes, s_clock;

    /// <summary>Counters for tests and diagnostics.</summary>
    internal static long Hits, Misses, Returns;

    /// <summary>Bytes now waiting in the free lists.</summary>
    internal static long FreeBytes => Volatile.Read(ref s_freeBytes);

    /// <summary>Whether an array of this length is lent by the pool on this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Lends(int length) => length >= MinLength && Enabled && !DisabledOnThisThread;

    /// <summary>An array of exactly <paramref name="length"/> elements, reused when one is free (cleared when <paramref name="clear"/>).</summary>
    internal static T[] Rent<T>(int length, bool clear) where T : unmanaged
    {
        T[]? array = null;
        if (Lends(length))
        {
            lock (s_lock)
            {
                array = Free<T>().TryPop(length, ++s_clock);
                if (array is not null) s_freeBytes -= Bytes(array);
            }
        }
        if (array is null)
        {
            if (length >= MinLength) Interlocked.Increment(ref Misses);
            return clear ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        }
        Interlocked.Increment(ref Hits);
        if (clear) Array.Clear(array);
        else if (Poison) PoisonArray(array);
        return array;
    }

    /// <summary>Takes back an array nobody can read any more (the caller proves it).</summary>
    internal static void Return(Array array)
    {
        if (array.Length < MinLength || !Enabled) return;
        long bytes = Bytes(array);
        lock (s_lock)
        {
            if (bytes > MaxFreeBytes || array is not (float[] or double[] or long[])) return; // left to the GC
            while (s_freeBytes + bytes > MaxFreeBytes && EvictLeastRecentlyUsed()) { }
            s_freeBytes += bytes;
            long now = ++s_clock;
            switch (array)
            {
                case float[] f: s_floats.Push(f, now); break;
                case double[] d: s_doubles.Push(d, now); break;
                case long[] l: s_longs.Push(l, now); break;
            }
        }
        Interlocked.Increment(ref Returns);
    }

    /// <summary>Drops every free array (tests; memory pressure).</summary>
    internal static void Trim()
    {
        lock (s_lock)
        {
            s_floats.Clear();
            s_doubles.Clear();
            s_longs.Clear();
            s_freeBytes = 0;
        }
    }

    /// <summary>Drops the free arrays of the length (of any element type) used longest ago; false when there are none.</summary>
    private static bool EvictLeastRecentlyUsed()
    {
        long f = s_floats.OldestUse(out int fl), d = s_doubles.OldestUse(out int dl), l = s_longs.OldestUse(out int ll);
        long oldest = Math.Min(f, Math.Min(d, l));
        if (oldest == long.MaxValue) return false;
        if (oldest == f) s_freeBytes -= s_floats.Drop(fl) * 4L;
        else if (oldest == d) s_freeBytes -= s_doubles.Drop(dl) * 8L;
        else s_freeBytes -= s_longs.Drop(ll) * 8L;
        return true;
    }

    private static long Bytes(Array array) => (long)array.Length * (array is float[] ? 4 : 8);

    private static FreeList<T> Free<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Unsafe.As<FreeList<T>>(s_floats);
        if (typeof(T) == typeof(double)) return Unsafe.As<FreeList<T>>(s_doubles);
        return Unsafe.As<FreeList<T>>(s_longs);
    }

    private static void PoisonArray<T>(T[] array) where T : unmanaged
    {
        if (array is float[] f) f.AsSpan().Fill(float.NaN);
        else if (array is double[] d) d.AsSpan().Fill(double.NaN);
        else if (array is long[] l) l.AsSpan().Fill(-1);
    }

    /// <summary>Free arrays of one element type, by exact length, last in first out, with each length's last use.</summary>
    private sealed class FreeList<T> where T : unmanaged
    {
        private sealed class Bucket
        {
            public readonly Stack<T[]> Arrays = new();
            public long LastUse;
        }

        private readonly Dictionary<int, Bucket> _byLength = [];

        public T[]? TryPop(int length, long now)
        {
            if (!_byLength.TryGetValue(length, out Bucket? b)) return null;
            b.LastUse = now;
            return b.Arrays.TryPop(out T[]? a) ? a : null;
        }

        public void Push(T[] array, long now)
        {
            if (!_byLength.TryGetValue(array.Length, out Bucket? b))
                _byLength[array.Length] = b = new Bucket();
            b.LastUse = now;
            b.Arrays.Push(array);
        }

        /// <summary>The last use of the non-empty length used longest ago (long.MaxValue when all are empty).</summary>
        public long OldestUse(out int length)
        {
            long oldest = long.MaxValue;
            length = 0;
            foreach (var (len, b) in _byLength)
                if (b.Arrays.Count > 0 && b.LastUse < oldest) (oldest, length) = (b.LastUse, len);
            return oldest;
        }

        /// <summary>Drops every free array of <paramref name="length"/>; returns the elements dropped.</summary>
        public long Drop(int length)
        {
            Bucket b = _byLength[length];
            long elements = (long)b.Arrays.Count * length;
            b.Arrays.Clear();
            return elements;
        }

        public void Clear() => _byLength.Clear();
    }
}
