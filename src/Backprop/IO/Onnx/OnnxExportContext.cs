using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.IO.Onnx;

/// <summary>
/// The graph an <see cref="IOnnxExportable"/> module adds itself to: its submodules through the export's
/// own mapping, the few ops that join them, and graph inputs and outputs beyond the model's own (a recurrent
/// model's states, an attention mask). Initializers are named by the module's path, as in the state dict.
/// </summary>
public sealed class OnnxExportContext
{
    private readonly OnnxGraphBuilder _graph;
    private readonly string _path;

    internal OnnxExportContext(OnnxGraphBuilder graph, string path) => (_graph, _path) = (graph, path);

    /// <summary>Exports <paramref name="module"/> (registered under <paramref name="name"/> in this module) on <paramref name="input"/>.</summary>
    /// <exception cref="NotSupportedException">The submodule (named by its path and type) has no ONNX mapping.</exception>
    public OnnxValue Module(string name, Module module, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(module);
        return OnnxExport.Emit(_graph, module, _path + name + ".", input);
    }

    /// <summary>a + b, broadcasting as the engine does.</summary>
    public OnnxValue Add(OnnxValue a, OnnxValue b)
        => new(_graph.Node("Add", OnnxExport.Hint(_path, "add"), [a.Name, b.Name]), a.Example + b.Example);

    /// <summary>
    /// Learned position embeddings: rows 0..T−1 of <paramref name="table"/>'s weight [maxLength, dim], T the size of dim
    /// <paramref name="dim"/> of <paramref name="input"/> read from the input at run time (so the sequence length may vary up to maxLength).
    /// Gives [T, dim], what <c>table.Call(Tensor.Arange(T, DType.Int64))</c> gives.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dim"/> is not a dim of the input.</exception>
    public OnnxValue LearnedPositions(string name, Embedding table, OnnxValue input, int dim)
    {
        ArgumentNullException.ThrowIfNull(table);
        int d = Dim(input, dim);
        string weight = _graph.Initializer(_path + name + ".weight", table.Weight.Data);
        string rows = OnnxExport.LeadingRows(_graph, OnnxExport.Hint(_path + name + ".", "positions"), weight, input.Name, d);
        return new(rows, table.Weight.Data.Narrow(0, 0, input.Example.Shape[d]));
    }

    /// <summary>
    /// Adds a graph input after the model's own: <paramref name="name"/>, of <paramref name="example"/>'s dtype (the graph's float type,
    /// Int64 or Bool) and shape, dim i symbolic where <paramref name="dimNames"/>[i] is not null. A dim named as one of the model
    /// input's symbolic dims is the same dim (so a state's batch dim is the input's "batch").
    /// </summary>
    /// <exception cref="NotSupportedException">The dtype is another float type than the graph's, or not exported.</exception>
    public OnnxValue Input(string name, Tensor example, params string?[] dimNames)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(example);
        if (example.DType is DType.Float32 or DType.Float64 && example.DType != _graph.DType)
            throw new NotSupportedException($"ONNX export: input '{name}' is {example.DType} but the graph is {_graph.DType}");
        var type = OnnxGraphBuilder.InputElementType(example.DType, $"ONNX export: input '{name}'");
        string graphName = _graph.Fresh(name);
        _graph.ExtraInputs.Add(OnnxGraphBuilder.ValueInfo(graphName, type, example.Shape, dimNames));
        return new(graphName, Resized(example, dimNames));
    }

    /// <summary>Adds <paramref name="value"/> as a graph output after the model's own, named <paramref name="name"/>, dim i symbolic where <paramref name="dimNames"/>[i] is not null.</summary>
    public void Output(string name, OnnxValue value, params string?[] dimNames)
    {
        ArgumentNullException.ThrowIfNull(name);
        string graphName = _graph.Node("Identity", name, [value.Name]);
        _graph.ExtraOutputs.Add(OnnxGraphBuilder.ValueInfo(graphName, OnnxGraphBuilder.InputElementType(value.Example.DType, "ONNX export"), value.Example.Shape, dimNames));
    }

    /// <summary>
    /// Runs <paramref name="layer"/> (registered under <paramref name="name"/>) from the initial states <paramref name="h0"/> (and
    /// <paramref name="c0"/> for an <see cref="Lstm"/>; null: zeros), [layers·directions, batch, hidden], over the first
    /// <paramref name="lengths"/>[b] steps of sequence b (Int64 [batch]; null: every step); returns the output and the final
    /// states, as the layer's <c>Forward(input, h0, lengths)</c> / <c>Forward(input, (h0, c0), lengths)</c>.
    /// </summary>
    /// <exception cref="NotSupportedException">The layer's input is not [seq, batch, input], [batch, seq, input] or [seq, input].</exception>
    public (OnnxValue Output, OnnxValue H, OnnxValue? C) Recurrent(string name, RecurrentLayer layer, OnnxValue input, OnnxValue? h0 = null, OnnxValue? c0 = null,
                                                                   OnnxValue? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var (output, h, c) = OnnxExport.Recurrent(_graph, _path + name + ".", layer, input, h0?.Name, c0?.Name, lengths?.Name, OnnxExport.Hint(_path + name + ".", "recurrent"));
        long[]? steps = lengths?.Example.ToArray<long>();
        if (steps is not null && _graph.Probe is not null)
        {
            // A probe walk may shorten the sequence: the example's lengths are kept within it (only shapes matter there).
            int seq = input.Example.Shape[input.Example.Rank == 3 && layer.BatchFirst ? 1 : 0];
            for (int i = 0; i < steps.Length; i++) steps[i] = Math.Min(steps[i], seq);
        }
        (Tensor y, Tensor hn, Tensor? cn) = layer switch
        {
            Lstm lstm when lstm.Forward(input.Example, h0 is null && c0 is null ? null : (Zeros(h0, layer, input), Zeros(c0, layer, input)), steps) is var (o, (sh, sc)) => (o, sh, sc),
            Gru gru when gru.Forward(input.Example, h0?.Example, steps) is var (o, sh) => (o, sh, null),
            Rnn rnn when rnn.Forward(input.Example, h0?.Example, steps) is var (o, sh) => (o, sh, null),
            _ => throw new NotSupportedException($"ONNX export: recurrent layer {layer.GetType().Name} has no ONNX mapping"),
        };
        return (new(output, y), new(h, hn), c is null ? null : new OnnxValue(c, cn!));
    }

    /// <summary>
    /// Attention of <paramref name="attention"/> (registered under <paramref name="name"/>) of <paramref name="query"/> over
    /// <paramref name="key"/> and <paramref name="value"/> with the masks of its forward: <paramref name="keyPaddingMask"/> [N, S] and
    /// <paramref name="attnMask"/> [L, S] or [N·H, L, S] (Bool true or Int64 nonzero = masked, a float mask added to the scores), and
    /// the causal mask; what <c>Forward(query, key, value, keyPaddingMask, needWeights: false, attnMask, isCausal: causal)</c> gives
    /// (a query with every key masked gets weights 0, as there). kdim/vdim projections, add_bias_kv and add_zero_attn are exported.
    /// </summary>
    /// <exception cref="NotSupportedException">An input's rank is not 3 (or 2 unbatched), or a mask's dtype is not exported.</exception>
    public OnnxValue Attention(string name, MultiheadAttention attention, OnnxValue query, OnnxValue key, OnnxValue value,
                               OnnxValue? keyPaddingMask = null, OnnxValue? attnMask = null, bool causal = false)
    {
        ArgumentNullException.ThrowIfNull(attention);
        string path = _path + name + ".";
        string output = OnnxExport.Attention(_graph, path, attention, query, key, value, causal, OnnxExport.Hint(path, "attention"), keyPaddingMask, attnMask);
        return new(output, attention.Forward(query.Example, key.Example, value.Example, keyPaddingMask?.Example, needWeights: false, attnMask?.Example, isCausal: causal).Output);
    }

    /// <summary>
    /// Self-attention: <see cref="Attention"/> with <paramref name="input"/> as query, key and value (one projection input, as the
    /// module's self-attention path).
    /// </summary>
    /// <exception cref="NotSupportedException">As <see cref="Attention"/>.</exception>
    public OnnxValue SelfAttention(string name, MultiheadAttention attention, OnnxValue input, OnnxValue? keyPaddingMask = null, OnnxValue? attnMask = null, bool causal = false)
        => Attention(name, attention, input, input, input, keyPaddingMask, attnMask, causal);

    private static Tensor Zeros(OnnxValue? state, RecurrentLayer layer, OnnxValue input)
    {
        if (state is { } s) return s.Example;
        int batch = input.Example.Rank == 2 ? 1 : input.Example.Shape[layer.BatchFirst ? 0 : 1];
        return input.Example.Rank == 2
            ? Tensor.Zeros([layer.NumLayers * layer.Directions, layer.HiddenSize], input.Example.DType)
            : Tensor.Zeros([layer.NumLayers * layer.Directions, batch, layer.HiddenSize], input.Example.DType);
    }

    private static int Dim(OnnxValue input, int dim)
    {
        int d = dim < 0 ? dim + input.Example.Rank : dim;
        if (d < 0 || d >= input.Example.Rank)
            throw new ArgumentException($"ONNX export: dim {dim} is outside input {input.Example.Shape}");
        return d;
    }

    // On a probe walk, an extra input's dims named as the probed dim take the probe's size (repeating rows when it grows).
    private Tensor Resized(Tensor example, IReadOnlyList<string?> dimNames)
    {
        if (_graph.Probe is not var (probed, size)) return example;
        for (int i = 0; i < dimNames.Count && i < example.Rank; i++)
        {
            if (dimNames[i] != probed || example.Shape[i] == size) continue;
            Tensor grown = example;
            while (grown.Shape[i] < size) grown = Tensor.Cat([grown, example], i);
            example = grown.Narrow(i, 0, size).Contiguous();
        }
        return example;
    }
}
