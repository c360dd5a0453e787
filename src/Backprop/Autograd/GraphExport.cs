using System.Globalization;
using System.Text;
using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// Writes the autograd graph behind a tensor as Graphviz DOT (render it with <c>dot -Tsvg graph.dot -o graph.svg</c>),
/// like the torchviz package does for PyTorch. Arrows follow the forward data flow, from inputs to the ops
/// that use them:
/// <list type="bullet">
/// <item>an <b>op</b> (grey box): its backward node's name as PyTorch prints it (<c>MulBackward</c>), the
/// output's shape and dtype, and "saves its output" when its backward needs what it computed; the tensor
/// the graph was taken from is the green op;</item>
/// <item>a <b>leaf</b> that requires grad (blue): its name when given, else "leaf", with shape and dtype;</item>
/// <item>a <b>saved tensor</b>, kept for backward: a dashed arrow labelled "saved" into the op that keeps
/// it, from the leaf or op that made it when that is in the graph, else from an orange box (a constant
/// input, or a buffer the op made, such as a mask); "freed" once a backward without retainGraph released it.</item>
/// </list>
/// Tensors that do not require grad appear only when saved. Ops recorded under <see cref="AnomalyMode"/>
/// carry their creation site as a tooltip.
/// </summary>
public static class GraphExport
{
    /// <summary>The graph that produced <paramref name="root"/>, as a Graphviz DOT digraph.</summary>
    /// <param name="root">The tensor whose graph to draw, typically a loss (it need not be a scalar).</param>
    /// <param name="names">
    /// Optional names for tensors, matched by reference (or by sharing the same storage, shape and offset),
    /// e.g. <c>model.StateDict()</c> to label a model's parameters and buffers.
    /// </param>
    /// <returns>The DOT text, ending with a newline.</returns>
    public static string ToDot(Tensor root, IEnumerable<KeyValuePair<string, Tensor>>? names = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        return new Writer(names).Write(root);
    }

    private sealed class Writer
    {
        private readonly List<KeyValuePair<string, Tensor>> _names = [];
        private readonly Dictionary<object, string> _ids = new(ReferenceEqualityComparer.Instance);
        private readonly StringBuilder _nodes = new();
        private readonly StringBuilder _edges = new();

        public Writer(IEnumerable<KeyValuePair<string, Tensor>>? names)
        {
            if (names is null) return;
            foreach (var kv in names)
                if (kv.Value is not null) _names.Add(kv);
        }

        public string Write(Tensor root)
        {
            if (root.GradFn is { } top)
            {
                List<Node> order = Collect(top);
                foreach (Node node in order)
                    Declare(node, ReferenceEquals(node, top));
                foreach (Node node in order)     // leaves before saved tensors, so a saved leaf points from its own box
                    foreach (Edge e in node.Edges)
                        if (e.Leaf is { } leaf) LeafId(leaf);
                foreach (Node node in order)
                    Connect(node);
            }
            else if (root.RequiresGrad)
                LeafId(root);
            else
                Line(_nodes, $"n0 [label={Quote($"{Describe(root)}\nno autograd graph (does not require grad)")}, shape=box]");

            var dot = new StringBuilder();
            dot.Append("digraph autograd {\n");
            dot.Append("  graph [rankdir=TB];\n");
            dot.Append("  node [fontname=\"Helvetica\", fontsize=10];\n");
            dot.Append("  edge [fontname=\"Helvetica\", fontsize=9];\n");
            dot.Append(_nodes).Append(_edges).Append("}\n");
            return dot.ToString();
        }

        /// <summary>Every node reachable from <paramref name="top"/> through its edges, breadth first.</summary>
        private static List<Node> Collect(Node top)
        {
            var order = new List<Node> { top };
            var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance) { top };
            for (int i = 0; i < order.Count; i++)
                foreach (Edge e in order[i].Edges)
                    if (e.Node is { } next && seen.Add(next))
                        order.Add(next);
            return order;
        }

        private void Declare(Node node, bool isRoot)
        {
            string id = NewId(node);
            var label = new StringBuilder(node.Name).Append('\n')
                .Append(node.OutputShape).Append(' ').Append(node.OutputDType.Name());
            foreach (SavedTensor s in node.SavedTensors)
                if (s.Peek is { } t && ReferenceEquals(t.GradFn, node))
                {
                    label.Append("\nsaves its output");
                    break;
                }
            string tooltip = node.Anomaly?.Site is { } site ? $", tooltip={Quote("created at " + site)}" : "";
            Line(_nodes, $"{id} [label={Quote(label.ToString())}, shape=box, style=filled, fillcolor={(isRoot ? "darkolivegreen1" : "lightgrey")}{tooltip}]");
        }

        private void Connect(Node node)
        {
            string id = _ids[node];
            foreach (Edge e in node.Edges)
            {
                if (e.Node is { } from) Line(_edges, $"{_ids[from]} -> {id}");
                else if (e.Leaf is { } leaf) Line(_edges, $"{LeafId(leaf)} -> {id}");
            }
            foreach (SavedTensor s in node.SavedTensors)
            {
                Tensor? t = s.Peek;
                if (t is not null && ReferenceEquals(t.GradFn, node)) continue; // its own output: in the label
                string from = t?.GradFn is { } maker && _ids.TryGetValue(maker, out string? makerId) ? makerId
                    : t is not null && t.GradFn is null && _ids.TryGetValue(t, out string? leafId) ? leafId
                    : SavedBoxId(s, t);
                Line(_edges, $"{from} -> {id} [style=dashed, color=darkorange, label=\"saved\"]");
            }
        }

        private string LeafId(Tensor leaf)
        {
            if (_ids.TryGetValue(leaf, out string? id)) return id;
            id = NewId(leaf);
            Line(_nodes, $"{id} [label={Quote($"{NameOf(leaf) ?? "leaf"}\n{Describe(leaf)}")}, shape=box, style=\"filled,rounded\", fillcolor=lightblue]");
            return id;
        }

        /// <summary>A box for a saved tensor that is not a node of the graph; one per tensor (by reference).</summary>
        private string SavedBoxId(SavedTensor s, Tensor? t)
        {
            object key = (object?)t ?? s;
            if (_ids.TryGetValue(key, out string? id)) return id;
            id = NewId(key);
            string text = t is null
                ? $"saved (freed)\n{s.Shape}"
                : $"{(NameOf(t) is { } name ? $"saved {name}" : "saved")}\n{Describe(t)}";
            Line(_nodes, $"{id} [label={Quote(text)}, shape=box, style=filled, fillcolor=orange]");
            return id;
        }

        private string? NameOf(Tensor t)
        {
            foreach (var (name, named) in _names)
                if (ReferenceEquals(named, t)) return name;
            foreach (var (name, named) in _names)
                if (ReferenceEquals(named.Storage, t.Storage) && named.Shape == t.Shape && named.Offset == t.Offset) return name;
            return null;
        }

        private string NewId(object key)
        {
            string id = string.Create(CultureInfo.InvariantCulture, $"n{_ids.Count}");
            _ids.Add(key, id);
            return id;
        }

        private static string Describe(Tensor t) => $"{t.Shape} {t.DType.Name()}";

        private static void Line(StringBuilder sb, string statement) => sb.Append("  ").Append(statement).Append(";\n");
    }

    /// <summary>A DOT double-quoted string: quotes and backslashes escaped, line breaks as \n (centred lines).</summary>
    internal static string Quote(string text)
    {
        var sb = new StringBuilder(text.Length + 2).Append('"');
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }
}
