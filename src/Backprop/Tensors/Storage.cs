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

    /// <summary>Creates zero-filled storage of the given type and length.</summary>
    public static Storage Create(DType dtype, int length) => dtype switch
    {
        DType.Float32 => new Storage<float>(new float[length]),
        DType.Float64 => new Storage<double>(new double[length]),
        _ => new Storage<long>(new long[length]),
    };

    /// <summary>Storage whose contents are unspecified, for outputs a kernel overwrites entirely (skips the clearing).</summary>
    internal static Storage CreateUninitialized(DType dtype, int length) => dtype switch
    {
        DType.Float32 => new Storage<float>(GC.AllocateUninitializedArray<float>(length)),
        DType.Float64 => new Storage<double>(GC.AllocateUninitializedArray<double>(length)),
        _ => new Storage<long>(GC.AllocateUninitializedArray<long>(length)),
    };
}

/// <summary>Typed storage over a managed array.</summary>
public sealed class Storage<T> : Storage where T : unmanaged
{
    /// <summary>Wraps an existing array (no copy).</summary>
    public Storage(T[] data) => Data = data;

    /// <summary>The elements.</summary>
    public T[] Data { get; }

    /// <inheritdoc/>
    public override DType DType => DTypes.Of<T>();

    /// <inheritdoc/>
    public override int Length => Data.Length;
}
