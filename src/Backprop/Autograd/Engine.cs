namespace Backprop;

/// <summary>
/// Executes the backward pass: orders the graph topologically (a node runs once every node
/// that feeds it a gradient has run), sums gradients that meet at a node, and delivers leaf
/// gradients either into <see cref="Tensor.Grad"/> or, for <see cref="Autograd.Grad"/>, into a result array.
/// </summary>
internal static class Engine
{
    /// <summary>Requested inputs of the functional API: leaves by tensor, intermediates by node.</summary>
    internal sealed class Capture
    {
        public readonly Dictionary<Tensor, int> Leaves = new(ReferenceEqualityComparer.Instance);
        public readonly Dictionary<Node, int> Nodes = new(ReferenceEqualityComparer.Instance);
        public Tensor?[] Results = [];
    }

    public static void Run(ReadOnlySpan<Tensor> roots, ReadOnlySpan<Tensor> rootGrads, bool retainGraph, bool createGraph, Capture? capture)
    {
        BufferPool.SafePoint(mayCollect: false); // the forward activations are alive here
        RunGraph(roots, rootGrads, retainGraph, createGraph, capture);
        BufferPool.SafePoint(); // the graph's saved tensors and gradients just died: recycle them
    }

    private static void RunGraph(ReadOnlySpan<Tensor> roots, ReadOnlySpan<Tensor> rootGrads, bool retainGraph, bool createGraph, Capture? capture)
    {
        var pending = new Dictionary<Node, (Tensor Grad, bool Owned)>(ReferenceEqualityComparer.Instance);
        var dependencies = CountDependencies(roots);
        var ready = new Stack<Node>();

        using GradModeScope mode = GradMode.Set(createGraph);
        for (int i = 0; i < roots.Length; i++)
        {
            Tensor root = roots[i];
            Tensor g = rootGrads[i];
            if (root.GradFn is null)
            {
                DeliverToLeaf(root, g, createGraph, capture, owned: false);
                continue;
            }
            Accumulate(pending, root.GradFn, g, owned: false);
        }
        foreach (Tensor root in roots)
            if (root.GradFn is not null && dependencies[root.GradFn] == 0 && !ready.Contains(root.GradFn))
                ready.Push(root.GradFn);

        while (ready.Count > 0)
        {
            Node node = ready.Pop();
            (Tensor dy, bool owned) = pending[node];
            pending.Remove(node);

            if (node.OutputHooks is not null)
                foreach (var hook in node.OutputHooks.ToArray())
                    dy = hook(dy) ?? dy;
            if (node.RetainGradTarget is { } retained && capture is null) // like leaves, Autograd.Grad leaves .Grad alone
                AccumulateGrad(retained, dy, createGraph, owned: false);
            if (capture is not null && capture.Nodes.TryGetValue(node, out int slot))
                capture.Results[slot] = Sum(capture.Results[slot], dy);

            long mark = Storage.LastSerial;
            // Only a gradient nobody else can see may be overwritten by the node (see OwnsOutputGradient).
            node.OwnsOutputGradient = owned && !createGraph && node.OutputHooks is null && node.RetainGradTarget is null && capture is null;
            bool dyPrivate = node.OwnsOutputGradient;
            Tensor?[] dx;
            try
            {
                dx = node.Backward(dy);
            }
            finally
            {
                node.OwnsOutputGradient = false;
            }
            if (!retainGraph) node.Release();
            if (dx.Length != node.Edges.Length)
                throw new InvalidOperationException($"{node.Name}: backward returned {dx.Length} gradients for {node.Edges.Length} inputs");
            // A private output gradient that the node did not pass on (as itself or a view) is dead now.
            if (dyPrivate && !node.MayRetainGradients && !SharesStorage(dx, dy.Storage))
                BufferPool.Release(dy.Storage);

            for (int i = 0; i < dx.Length; i++)
            {
                Edge edge = node.Edges[i];
                Tensor? g = dx[i];
                if (!edge.IsActive || g is null) continue;
                if (g.Shape != edge.InputShape)
                    throw new InvalidOperationException($"{node.Name}: backward returned a gradient of shape {g.Shape} for input {i} of shape {edge.InputShape}");
                if (edge.Node is { } next)
                {
                    Accumulate(pending, next, g, owned: !node.MayRetainGradients && IsPrivate(dx, i, mark));
                    if (--dependencies[next] == 0) ready.Push(next);
                }
                else
                {
                    DeliverToLeaf(edge.Leaf!, g, createGraph, capture, owned: !node.MayRetainGradients && IsPrivate(dx, i, mark));
                }
            }
        }
    }

    /// <summary>For each reachable node, how many edges point at it.</summary>
    private static Dictionary<Node, int> CountDependencies(ReadOnlySpan<Tensor> roots)
    {
        var deps = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Node>();
        foreach (Tensor r in roots)
            if (r.GradFn is { } n && deps.TryAdd(n, 0)) stack.Push(n);
        while (stack.Count > 0)
        {
            Node n = stack.Pop();
            foreach (Edge e in n.Edges)
            {
                if (e.Node is not { } next) continue;
                if (deps.TryGetValue(next, out int c))
                    deps[next] = c + 1;
                else
                {
                    deps[next] = 1;
                    stack.Push(next);
                }
            }
        }
        return deps;
    }

    /// <summary>Adds g to the gradient waiting at node; a sum is a fresh tensor the engine owns, and owned addends die.</summary>
    private static void Accumulate(Dictionary<Node, (Tensor Grad, bool Owned)> pending, Node node, Tensor g, bool owned)
    {
        if (!pending.TryGetValue(node, out var existing))
        {
            pending[node] = (g, owned);
            return;
        }
        pending[node] = (existing.Grad + g, true);
        if (!GradMode.IsEnabled)
        {
            if (existing.Owned) BufferPool.Release(existing.Grad.Storage);
            if (owned) BufferPool.Release(g.Storage);
        }
    }

    private static bool SharesStorage(Tensor?[] dx, Storage s)
    {
        foreach (Tensor? t in dx)
            if (t is not null && ReferenceEquals(t.Storage, s)) return true;
        return false;
    }

    private static Tensor Sum(Tensor? a, Tensor b) => a is null ? b : a + b;

    /// <summary>
    /// True when gradient dx[i] is provably referenced by nobody but the engine: its storage was
    /// created during the backward call that returned it (serial after <paramref name="mark"/>),
    /// the tensor covers that whole storage, and no other returned gradient shares it. The
    /// caller also requires a library node, which keeps no reference to what it returns.
    /// </summary>
    private static bool IsPrivate(Tensor?[] dx, int i, long mark)
    {
        Tensor g = dx[i]!;
        Storage s = g.Storage;
        if (s.Serial <= mark || g.Offset != 0 || !g.IsContiguous || g.Numel != s.Length || g.GradFn is not null) return false;
        for (int j = 0; j < dx.Length; j++)
            if (j != i && dx[j] is { } other && ReferenceEquals(other.Storage, s)) return false;
        return true;
    }

    private static void DeliverToLeaf(Tensor leaf, Tensor g, bool createGraph, Capture? capture, bool owned)
    {
        if (leaf.LeafHooks is not null)
        {
            owned = false; // a hook may have kept the tensor
            foreach (var hook in leaf.LeafHooks.ToArray())
                g = hook(g) ?? g;
        }
        if (capture is not null)
        {
            if (capture.Leaves.TryGetValue(leaf, out int slot))
                capture.Results[slot] = Sum(capture.Results[slot], g);
            return;
        }
        AccumulateGrad(leaf, g, createGraph, owned);
    }

    /// <summary>
    /// Adds a gradient into a .Grad slot. Without createGraph the stored gradient is a private
    /// copy (backward may hand the same tensor to several inputs) and later ones add in place;
    /// an <paramref name="owned"/> gradient (see <see cref="IsPrivate"/>) is stored without copying.
    /// </summary>
    private static void AccumulateGrad(Tensor target, Tensor g, bool createGraph, bool owned)
    {
        Tensor? existing = target.PrivateGrad;
        if (createGraph)
            target.Grad = existing is null ? g : existing + g; // part of a graph: never recycled
        else if (existing is null && owned)
            target.SetPrivateGrad(g);
        else if (existing is null || existing.RequiresGrad)
            target.SetPrivateGrad(existing is null ? g.Detach().Clone() : (existing.Detach() + g).Detach()); // a fresh copy
        else
        {
            existing.AddInPlace(g);
            if (owned) BufferPool.Release(g.Storage);
        }
    }
}
