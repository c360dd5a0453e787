using Backprop.IO.Onnx.Import;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.IO.Onnx;

/// <summary>
/// An imported ONNX graph as a <see cref="Module"/> (see <see cref="OnnxImport"/>): the graph's nodes run in
/// order with the engine's differentiable ops, so <see cref="Tensor.Backward"/> reaches its parameters.
/// Float initializers are parameters named as in the file ("fc1.weight" is child "fc1", parameter "weight",
/// so <see cref="Module.StateDict"/>, optimizers and checkpoints see the file's names); batch norm's running
/// statistics, 0-d constants and integer initializers are buffers. The model starts in evaluation mode;
/// <see cref="Module.Train"/> makes Dropout nodes drop (batch norm always uses its running statistics).
/// </summary>
public sealed class OnnxModel : Module
{
    [NotAMember] private readonly OnnxGraph _graph;
    private readonly Dictionary<string, int> _slotOfState = new(StringComparer.Ordinal);

    internal OnnxModel(OnnxGraph graph)
    {
        _graph = graph;
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (OnnxInitializer init in graph.Initializers) taken.Add(init.Name);
        // A name that is also the prefix of another ("a" and "a.b") or has an empty part cannot be a path of modules.
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in taken)
            for (int i = name.IndexOf('.'); i >= 0; i = name.IndexOf('.', i + 1)) prefixes.Add(name[..i]);
        var scopes = new Dictionary<string, OnnxScope>(StringComparer.Ordinal);
        var topLevel = new HashSet<string>(StringComparer.Ordinal);
        foreach (OnnxInitializer init in graph.Initializers)
        {
            string[] parts = init.Name.Split('.');
            bool path = parts.All(p => p.Length > 0) && !prefixes.Contains(init.Name) && !Enumerable.Range(1, parts.Length - 1).Any(i => taken.Contains(string.Join('.', parts[..i])));
            Tensor value = init.Value;
            if (path && parts.Length > 1 && !topLevel.Contains(parts[0]))
            {
                OnnxScope scope = Scope(scopes, parts, parts.Length - 1);
                scope.Add(parts[^1], value, init.Trainable);
                _slotOfState[init.Name] = init.Slot;
                continue;
            }
            string key = path && parts.Length == 1 ? init.Name : init.Name.Replace('.', '_');
            while (prefixes.Contains(key) || scopes.ContainsKey(key) || key != init.Name && taken.Contains(key) || !topLevel.Add(key)) key += "_";
            if (init.Trainable) RegisterParameter(key, value);
            else RegisterBuffer(key, value);
            _slotOfState[key] = init.Slot;
        }
        Eval();
    }

    private OnnxScope Scope(Dictionary<string, OnnxScope> scopes, string[] parts, int depth)
    {
        string key = string.Join('.', parts[..depth]);
        if (scopes.TryGetValue(key, out OnnxScope? scope)) return scope;
        scope = new OnnxScope();
        if (depth == 1) RegisterModule(parts[0], scope);
        else Scope(scopes, parts, depth - 1).AddChild(parts[depth - 1], scope);
        scopes[key] = scope;
        return scope;
    }

    /// <summary>The names of the graph inputs a caller supplies (initializers excluded), in the file's order.</summary>
    public IReadOnlyList<string> InputNames => [.. _graph.Inputs.Select(i => i.Name)];

    /// <summary>The names of the graph outputs, in the file's order.</summary>
    public IReadOnlyList<string> OutputNames => [.. _graph.Outputs.Select(o => o.Name)];

    /// <summary>The declared dims of input <paramref name="index"/>: a size, or null for a symbolic (dynamic) dim; null when the file declares no shape.</summary>
    public int?[]? InputDims(int index = 0) => _graph.Inputs[index].Dims?.ToArray();

    /// <summary>The declared dtype of input <paramref name="index"/>, or null when the file declares none.</summary>
    public DType? InputDType(int index = 0) => _graph.Inputs[index].DType;

    /// <summary>The opset of the default domain the file was written for.</summary>
    public long Opset => _graph.Opset;

    /// <summary>Runs a graph with one input and returns its first output.</summary>
    /// <exception cref="InvalidOperationException">The graph takes more than one input.</exception>
    /// <exception cref="ArgumentException">The input's dtype or shape does not match the graph's declaration, or a node fails on it (the message names the node).</exception>
    public override Tensor Forward(Tensor input)
    {
        if (_graph.Inputs.Length != 1)
            throw new InvalidOperationException($"{_graph.Source}: the graph takes {_graph.Inputs.Length} inputs ({string.Join(", ", InputNames)}); call Run with all of them");
        return Run(input)[0];
    }

    /// <summary>Runs the graph on its inputs (in <see cref="InputNames"/> order) and returns every output (in <see cref="OutputNames"/> order).</summary>
    /// <exception cref="ArgumentException">The wrong number of inputs, an input whose dtype or shape does not match the declaration, or a node that fails (named in the message).</exception>
    /// <exception cref="NotSupportedException">A node uses a setting the importer does not run (named in the message).</exception>
    public Tensor[] Run(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        OnnxGraph g = _graph;
        if (inputs.Length != g.Inputs.Length)
            throw new ArgumentException($"{g.Source}: the graph takes {g.Inputs.Length} inputs ({string.Join(", ", InputNames)}), got {inputs.Length}");
        var values = new Tensor?[g.SlotCount];
        foreach ((int slot, Tensor value) in g.Constants) values[slot] = value;
        foreach (var (name, p) in NamedParameters()) values[_slotOfState[name]] = p.Data;
        foreach (var (name, b) in NamedBuffers()) values[_slotOfState[name]] = b;
        for (int i = 0; i < inputs.Length; i++) values[g.Inputs[i].Slot] = CheckInput(g.Inputs[i], inputs[i]);
        for (int k = 0; k < g.Nodes.Length; k++)
        {
            OnnxNode node = g.Nodes[k];
            var x = new Tensor?[node.Inputs.Length];
            for (int j = 0; j < x.Length; j++)
                if (node.Inputs[j] >= 0) x[j] = values[node.Inputs[j]];
            Tensor?[] y;
            try
            {
                y = g.Ops[k](node, x, Training);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
            {
                throw new ArgumentException($"{g.Source}: {node.Describe}: {e.Message} (inputs {string.Join(", ", x.Select(t => t is null ? "none" : $"{t.DType.Name()} {t.Shape}"))})", e);
            }
            for (int j = 0; j < node.Outputs.Length && j < y.Length; j++)
                if (node.Outputs[j] >= 0) values[node.Outputs[j]] = y[j];
        }
        var outputs = new Tensor[g.Outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
            outputs[i] = values[g.Outputs[i].Slot] ?? throw new InvalidOperationException($"{g.Source}: output '{g.Outputs[i].Name}' was not computed");
        return outputs;
    }

    private Tensor CheckInput(OnnxInput declared, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (declared.DType is { } dtype && input.DType != dtype)
            throw new ArgumentException($"{_graph.Source}: input '{declared.Name}' must be {dtype.Name()}, got {input.DType.Name()} {input.Shape}");
        if (declared.Dims is { } dims)
        {
            bool fits = dims.Length == input.Rank;
            for (int i = 0; fits && i < dims.Length; i++) fits = dims[i] is not { } d || d == input.Shape[i];
            if (!fits)
                throw new ArgumentException($"{_graph.Source}: input '{declared.Name}' must have shape [{string.Join(", ", dims.Select((d, i) => d?.ToString() ?? (declared.DimNames[i] is { Length: > 0 } s ? s : "?")))}], got {input.Shape}");
        }
        return input;
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"OnnxModel({_graph.Nodes.Length} nodes, opset {_graph.Opset})";

    /// <summary>A level of dotted initializer names ("encoder" in "encoder.fc.weight"); it holds state and is never called.</summary>
    private sealed class OnnxScope : Module
    {
        public void Add(string name, Tensor value, bool trainable)
        {
            if (trainable) RegisterParameter(name, value);
            else RegisterBuffer(name, value);
        }

        public void AddChild(string name, OnnxScope child) => RegisterModule(name, child);

        public override Tensor Forward(Tensor input) => throw new InvalidOperationException("an ONNX initializer scope holds state and has no forward of its own");
    }
}
