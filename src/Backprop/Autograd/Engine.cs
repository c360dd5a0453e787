using Backprop.Memory;
using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// Executes the backward pass: orders the graph topologically (a node runs once every node
/// that feeds it a gradient has run), sums gradients that meet at a node, and delivers leaf
/// gradients either into <see cref="Tensor.Grad"/> or, for <c>Gradients.Grad</c>, into a result array.
/// Gradients that only the engine can see are recycled as soon as they are consumed (see <see cref="Ownership"/>).
/// </summary>
internal static class Engine
{
    /// <summary>Requested inputs of the functional API: leaves by tensor, intermediates by node.</summary>
    internal sealed class Capture
    {
        public readonly Dictionary<Tensor, int> Leaves = new(ReferenceEqualityComparer.Instance);
        public readonly Dictionary<Node, int> Nodes = new(ReferenceEqualityComparer.Instance);
        public Tensor?[] Results = [];

        /// <summary>
        /// Set for a gradient checkpoint's recompute (see <see cref="GradientCheckpoint"/>): leaves other than the
        /// requested ones get their gradient as the backward around it would deliver it, into
        /// <see cref="Outer"/> when that is set, else into .Grad.
        /// </summary>
        public bool ForwardsOtherLeaves;

        /// <summary>The capture of the backward around a recompute (null: that backward fills .Grad).</summary>
        public Capture? Outer;
    }

    [ThreadStatic] private static Capture? t_running;

    /// <summary>The capture of the backward running on this thread (null when it fills .Grad), read by a checkpoint's recompute.</summary>
    internal static Capture? RunningCapture => t_running;

    /// <summary>Whether leaf gradients of a run with <paramref name="capture"/> end up in .Grad (no capture, or recompute captures around a backward that fills .Grad).</summary>
    private static bool FillsGrad(Capture? capture)
    {
        for (; capture is not null; capture = capture.Outer)
            if (!capture.ForwardsOtherLeaves) return false;
        return true;
    }

    /// <summary>Makes <see cref="RunningCapture"/> the given capture until disposed.</summary>
    private readonly ref struct RunningScope
    {
        private readonly Capture? _enclosing;

        public RunningScope(Capture? capture)
        {
            _enclosing = t_running;
            t_running = capture;
        }

        public void Dispose() => t_running = _enclosing;
    }

    public static void Run(ReadOnlySpan<Tensor> roots, ReadOnlySpan<Tensor> rootGrads, bool retainGraph, bool createGraph, Capture? capture)
    {
        var pending = new Dictionary<Node, (Tensor Grad, bool Owned)>(ReferenceEqualityComparer.Instance);
        var dependencies = CountDependencies(roots);
        var ready = new Stack<Node>();
        bool anomaly = AnomalyMode.Active;

        using GradModeScope mode = GradMode.Set(createGraph);
        using RunningScope running = new(capture);
        bool fillsGrad = FillsGrad(capture);
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
                    dy = RunHook(hook, dy);
            if (node.RetainGradTarget is { } retained && capture is null) // like leaves, Gradients.Grad leaves .Grad alone
                AccumulateGrad(retained, dy, createGraph, owned: false);
            if (capture is not null && capture.Nodes.TryGetValue(node, out int slot))
                capture.Results[slot] = Sum(capture.Results[slot], dy);

            long mark = Storage.LastSerial;
            // Only a gradient nobody else can see may be overwritten by the node (see OwnsOutputGradient).
            node.OwnsOutputGradient = owned && !createGraph && node.OutputHooks is null && node.RetainGradTarget is null
                                      && (capture is null || capture.ForwardsOtherLeaves); // a recompute captures leaves only, never a node's dy
            node.DeliversToLeafGrads = !createGraph && fillsGrad;
            bool dyPrivate = node.OwnsOutputGradient;
            Tensor?[] dx;
            try
            {
                dx = node.Backward(dy);
            }
            catch (Exception e) when (anomaly && e is not AnomalyException)
            {
                throw AnomalyRecord.BackwardFailed(node, e); // names the op and where it was created, as PyTorch's anomaly mode
            }
            finally
            {
                node.OwnsOutputGradient = false;
                node.DeliversToLeafGrads = false;
            }
            if (!retainGraph) node.Release();
            if (dx.Length != node.Edges.Length)
                throw new InvalidOperationException($"{node.Name}: backward returned {dx.Length} gradients for {node.Edges.Length} inputs");
            if (anomaly) AnomalyRecord.CheckBackward(node, dy, dx);
            // A private output gradient that the node did not pass on (as itself or a view) is dead now.
            if (dyPrivate && !node.MayRetainGradients && !Ownership.PassedOn(dx, dy.Storage))
                Ownership.Recycle(dy.Storage);

            for (int i = 0; i < dx.Length; i++)
            {
                Edge edge = node.Edges[i];
                Tensor? g = dx[i];
                if (!edge.IsActive || g is null) continue;
                if (g.Shape != edge.InputShape)
                    throw new InvalidOperationException($"{node.Name}: backward returned a gradient of shape {g.Shape} for input {i} of shape {edge.InputShape}");
                if (edge.Node is { } next)
                {
                    Accumulate(pending, next, g, owned: !node.MayRetainGradients && Ownership.IsFreshGradient(dx, i, mark));
                    if (--dependencies[next] == 0) ready.Push(next);
                }
                else
                {
                    DeliverToLeaf(edge.Leaf!, g, createGraph, capture, owned: !node.MayRetainGradients && Ownership.IsFreshGradient(dx, i, mark));
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
            if (existing.Owned) Ownership.Recycle(existing.Grad.Storage);
            if (owned) Ownership.Recycle(g.Storage);
        }
    }

    private static Tensor Sum(Tensor? a, Tensor b) => a is null ? b : a + b;

    /// <summary>
    /// Calls a gradient hook; null keeps the gradient. A replacement must have the gradient's shape and
    /// dtype: checked here, so a wrong one never reaches .Grad or the next node (as PyTorch).
    /// </summary>
    private static Tensor RunHook(Func<Tensor, Tensor?> hook, Tensor g)
    {
        Tensor? r = hook(g);
        if (r is null) return g;
        if (r.Shape != g.Shape || r.DType != g.DType)
            throw new InvalidOperationException(
                $"RegisterHook: a hook on a tensor of shape {g.Shape} ({g.DType.Name()}) returned a gradient of shape {r.Shape} ({r.DType.Name()}); "
                + "a hook must return a gradient of the tensor's shape and dtype, or null to keep it");
        return r;
    }

    private static void DeliverToLeaf(Tensor leaf, Tensor g, bool createGraph, Capture? capture, bool owned)
    {
        if (leaf.LeafHooks is not null)
        {
            owned = false; // a hook may have kept the tensor
            foreach (var hook in leaf.LeafHooks.ToArray())
                g = RunHook(hook, g);
        }
        for (; capture is not null; capture = capture.Outer)
        {
            if (capture.Leaves.TryGetValue(leaf, out int slot))
            {
                capture.Results[slot] = Sum(capture.Results[slot], g);
                return;
            }
            if (!capture.ForwardsOtherLeaves) return;
        }
        AccumulateGrad(leaf, g, createGraph, owned);
    }

    /// <summary>
    /// Adds a gradient into a .Grad slot. Without createGraph the stored gradient is the library's
    /// own tensor (backward may hand the same tensor to several inputs, or the caller may hold it):
    /// it goes into the buffer ZeroGrad released when there is one, is stored as is when it is
    /// <paramref name="owned"/> (see <see cref="Ownership.IsFreshGradient"/>), and is copied otherwise;
    /// later gradients add in place.
    /// </summary>
    private static void AccumulateGrad(Tensor target, Tensor g, bool createGraph, bool owned)
    {
        Tensor? existing = target.Grad;
        if (target.GradInFlight is { } inFlight && ReferenceEquals(g, inFlight))
        {
            // A node wrote this gradient into the buffer ZeroGrad released (Node.NewInputGradient).
            target.GradInFlight = null;
            g.BumpVersion();
            if (existing is null) target.Grad = g;
            else
            {
                existing.AddInPlace(g);
                target.SpareGrad = g;
            }
            return;
        }
        if (createGraph)
        {
            target.Grad = existing is null ? g : existing + g; // part of a graph: never recycled
            return;
        }
        if (existing is null)
        {
            if (target.SpareGrad is { } spare && spare.Shape == g.Shape && spare.DType == g.DType)
            {
                spare.CopyFrom(g); // no grad mode here: a plain strided copy, which bumps the version
                if (owned) Ownership.Recycle(g.Storage);
                target.Grad = spare;
            }
            else
                target.Grad = owned ? g : g.Detach().Clone();
        }
        else if (existing.RequiresGrad)
            target.Grad = (existing.Detach() + g).Detach(); // a fresh copy
        else
        {
            existing.AddInPlace(g);
            if (owned) Ownership.Recycle(g.Storage);
        }
    }
}
