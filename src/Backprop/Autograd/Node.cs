using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// One recorded op in the autograd graph: knows its inputs (as edges) and how to turn the
/// gradient of its output into gradients of its inputs (the chain rule for that op).
/// </summary>
public abstract class Node
{
    private List<SavedTensor>? _saved;
    private static long s_lastSerial;

    /// <summary>Creation number, increasing in creation order over the whole process (a gradient checkpoint tells its recomputed nodes by it).</summary>
    internal long Serial { get; } = Interlocked.Increment(ref s_lastSerial);

    /// <summary>The serial of the most recently created node; any node created later has a larger one.</summary>
    internal static long LastSerial => Volatile.Read(ref s_lastSerial);

    /// <summary>
    /// Records the inputs; only those that require grad get an edge. Only the library defines nodes
    /// (user code differentiates its own functions through <see cref="CustomFunction"/>), so the
    /// engine knows what every node does with the gradients it is given.
    /// </summary>
    private protected Node(params ReadOnlySpan<Tensor?> inputs)
    {
        Edges = new Edge[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            Tensor? t = inputs[i];
            if (t is null || !t.RequiresGrad) continue;
            Edges[i] = t.GradFn is not null ? new Edge(t.GradFn, null, t.Shape) : new Edge(null, t, t.Shape);
        }
        if (AnomalyMode.Active) Anomaly = new AnomalyRecord(inputs);
    }

    /// <summary>Input shapes and creation site, kept only while <see cref="AnomalyMode"/> is on (null otherwise).</summary>
    internal AnomalyRecord? Anomaly { get; }

    /// <summary>
    /// Readable name as PyTorch prints it, e.g. "MulBackward" (shown in errors and as grad_fn): a node
    /// class named after its op, FooNode, is shown as "FooBackward"; other class names are shown as they are.
    /// </summary>
    public virtual string Name
    {
        get
        {
            string type = GetType().Name;
            return type.Length > 4 && type.EndsWith("Node", StringComparison.Ordinal) ? string.Concat(type.AsSpan(0, type.Length - 4), "Backward") : type;
        }
    }

    internal Edge[] Edges { get; }

    internal Shape OutputShape { get; set; } = Shape.Scalar;

    internal DType OutputDType { get; set; }

    internal List<Func<Tensor, Tensor?>>? OutputHooks { get; set; }

    internal Tensor? RetainGradTarget { get; set; }

    /// <summary>
    /// False for the library's own ops, whose backward keeps no reference to the gradients it is
    /// given or returns; true for nodes that run user code (custom functions), which might.
    /// </summary>
    internal virtual bool MayRetainGradients => false;

    /// <summary>
    /// Set by the engine during <see cref="Backward"/> when the output gradient passed in is a
    /// private tensor of the engine that nothing reads afterwards: the node may then overwrite it
    /// (e.g. mask it in place) instead of allocating. Never set while recording the backward.
    /// </summary>
    internal bool OwnsOutputGradient { get; set; }

    /// <summary>
    /// Set by the engine during <see cref="Backward"/> when the gradients this node returns for leaves
    /// go straight into <see cref="Tensor.Grad"/> (no createGraph, no Gradients.Grad capture), so
    /// <see cref="NewInputGradient"/> may hand out the buffer a leaf's ZeroGrad released.
    /// </summary>
    internal bool DeliversToLeafGrads { get; set; }

    /// <summary>
    /// A tensor for the gradient of input <paramref name="index"/>, which the caller overwrites
    /// entirely (or accumulates into, when <paramref name="clear"/>): the buffer the input's ZeroGrad
    /// released when the input is a leaf without hooks and the gradient goes to its .Grad (the engine
    /// then stores it without a copy), otherwise a new tensor.
    /// </summary>
    internal Tensor NewInputGradient(int index, Shape shape, DType dtype, bool clear)
    {
        if (DeliversToLeafGrads && Edges[index].Leaf is { LeafHooks: null } leaf && leaf.SpareGrad is { } spare
            && spare.Shape == shape && spare.DType == dtype)
        {
            leaf.SpareGrad = null;        // a second node feeding the same leaf gets a buffer of its own
            leaf.GradInFlight = spare;
            if (clear) spare.Storage.Clear();
            return spare;
        }
        return clear ? new Tensor(shape, dtype) : Tensor.Uninitialized(shape, dtype);
    }

    /// <summary>Whether input <paramref name="index"/> needs a gradient.</summary>
    public bool NeedsInputGrad(int index) => Edges[index].IsActive;

    /// <summary>The nodes this one feeds gradients into.</summary>
    public IEnumerable<Node> NextNodes()
    {
        foreach (Edge e in Edges)
            if (e.Node is not null) yield return e.Node;
    }

    /// <summary>
    /// Gradients of the inputs given the gradient of the output, one per input (null where
    /// no gradient is needed). Written with tensor ops so that, with grad mode on, the
    /// backward pass is itself recorded and can be differentiated again.
    /// </summary>
    protected internal abstract Tensor?[] Backward(Tensor dy);

    /// <summary>Keeps a tensor for backward and remembers its version to detect later in-place writes.</summary>
    protected SavedTensor Save(Tensor t)
    {
        var s = new SavedTensor(t, this);
        (_saved ??= []).Add(s);
        return s;
    }

    /// <summary>The tensors this node saved for backward, in the order saved (for graph export).</summary>
    internal IReadOnlyList<SavedTensor> SavedTensors => (IReadOnlyList<SavedTensor>?)_saved ?? [];

    /// <summary>Drops saved tensors after a backward without retainGraph.</summary>
    internal void Release()
    {
        if (_saved is null) return;
        foreach (SavedTensor s in _saved) s.Release();
    }
}

/// <summary>Where an input's gradient goes: into another node, or into a leaf's Grad.</summary>
internal readonly record struct Edge(Node? Node, Tensor? Leaf, Shape? InputShape)
{
    public bool IsActive => Node is not null || Leaf is not null;
}

/// <summary>A tensor kept for backward, checked against in-place modification and reuse after release.</summary>
public sealed class SavedTensor
{
    private Tensor? _tensor;
    private readonly int _version;
    private readonly Node _owner;
    private readonly Shape _shape;

    internal SavedTensor(Tensor tensor, Node owner)
    {
        _tensor = tensor;
        _version = tensor.Storage.Version;
        _owner = owner;
        _shape = tensor.Shape;
    }

    /// <summary>The saved tensor.</summary>
    /// <exception cref="InvalidOperationException">The graph was freed, or the tensor was modified in place since it was saved.</exception>
    public Tensor Value
    {
        get
        {
            Tensor t = _tensor ?? throw new InvalidOperationException(
                $"{_owner.Name}: trying to backward through the graph a second time, but its saved tensors were freed after the first Backward(). " +
                "Pass retainGraph: true to the first Backward() if you need to run backward again.");
            if (t.Storage.Version != _version)
                throw new InvalidOperationException(
                    $"{_owner.Name}: a tensor of shape {_shape} needed for gradient computation was modified by an in-place operation " +
                    $"(it is at version {t.Storage.Version}, expected version {_version}). Use the out-of-place op or Clone() the tensor before modifying it.");
            return t;
        }
    }

    internal void Release() => _tensor = null;

    /// <summary>The saved tensor without the version check, or null once released (for graph export).</summary>
    internal Tensor? Peek => _tensor;

    /// <summary>The shape the tensor had when saved.</summary>
    internal Shape Shape => _shape;
}
