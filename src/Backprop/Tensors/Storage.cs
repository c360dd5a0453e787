using System.Runtime.CompilerServices;
using Backprop.Memory;

namespace Backprop.Tensors;

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

    private TensorScope? _scope;

    /// <summary>
    /// The scope that recycles this storage's array when it ends, or null (the garbage collector's).
    /// Setting it keeps the count of scope-owned bytes (<see cref="MemoryStats"/>).
    /// </summary>
    internal TensorScope? Scope
    {
        get => _scope;
        set
        {
            if ((_scope is null) != (value is null))
                MemoryStats.Count(value is null ? -(long)Length * DType.ElementSize() : (long)Length * DType.ElementSize());
            _scope = value;
        }
    }

    /// <summary>Made by a <see cref="Data.DataLoader"/> for one batch: a scope may adopt it (see <see cref="TensorScope.Begin(ReadOnlySpan{Tensor})"/>).</summary>
    internal bool Adoptable;

    /// <summary>True once the array went back to the pool; any further use throws.</summary>
    internal bool IsRecycled { get; private protected set; }

    /// <summary>
    /// Creates zero-filled storage of the given type and length. Bool storage (masks, one byte an
    /// element) is not pooled: it is always a new array, which the garbage collector takes back.
    /// </summary>
    public static Storage Create(DType dtype, int length) => TensorScope.Track(dtype switch
    {
        DType.Float32 => new Storage<float>(BufferPool.Rent<float>(length, clear: true)),
        DType.Float64 => new Storage<double>(BufferPool.Rent<double>(length, clear: true)),
        DType.Int64 => new Storage<long>(BufferPool.Rent<long>(length, clear: true)),
        _ => new Storage<bool>(new bool[length]),
    });

    /// <summary>Storage whose contents are unspecified, for outputs a kernel overwrites entirely (skips the clearing).</summary>
    internal static Storage CreateUninitialized(DType dtype, int length) => TensorScope.Track(dtype switch
    {
        DType.Float32 => new Storage<float>(BufferPool.Rent<float>(length, clear: false)),
        DType.Float64 => new Storage<double>(BufferPool.Rent<double>(length, clear: false)),
        DType.Int64 => new Storage<long>(BufferPool.Rent<long>(length, clear: false)),
        _ => new Storage<bool>(new bool[length]), // never garbage: a bool must hold 0 or 1
    });

    /// <summary>Sets every element to zero.</summary>
    internal abstract void Clear();

    /// <summary>Marks the storage recycled and hands its array over (to the pool); see <see cref="Ownership.Recycle"/>.</summary>
    internal abstract Array TakeArrayForRecycling();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private protected void ThrowRecycled() => throw new InvalidOperationException(
        $"A tensor ({DType.Name()}, {Length} elements) was used after its memory was recycled: it was made inside a TensorScope that has ended. " +
        "Use tensors made in a scope only inside it, or keep one with scope.Keep(tensor).");
}

/// <summary>Typed storage over a managed array.</summary>
public sealed class Storage<T> : Storage where T : unmanaged
{
    private T[] _data;

    /// <summary>Wraps an existing array (no copy; the array is never recycled).</summary>
    public Storage(T[] data)
    {
        _data = data;
        Length = data.Length;
    }

    /// <summary>The elements. For storage made inside a <see cref="TensorScope"/>, valid only until the scope ends.</summary>
    public T[] Data => Items;

    /// <summary>The elements, for library code.</summary>
    internal T[] Items
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (IsRecycled) ThrowRecycled();
            return _data;
        }
    }

    /// <inheritdoc/>
    public override DType DType => DTypes.Of<T>();

    /// <inheritdoc/>
    public override int Length { get; }

    internal override void Clear() => Array.Clear(Items);

    internal override Array TakeArrayForRecycling()
    {
        T[] data = _data;
        _data = [];
        IsRecycled = true;
        return data;
    }
}
