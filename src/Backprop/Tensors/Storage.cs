namespace Backprop;

/// <summary>
/// The flat buffer behind one or more tensors (views share it). Carries the version counter
/// that autograd uses to detect in-place writes to tensors saved for backward.
/// </summary>
public abstract class Storage
{
    private static long s_lastSerial;

    /// <summary>Creation number, increasing in creation order over the whole process.</summary>
    internal long Serial { get; } = Interlocked.Increment(ref s_lastSerial);

    /// <summary>The serial of the most recently created storage; any storage created later has a larger one.</summary>
    internal static long LastSerial => Volatile.Read(ref s_lastSerial);

    /// <summary>Element type.</summary>
    public abstract DType DType { get; }

    /// <summary>Number of elements.</summary>
    public abstract int Length { get; }

    /// <summary>Incremented by every in-place write through any view of this storage.</summary>
    public int Version { get; internal set; }

    /// <summary>The loan this storage's array came from, while it may still go back to a <see cref="BufferPool"/>.</summary>
    internal BufferPool.Rental? Rental;

    /// <summary>The thread whose pool lent the array (0 when not pooled).</summary>
    internal int OwnerThread;

    /// <summary>Creates zero-filled storage of the given type and length.</summary>
    public static Storage Create(DType dtype, int length) => dtype switch
    {
        DType.Float32 => BufferPool.Rent<float>(length, clear: true) ?? new Storage<float>(new float[length]),
        DType.Float64 => BufferPool.Rent<double>(length, clear: true) ?? new Storage<double>(new double[length]),
        _ => BufferPool.Rent<long>(length, clear: true) ?? new Storage<long>(new long[length]),
    };

    /// <summary>Storage whose contents are unspecified, for outputs a kernel overwrites entirely (skips the clearing).</summary>
    internal static Storage CreateUninitialized(DType dtype, int length) => dtype switch
    {
        DType.Float32 => BufferPool.Rent<float>(length, clear: false) ?? new Storage<float>(GC.AllocateUninitializedArray<float>(length)),
        DType.Float64 => BufferPool.Rent<double>(length, clear: false) ?? new Storage<double>(GC.AllocateUninitializedArray<double>(length)),
        _ => BufferPool.Rent<long>(length, clear: false) ?? new Storage<long>(GC.AllocateUninitializedArray<long>(length)),
    };

    /// <summary>
    /// The array is (or may be) reachable other than through this storage: a public span or array
    /// was handed out, or another thread touched it. It then never goes back to the pool.
    /// </summary>
    internal void Expose()
    {
        if (Rental is not { } r) return;
        Rental = null;
        OwnerThread = 0;
        r.Array = null;
    }

    /// <summary>Exposes pooled storage used from a thread other than the one whose pool lent it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void CheckThread()
    {
        if (OwnerThread != 0 && OwnerThread != Environment.CurrentManagedThreadId) Expose();
    }

    /// <summary>Drops the array after it went back to the pool, so a stale reader fails instead of reading reused memory.</summary>
    internal abstract void Revoke();
}

/// <summary>Typed storage over a managed array.</summary>
public sealed class Storage<T> : Storage where T : unmanaged
{
    private T[] _data;

    /// <summary>Wraps an existing array (no copy).</summary>
    public Storage(T[] data)
    {
        _data = data;
        Length = data.Length;
    }

    /// <summary>The elements (the array is then never recycled by the buffer pool).</summary>
    public T[] Data
    {
        get
        {
            Expose();
            return _data;
        }
    }

    /// <summary>The elements, for library code that keeps no reference to the array beyond the storage's lifetime.</summary>
    internal T[] Items
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get
        {
            CheckThread();
            return _data;
        }
    }

    /// <inheritdoc/>
    public override DType DType => DTypes.Of<T>();

    /// <inheritdoc/>
    public override int Length { get; }

    internal override void Revoke() => _data = [];
}
