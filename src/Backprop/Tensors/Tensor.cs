using System.Runtime.CompilerServices;
using Backprop.Autograd;

namespace Backprop.Tensors;

/// <summary>
/// An n-dimensional array with strides over a shared <see cref="Storage"/>, recorded by autograd.
/// Views (transpose, permute, narrow, expand) share storage; ops return new tensors.
/// </summary>
public sealed partial class Tensor
{
    private readonly int[] _strides;
    private bool _requiresGrad;

    internal Tensor(Storage storage, Shape shape, int[] strides, int offset)
    {
        Storage = storage;
        Shape = shape;
        _strides = strides;
        Offset = offset;
        IsContiguous = ComputeIsContiguous(shape, strides);
    }

    /// <summary>Creates a contiguous tensor over new zero-filled storage.</summary>
    internal Tensor(Shape shape, DType dtype)
        : this(Storage.Create(dtype, shape.Numel), shape, shape.ContiguousStrides(), 0)
    {
    }

    /// <summary>A contiguous tensor with unspecified contents; the caller must write every element.</summary>
    internal static Tensor Uninitialized(Shape shape, DType dtype)
        => new(Storage.CreateUninitialized(dtype, shape.Numel), shape, shape.ContiguousStrides(), 0);

    /// <summary>The buffer this tensor views.</summary>
    public Storage Storage { get; }

    /// <summary>Dimension sizes.</summary>
    public Shape Shape { get; }

    /// <summary>Element step per dimension, in elements (0 for an expanded dimension).</summary>
    public ReadOnlySpan<int> Strides => _strides;

    internal int[] StridesArray => _strides;

    /// <summary>Index of the first element in <see cref="Storage"/>.</summary>
    public int Offset { get; }

    /// <summary>Element type.</summary>
    public DType DType => Storage.DType;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>Number of elements.</summary>
    public int Numel => Shape.Numel;

    /// <summary>True when the elements are laid out row-major without gaps.</summary>
    public bool IsContiguous { get; }

    /// <summary>Size of one dimension (negative counts from the end).</summary>
    public int Size(int dim) => Shape[Shape.NormalizeDim(dim, "Size")];

    private static bool ComputeIsContiguous(Shape shape, int[] strides)
    {
        if (shape.Numel == 0) return true; // no elements, nothing to lay out (as PyTorch)
        int expected = 1;
        for (int i = shape.Rank - 1; i >= 0; i--)
        {
            if (shape[i] == 1) continue;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    internal T[] Data<T>() where T : unmanaged => ((Storage<T>)Storage).Items;

    /// <summary>The elements of a contiguous tensor as a span over its storage (writes are visible to views).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not contiguous or T does not match the dtype.</exception>
    public Span<T> AsSpan<T>() where T : unmanaged
        => Elements<T>("AsSpan");

    /// <summary>Read-only span over the elements of a contiguous tensor.</summary>
    public ReadOnlySpan<T> AsReadOnlySpan<T>() where T : unmanaged => AsSpan<T>();

    /// <summary><see cref="AsSpan{T}"/> naming the calling op in its error.</summary>
    internal Span<T> Elements<T>(string op = "AsSpan") where T : unmanaged
    {
        CheckElementType<T>(op);
        if (!IsContiguous)
            throw new InvalidOperationException($"{op}: tensor of shape {Shape} with strides [{string.Join(", ", _strides)}] is not contiguous; call Contiguous() first");
        return Data<T>().AsSpan(Offset, Numel);
    }

    /// <summary>Read-only <see cref="Elements{T}"/>.</summary>
    internal ReadOnlySpan<T> ReadOnlyElements<T>() where T : unmanaged => Elements<T>();

    private void CheckElementType<T>(string op) where T : unmanaged
    {
        if (DTypes.Of<T>() != DType)
            throw new InvalidOperationException($"{op}: tensor has dtype {DType.Name()}, but {typeof(T).Name} ({DTypes.Of<T>().Name()}) was requested");
    }

    /// <summary>Copies the elements, row-major, into a new array; T must match the dtype.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckElementType<T>("ToArray");
        return Contiguous().Elements<T>().ToArray();
    }

    /// <summary>Copies the elements, row-major, converted to double.</summary>
    public double[] ToDoubleArray()
    {
        Tensor c = Contiguous();
        var result = new double[Numel];
        switch (DType)
        {
            case DType.Float32:
                ReadOnlySpan<float> f = c.Elements<float>();
                for (int i = 0; i < f.Length; i++) result[i] = f[i];
                break;
            case DType.Float64:
                c.Elements<double>().CopyTo(result);
                break;
            case DType.Int64:
                ReadOnlySpan<long> l = c.Elements<long>();
                for (int i = 0; i < l.Length; i++) result[i] = l[i];
                break;
            default:
                ReadOnlySpan<bool> b = c.Elements<bool>();
                for (int i = 0; i < b.Length; i++) result[i] = b[i] ? 1 : 0;
                break;
        }
        return result;
    }

    /// <summary>The value of a one-element tensor, as double (1 or 0 for bool); <see cref="Item{T}"/> gives it in its own type.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public double Item()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"Item: only a one-element tensor can be converted to a number, this one has shape {Shape}");
        return GetAt(Offset);
    }

    /// <summary>The element at a full index, converted to double.</summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public double this[params int[] index] => GetAt(StorageIndex(index, "Indexer"));

    private double GetAt(int storageIndex) => DType switch
    {
        DType.Float32 => Data<float>()[storageIndex],
        DType.Float64 => Data<double>()[storageIndex],
        DType.Int64 => Data<long>()[storageIndex],
        _ => Data<bool>()[storageIndex] ? 1 : 0,
    };

    /// <summary>Storage position of a full index; checks bounds.</summary>
    internal int StorageIndex(ReadOnlySpan<int> index, string op)
    {
        if (index.Length != Rank)
            throw new ArgumentException($"{op}: index has {index.Length} components but the tensor of shape {Shape} has rank {Rank}");
        int pos = Offset;
        for (int d = 0; d < index.Length; d++)
        {
            int i = index[d] < 0 ? index[d] + Shape[d] : index[d];
            if ((uint)i >= (uint)Shape[d])
                throw new IndexOutOfRangeException($"{op}: index {index[d]} is out of range for dimension {d} of size {Shape[d]} (shape {Shape})");
            pos += i * _strides[d];
        }
        return pos;
    }

    /// <summary>A new tensor over the same storage with another shape, strides and offset.</summary>
    internal Tensor Strided(Shape shape, int[] strides, int offset) => new(Storage, shape, strides, offset);

    /// <summary>True when this tensor's elements occupy storage positions no other element of it uses.</summary>
    internal bool HasOverlap()
    {
        for (int d = 0; d < Rank; d++)
            if (_strides[d] == 0 && Shape[d] > 1) return true;
        return false;
    }

    // ---------------- autograd state ----------------

    /// <summary>
    /// Whether gradients should be computed for this tensor. Setting it is allowed on leaf
    /// float tensors only (tensors produced by ops inherit it from their inputs).
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor is not a leaf or is not floating point.</exception>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (GradFn is not null)
            {
                if (value) return;
                throw new InvalidOperationException($"RequiresGrad: cannot turn off gradients of a non-leaf tensor (produced by {GradFn.Name}); use Detach() instead");
            }
            if (value && !DType.IsFloatingPoint())
                throw new InvalidOperationException($"RequiresGrad: only floating-point tensors can require gradients, this one is {DType.Name()}");
            _requiresGrad = value;
        }
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor, for fluent construction.</summary>
    public Tensor RequireGrad(bool requiresGrad = true)
    {
        RequiresGrad = requiresGrad;
        return this;
    }

    private Tensor? _grad;

    /// <summary>
    /// The accumulated gradient after <see cref="Backward"/>; same shape as this tensor. Setting it
    /// stores the tensor as is. Unlike PyTorch, whose <c>zero_grad(set_to_none=True)</c> lets the old
    /// gradient be freed, <c>ZeroGrad()</c> here keeps the dropped gradient's buffer and the next
    /// backward writes this tensor's new gradient into it (so training allocates none): Clone() a
    /// gradient you want to keep across ZeroGrad().
    /// </summary>
    public Tensor? Grad
    {
        get => _grad;
        set
        {
            _grad = value is null ? null : Memory.Ownership.Escape(value);
            SpareGrad = null;
        }
    }

    /// <summary>The buffer of a gradient that ZeroGrad released, for the next backward to overwrite (see <see cref="Grad"/>).</summary>
    internal Tensor? SpareGrad { get; set; }

    /// <summary>The <see cref="SpareGrad"/> a node of the running backward is writing this tensor's gradient into.</summary>
    internal Tensor? GradInFlight { get; set; }

    /// <summary>
    /// ZeroGrad with set-to-none: <see cref="Grad"/> becomes null and its buffer is kept for the next
    /// gradient when it is a plain contiguous tensor of its own.
    /// </summary>
    internal void DropGrad()
    {
        if (_grad is { } g && g.GradFn is null && !g.RequiresGrad && g.Offset == 0 && g.IsContiguous && g.Numel == g.Storage.Length
            && !ReferenceEquals(g.Storage, Storage))
            SpareGrad = g;
        _grad = null;
    }

    /// <summary>The backward node that produced this tensor, or null for a leaf.</summary>
    public Node? GradFn { get; private set; }

    /// <summary>True for tensors created by the user rather than by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    internal List<Func<Tensor, Tensor?>>? LeafHooks { get; private set; }

    /// <summary>Connects an op's output to its backward node.</summary>
    internal void SetGradFn(Node node)
    {
        node.OutputShape = Shape;
        node.OutputDType = DType;
        GradFn = node;
        _requiresGrad = true;
        node.Anomaly?.CheckForward(node, this); // set only while AnomalyMode is on
    }

    /// <summary>Keeps <see cref="Grad"/> for this non-leaf tensor after backward (leaves always keep it).</summary>
    public void RetainGrad()
    {
        if (GradFn is not null)
            GradFn.RetainGradTarget = this;
        else if (!RequiresGrad)
            throw new InvalidOperationException("RetainGrad: the tensor does not require grad");
    }

    /// <summary>
    /// Registers a function called with this tensor's gradient during backward; it may return a
    /// replacement gradient or null to keep it. Dispose the result to remove the hook.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The tensor does not require grad; during backward, the hook returned a tensor whose shape or dtype differs from the gradient's.
    /// </exception>
    public IDisposable RegisterHook(Func<Tensor, Tensor?> hook)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException("RegisterHook: cannot register a hook on a tensor that does not require grad");
        List<Func<Tensor, Tensor?>> list = GradFn is not null
            ? GradFn.OutputHooks ??= []
            : LeafHooks ??= [];
        list.Add(hook);
        return new HookHandle(list, hook);
    }

    private sealed class HookHandle(List<Func<Tensor, Tensor?>> list, Func<Tensor, Tensor?> hook) : IDisposable
    {
        public void Dispose() => list.Remove(hook);
    }

    /// <summary>
    /// Runs backpropagation from this tensor: accumulates d(this)/d(leaf) into the
    /// <see cref="Grad"/> of every leaf that requires grad.
    /// </summary>
    /// <param name="gradient">d(loss)/d(this); may be omitted only for one-element tensors.</param>
    /// <param name="retainGraph">Keep saved tensors so backward can run again through this graph.</param>
    /// <param name="createGraph">Record the backward pass itself, for higher-order gradients.</param>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
        => Gradients.Backward([this], gradient is null ? null : [gradient], retainGraph || createGraph, createGraph);

    /// <summary>A tensor sharing storage with this one but cut from the graph (no gradient flows back).</summary>
    public Tensor Detach() => new(Storage, Shape, _strides, Offset);

    /// <summary>Marks an in-place write: saved copies of this storage become invalid for backward.</summary>
    internal void BumpVersion() => Storage.Version++;

    /// <summary>Throws if an in-place write would corrupt autograd.</summary>
    internal void CheckInPlace(string op)
    {
        if (RequiresGrad && GradMode.IsEnabled)
            throw new InvalidOperationException(
                $"{op}: cannot modify a tensor that requires grad in place while gradients are recorded (shape {Shape}); " +
                "use the out-of-place op, or wrap the update in `using (GradMode.Disable())` as optimizers do");
    }

    /// <inheritdoc/>
    public override string ToString() => TensorFormatter.Format(this);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CheckSameDType(Tensor a, Tensor b, string op)
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"{op}: dtype mismatch, {a.DType.Name()} (shape {a.Shape}) vs {b.DType.Name()} (shape {b.Shape}); convert one with To(DType)");
    }

    internal void CheckFloat(string op)
    {
        if (!DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: expected a floating-point tensor, got {DType.Name()} (shape {Shape})");
    }
}
