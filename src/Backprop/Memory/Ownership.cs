using Backprop.Tensors;

namespace Backprop.Memory;

/// <summary>
/// The memory-ownership rule in one place. A tensor buffer is reused only when nothing outside the
/// library can read it any more, which the library knows in exactly three cases:
/// (1) the <see cref="TensorScope"/> that made it has ended (whoever opened it declared that nothing
///     made inside is read afterwards unless kept);
/// (2) it holds a gradient that flowed between two nodes during a backward pass, which no hook,
///     retained gradient or custom function saw (<see cref="IsFreshGradient"/>);
/// (3) it is a parameter's gradient that <c>ZeroGrad()</c> released: its buffer is kept by the
///     parameter and overwritten by the next backward (see <see cref="Tensor.Grad"/>).
/// Everything else belongs to the garbage collector. Observing a tensor (reading <c>.Grad</c>,
/// taking a span) never changes what is recycled, and the library never runs a collection.
/// </summary>
internal static class Ownership
{
    /// <summary>Gives the array of a storage nobody can reach back to the pool; later use of the storage throws.</summary>
    internal static void Recycle(Storage storage)
    {
        if (storage.IsRecycled) return;
        storage.Scope = null;
        BufferPool.Return(storage.TakeArrayForRecycling());
    }

    /// <summary>The library stored <paramref name="tensor"/> into an object that outlives any scope (parameter, buffer, .Grad, optimizer state).</summary>
    internal static Tensor Escape(Tensor tensor)
    {
        Storage s = tensor.Storage;
        s.Scope = null;
        s.Adoptable = false;
        return tensor;
    }

    /// <summary>
    /// True when gradient dx[i], returned by a library node's backward, is referenced by nobody but
    /// the engine: its storage was created during that backward call (serial after
    /// <paramref name="mark"/>), the tensor covers the whole storage, it is not part of a graph, and
    /// no other returned gradient shares it.
    /// </summary>
    internal static bool IsFreshGradient(Tensor?[] dx, int i, long mark)
    {
        Tensor g = dx[i]!;
        Storage s = g.Storage;
        if (s.Serial <= mark || g.Offset != 0 || !g.IsContiguous || g.Numel != s.Length || g.GradFn is not null) return false;
        for (int j = 0; j < dx.Length; j++)
            if (j != i && dx[j] is { } other && ReferenceEquals(other.Storage, s)) return false;
        return true;
    }

    /// <summary>True when some returned gradient is (a view of) <paramref name="storage"/>.</summary>
    internal static bool PassedOn(Tensor?[] dx, Storage storage)
    {
        foreach (Tensor? t in dx)
            if (t is not null && ReferenceEquals(t.Storage, storage)) return true;
        return false;
    }
}
