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

    /// <summary>Most bytes kept in the free lists; arrays returned beyond that are left to the GC.</summary>
    internal static long MaxFreeBytes { get; set; } = 192L << 20;

    private static readonly Lock s_lock = new();
    private static readonly FreeList<float> s_floats = new();
    private static readonly FreeList<double> s_doubles = new();
    private static readonly FreeList<long> s_longs = new();
    private static long s_freeBytes;

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
                array = Free<T>().TryPop(length);
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
            if (s_freeBytes + bytes > MaxFreeBytes) return; // left to the GC
            s_freeBytes += bytes;
            switch (array)
            {
                case float[] f: s_floats.Push(f); break;
                case double[] d: s_doubles.Push(d); break;
                case long[] l: s_longs.Push(l); break;
                default: s_freeBytes -= bytes; return;
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

    /// <summary>Free arrays of one element type, by exact length, last in first out.</summary>
    private sealed class FreeList<T> where T : unmanaged
    {
        private readonly Dictionary<int, Stack<T[]>> _byLength = [];

        public T[]? TryPop(int length)
            => _byLength.TryGetValue(length, out Stack<T[]>? s) && s.TryPop(out T[]? a) ? a : null;

        public void Push(T[] array)
        {
            if (!_byLength.TryGetValue(array.Length, out Stack<T[]>? s))
                _byLength[array.Length] = s = new Stack<T[]>();
            s.Push(array);
        }

        public void Clear() => _byLength.Clear();
    }
}
