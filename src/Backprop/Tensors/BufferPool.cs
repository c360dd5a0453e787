using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// Recycles the arrays behind tensors so that a steady training loop allocates (almost) no managed
/// memory, with no Dispose for users. One pool per thread, active once the thread reaches a safe
/// point (<see cref="SafePoint"/>: start and end of a backward pass, optimizer ZeroGrad/Step).
/// <para>
/// An array goes back to the free lists only when nobody can read it any more:
/// (1) at a safe point, when the <see cref="Storage"/> it was lent to is unreachable (a weak
/// reference the GC cleared). No kernel of this thread is running at a safe point, so no span over
/// that array is live on this thread; arrays whose storage was touched from another thread, whose
/// <see cref="Storage{T}.Data"/> or span was handed out publicly, or that a user wrapped, never come
/// back (see <see cref="Storage.Expose"/>). To learn deadness soon enough, a safe point runs a
/// non-compacting gen-1 collection once the pool had to allocate more than <see cref="Budget"/>
/// bytes since the last one.
/// (2) at once, through <see cref="Release"/>, when the library proves a storage private: a
/// backward gradient the engine owns and no node kept, or a gradient dropped by ZeroGrad that was
/// never handed to user code. The released storage is emptied, so a wrong proof fails loudly
/// (index out of range) instead of reading someone else's numbers.
/// </para>
/// Contents of recycled arrays never matter: Storage.Create clears them, and uninitialized storage
/// is fully overwritten by its kernel, so results are bit-identical with and without the pool.
/// </summary>
internal sealed class BufferPool
{
    /// <summary>Smallest array (in elements) worth pooling; smaller ones die young in gen 0 cheaply.</summary>
    internal const int MinLength = 1024;

    [ThreadStatic] private static BufferPool? t_current;

    /// <summary>Off with BACKPROP_POOL=0 (for A/B measurements); tests may toggle it.</summary>
    internal static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("BACKPROP_POOL") != "0";

    /// <summary>Turns the pool off for the calling thread (tests compare against unpooled runs).</summary>
    [ThreadStatic] internal static bool DisabledOnThisThread;

    /// <summary>
    /// BACKPROP_POOL_POISON=1 fills recycled uninitialized arrays with NaN (or -1), so a kernel that
    /// fails to write its whole output shows up in the tests instead of leaking old values.
    /// </summary>
    internal static bool Poison { get; set; } = Environment.GetEnvironmentVariable("BACKPROP_POOL_POISON") == "1";

    /// <summary>Bytes the pool may lend (and not get back through <see cref="Release"/>) before a safe point collects to find dead storages.</summary>
    internal static long Budget { get; set; } = 16L << 20;

    /// <summary>Most bytes kept in the free lists; beyond that, returned arrays are left to the GC.</summary>
    internal static long MaxFreeBytes { get; set; } = 192L << 20;

    /// <summary>Most bytes lent between two safe points; beyond that, storage is allocated untracked (a loop without safe points must not pin memory).</summary>
    internal static long MaxLentBetweenSafePoints { get; set; } = 32L << 20;

    /// <summary>One loan: the array and a weak reference to the storage that holds it. Reused.</summary>
    internal sealed class Rental
    {
        public readonly WeakReference<Storage> Owner = new(null!);
        public Array? Array;
        public long Bytes;
    }

    private readonly int _thread = Environment.CurrentManagedThreadId;
    private readonly FreeList<float> _floats = new();
    private readonly FreeList<double> _doubles = new();
    private readonly FreeList<long> _longs = new();
    private readonly List<Rental> _lent = [];
    private readonly Stack<Rental> _spare = new();
    private long _lentSinceCollect, _lentSinceSafePoint, _freeBytes, _outstandingBytes;
    private int _gcCount = -1, _released;

    /// <summary>Counters for tests and diagnostics.</summary>
    internal long Hits, Misses, Collections;

    internal long FreeBytes => _freeBytes;
    internal int LentCount => _lent.Count;
    internal long LentBytes
    {
        get
        {
            long b = 0;
            foreach (Rental r in _lent) if (r.Array is { } a) b += (long)a.Length * (a is float[] ? 4 : 8);
            return b;
        }
    }

    /// <summary>This thread's pool, or null before its first safe point.</summary>
    internal static BufferPool? Current => t_current;

    private FreeList<T> Free<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Unsafe.As<FreeList<T>>(_floats);
        if (typeof(T) == typeof(double)) return Unsafe.As<FreeList<T>>(_doubles);
        return Unsafe.As<FreeList<T>>(_longs);
    }

    /// <summary>Storage over a pooled array (cleared when <paramref name="clear"/>), or null when this thread does not pool or the array is too small.</summary>
    internal static Storage<T>? Rent<T>(int length, bool clear) where T : unmanaged
    {
        BufferPool? pool = t_current;
        if (pool is null || length < MinLength || !Enabled || DisabledOnThisThread) return null;
        return pool.RentCore<T>(length, clear);
    }

    private Storage<T>? RentCore<T>(int length, bool clear) where T : unmanaged
    {
        long bytes = (long)length * Unsafe.SizeOf<T>();
        if (_lentSinceSafePoint + bytes > MaxLentBetweenSafePoints) return null;
        _lentSinceSafePoint += bytes;
        T[]? array = Free<T>().TryPop(length);
        if (array is not null)
        {
            Hits++;
            _freeBytes -= bytes;
            _lentSinceCollect += bytes;
            if (clear) Array.Clear(array);
            else if (Poison) PoisonArray(array);
        }
        else
        {
            Misses++;
            _lentSinceCollect += bytes;
            array = clear ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        }
        var storage = new Storage<T>(array);
        Rental r = _spare.Count > 0 ? _spare.Pop() : new Rental();
        r.Array = array;
        r.Bytes = bytes;
        _outstandingBytes += bytes;
        r.Owner.SetTarget(storage);
        storage.Rental = r;
        storage.OwnerThread = _thread;
        _lent.Add(r);
        return storage;
    }

    /// <summary>
    /// Gives back the array of a storage nobody else can reach (the caller proves it) and empties the
    /// storage. Does nothing for storage that is not on loan from this thread's pool.
    /// </summary>
    internal static void Release(Storage storage)
    {
        BufferPool? pool = t_current;
        if (pool is null || storage.Rental is not { } r || storage.OwnerThread != pool._thread) return;
        Array? array = r.Array;
        storage.Rental = null;
        storage.OwnerThread = 0;
        r.Array = null;
        r.Owner.SetTarget(null!);
        pool._outstandingBytes -= r.Bytes;
        pool._lentSinceCollect -= r.Bytes; // came back without a collection
        r.Bytes = 0;
        pool._released++;
        if (array is null) return;
        storage.Revoke();
        pool.Return(array);
    }

    private void Return(Array array)
    {
        long bytes = (long)array.Length * (array switch { float[] => 4, _ => 8 });
        if (_freeBytes + bytes > MaxFreeBytes) return; // left to the GC
        _freeBytes += bytes;
        switch (array)
        {
            case float[] f: _floats.Push(f); break;
            case double[] d: _doubles.Push(d); break;
            case long[] l: _longs.Push(l); break;
        }
    }

    /// <summary>
    /// Called where this thread runs no kernel and holds no span over pooled arrays: activates the
    /// pool for the thread, collects when the budget is spent, and takes back arrays of dead storages.
    /// <paramref name="mayCollect"/> is false where many pooled storages are still alive (before a
    /// backward pass, with the forward activations): a collection there would promote them to
    /// gen 2, where only a full collection finds them dead.
    /// </summary>
    internal static void SafePoint(bool mayCollect = true)
    {
        if (!Enabled || DisabledOnThisThread) return;
        BufferPool pool = t_current ??= new BufferPool();
        if (mayCollect && pool._lentSinceCollect >= Budget)
        {
            // Loans whose storage died in gen 2 stay outstanding until a full collection: do one
            // when they pile up, otherwise the cheap young-generation one.
            int generation = pool._outstandingBytes > 4 * Budget + (pool._outstandingAfterFull) ? 2 : 1;
            GC.Collect(generation, GCCollectionMode.Forced, blocking: true, compacting: false);
            pool._lentSinceCollect = 0;
            pool.Collections++;
            pool.Sweep(force: true);
            if (generation == 2) pool._outstandingAfterFull = pool._outstandingBytes;
        }
        pool._lentSinceSafePoint = 0;
        pool.Sweep(force: false);
    }

    private long _outstandingAfterFull;

    /// <summary>A safe point that collects whatever the budget says (see <see cref="TensorMemory.Reclaim"/>).</summary>
    internal static void Reclaim()
    {
        if (!Enabled || DisabledOnThisThread) return;
        BufferPool pool = t_current ??= new BufferPool();
        GC.Collect(1, GCCollectionMode.Forced, blocking: true, compacting: false);
        pool._lentSinceCollect = 0;
        pool.Collections++;
        pool._lentSinceSafePoint = 0;
        pool.Sweep(force: true);
    }

    private void Sweep(bool force)
    {
        // Weak references only clear during a GC; without one, only released loans need tidying.
        int gc = GC.CollectionCount(0);
        if (!force && gc == _gcCount && _released < 64) return;
        _gcCount = gc;
        _released = 0;
        int kept = 0;
        for (int i = 0; i < _lent.Count; i++)
        {
            Rental r = _lent[i];
            if (r.Array is { } array)
            {
                if (r.Owner.TryGetTarget(out _))
                {
                    _lent[kept++] = r;
                    continue;
                }
                r.Array = null;
                Return(array);
            }
            _outstandingBytes -= r.Bytes;
            r.Bytes = 0;
            _spare.Push(r);
        }
        _lent.RemoveRange(kept, _lent.Count - kept);
    }

    private static void PoisonArray<T>(T[] array) where T : unmanaged
    {
        if (array is float[] f) f.AsSpan().Fill(float.NaN);
        else if (array is double[] d) d.AsSpan().Fill(double.NaN);
        else if (array is long[] l) l.AsSpan().Fill(-1);
    }

    /// <summary>Drops this thread's free arrays (tests; memory pressure).</summary>
    internal static void Trim()
    {
        if (t_current is not { } pool) return;
        pool._floats.Clear();
        pool._doubles.Clear();
        pool._longs.Clear();
        pool._freeBytes = 0;
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
