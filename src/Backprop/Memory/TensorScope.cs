using Backprop.Tensors;

namespace Backprop.Memory;

/// <summary>
/// An explicit lifetime for the tensors of one step: every tensor buffer this thread makes while the
/// scope is open goes back to the buffer pool when the scope ends, so a training loop that opens one
/// scope per step reuses the same memory every step instead of leaving it to the garbage collector.
/// <code>
/// foreach (var (x, y) in loader.Epoch(epoch))
/// {
///     using var step = TensorScope.Begin(x, y);       // the batch is recycled with the step
///     optimizer.ZeroGrad();
///     Tensor loss = Functional.CrossEntropy(model.Forward(x), y);
///     loss.Backward();
///     optimizer.Step();
///     total += loss.Item();                           // read what you need inside the scope
/// }
/// </code>
/// What outlives the scope: tensors the library stores into longer-lived objects (parameters,
/// module buffers, <see cref="Tensor.Grad"/>, optimizer state) and tensors passed to
/// <see cref="Keep"/>. Everything else made in the scope, views and spans of it included, must not
/// be used after it ends; doing so throws an <see cref="InvalidOperationException"/> that says so.
/// Tensors made outside any scope belong to the garbage collector and are never recycled.
/// Scopes nest (an inner scope's kept tensors move to the outer one) and belong to the thread that
/// began them.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;
    [ThreadStatic] private static List<Storage>? t_spareList;

    private readonly TensorScope? _parent;
    private readonly int _thread;
    private List<Storage>? _owned;

    private TensorScope(TensorScope? parent)
    {
        _parent = parent;
        _thread = Environment.CurrentManagedThreadId;
        _owned = t_spareList ?? [];
        t_spareList = null;
    }

    /// <summary>The innermost open scope of the calling thread, or null.</summary>
    public static TensorScope? Current => t_current;

    /// <summary>Opens a scope on the calling thread; dispose it to recycle what was made inside.</summary>
    public static TensorScope Begin() => t_current = new TensorScope(t_current);

    /// <summary>
    /// Opens a scope that also owns the given batch tensors when they came fresh from a
    /// <see cref="Data.DataLoader"/> (tensors from anywhere else are left alone).
    /// </summary>
    public static TensorScope Begin(params ReadOnlySpan<Tensor> adopt)
    {
        TensorScope scope = Begin();
        foreach (Tensor t in adopt)
        {
            Storage s = t.Storage;
            if (!s.Adoptable || s.Scope is not null) continue;
            s.Adoptable = false;
            scope.Add(s);
        }
        return scope;
    }

    /// <summary>Whether the scope has ended.</summary>
    public bool HasEnded => _owned is null;

    /// <summary>
    /// Keeps <paramref name="tensor"/> (and every view of its storage) alive past this scope: it moves
    /// to the enclosing scope, or to the garbage collector when there is none. Returns the tensor.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scope has ended.</exception>
    public Tensor Keep(Tensor tensor)
    {
        if (_owned is null) throw new InvalidOperationException("TensorScope.Keep: the scope has already ended");
        Storage s = tensor.Storage;
        if (s.Scope == this)
        {
            s.Scope = null;
            _parent?.Add(s);
        }
        return tensor;
    }

    /// <summary>Ends the scope: recycles every buffer made in it that was not kept.</summary>
    /// <exception cref="InvalidOperationException">Called from another thread, or while a scope begun inside this one is still open.</exception>
    public void Dispose()
    {
        if (_owned is not { } owned) return;
        if (Environment.CurrentManagedThreadId != _thread)
            throw new InvalidOperationException("TensorScope.Dispose: a scope must end on the thread that began it");
        if (t_current != this)
            throw new InvalidOperationException("TensorScope.Dispose: an inner scope begun after this one is still open; end scopes in the reverse order they began");
        _owned = null;
        t_current = _parent;
        foreach (Storage s in owned)
            if (s.Scope == this) Ownership.Recycle(s);
        owned.Clear();
        t_spareList = owned;
    }

    private void Add(Storage s)
    {
        s.Scope = this;
        _owned!.Add(s);
    }

    /// <summary>Registers a new poolable storage with the calling thread's open scope, if any; returns it.</summary>
    internal static Storage Track(Storage storage)
    {
        if (t_current is { } scope && storage.Length >= BufferPool.MinLength) scope.Add(storage);
        return storage;
    }
}
