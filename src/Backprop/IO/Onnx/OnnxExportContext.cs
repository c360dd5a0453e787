using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.IO.Onnx;

/// <summary>
/// The graph an <see cref="IOnnxExportable"/> module adds itself to: its submodules through the export's
/// own mapping, and the few ops that join them. Initializers are named by the module's path, as in the
/// state dict.
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
    public OnnxValue LearnedPositions(string name, Embedding table, OnnxValue input, int dim)
    {
        ArgumentNullException.ThrowIfNull(table);
        int d = dim < 0 ? dim + input.Example.Rank : dim;
        if (d < 0 || d >= input.Example.Rank)
            throw new ArgumentException($"ONNX export: dim {dim} is outside input {input.Example.Shape}");
        string weight = _graph.Initializer(_path + name + ".weight", table.Weight.Data);
        string rows = OnnxExport.LeadingRows(_graph, OnnxExport.Hint(_path + name + ".", "positions"), weight, input.Name, d);
        return new(rows, table.Weight.Data.Narrow(0, 0, input.Example.Shape[d]));
    }
}
