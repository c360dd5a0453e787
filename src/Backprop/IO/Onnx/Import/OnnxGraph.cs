using Backprop.IO.Onnx.Proto;
using Backprop.Tensors;

namespace Backprop.IO.Onnx.Import;

/// <summary>A graph input the caller supplies: its slot, declared dtype (null if undeclared) and dims (null where symbolic).</summary>
internal sealed record OnnxInput(string Name, int Slot, DType? DType, int?[]? Dims, string[] DimNames);

/// <summary>An initializer: its value, whether it trains (a float tensor) or is a buffer (running statistics, 0-d constants, integers).</summary>
internal sealed record OnnxInitializer(string Name, int Slot, Tensor Value, bool Trainable);

/// <summary>
/// A checked ONNX graph ready to run: every value has a slot, every node's inputs are defined before it
/// (the order the spec requires), every op is one the importer runs, Constant nodes are read once, and every
/// tensor in the file was checked against its dims before it was allocated.
/// </summary>
internal sealed class OnnxGraph
{
    public required string Source { get; init; }

    public required long Opset { get; init; }

    public required int SlotCount { get; init; }

    public required OnnxInput[] Inputs { get; init; }

    public required (string Name, int Slot)[] Outputs { get; init; }

    public required OnnxInitializer[] Initializers { get; init; }

    public required (int Slot, Tensor Value)[] Constants { get; init; }

    public required OnnxNode[] Nodes { get; init; }

    public required OnnxOp[] Ops { get; init; }

    private static InvalidDataException Bad(string source, string what) => new($"{source}: {what}");

    public static OnnxGraph Read(ModelProto model, string source)
    {
        GraphProto graph = model.Graph ?? throw Bad(source, "the model has no graph");
        long opset = -1;
        foreach (OperatorSetIdProto o in model.OpsetImport)
            if (o.Domain is "" or "ai.onnx") opset = o.Version;
        if (opset < 0) throw Bad(source, "opset_import has no entry for the default ONNX domain");
        if (graph.SparseInitializer.Count > 0) throw new NotSupportedException($"{source}: sparse initializers are not supported");

        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        int Define(string name, string what)
        {
            if (name.Length == 0) throw Bad(source, $"{what} has an empty name");
            if (!slots.TryAdd(name, slots.Count)) throw Bad(source, $"{what} defines '{name}', which is already defined");
            return slots[name];
        }

        // Which initializers feed batch norm's running statistics: those are buffers, as in PyTorch.
        var statistics = new HashSet<string>(StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
            if (node.OpType == "BatchNormalization")
                for (int i = 3; i < Math.Min(5, node.Input.Count); i++) statistics.Add(node.Input[i]);

        var initializers = new OnnxInitializer[graph.Initializer.Count];
        for (int i = 0; i < initializers.Length; i++)
        {
            TensorProto t = graph.Initializer[i];
            Tensor value = OnnxTensors.Read(t, $"{source}: graph.initializer[{i}] '{t.Name}'");
            bool trainable = value.DType.IsFloatingPoint() && value.Rank > 0 && !statistics.Contains(t.Name);
            initializers[i] = new OnnxInitializer(t.Name, Define(t.Name, $"graph.initializer[{i}]"), value, trainable);
        }

        var inputs = new List<OnnxInput>();
        for (int i = 0; i < graph.Input.Count; i++)
        {
            ValueInfoProto v = graph.Input[i];
            if (slots.ContainsKey(v.Name) && initializers.Any(t => t.Name == v.Name)) continue; // an initializer listed as an input (IR < 4)
            inputs.Add(Input(v, Define(v.Name, $"graph.input[{i}]"), source));
        }

        var nodes = new List<OnnxNode>();
        var ops = new List<OnnxOp>();
        var constants = new List<(int, Tensor)>();
        for (int i = 0; i < graph.Node.Count; i++)
        {
            NodeProto p = graph.Node[i];
            string describe = $"ONNX node {i} '{p.Name}' ({p.OpType})";
            if (p.Domain is not ("" or "ai.onnx"))
                throw new NotSupportedException($"{source}: {describe}: domain '{p.Domain}' is not supported (only the default ONNX domain is)");
            if (!OnnxOps.TryGet(p.OpType, out OnnxOp op))
                throw new NotSupportedException($"{source}: {describe}: op type '{p.OpType}' is not supported by the importer (supported: {string.Join(", ", OnnxOps.Supported)})");
            var inputSlots = new int[p.Input.Count];
            for (int j = 0; j < inputSlots.Length; j++)
            {
                string name = p.Input[j];
                if (name.Length == 0) inputSlots[j] = -1; // an omitted optional input
                else if (!slots.TryGetValue(name, out inputSlots[j]))
                    throw Bad(source, $"{describe}: input {j} '{name}' is not an initializer, a graph input or the output of an earlier node");
            }
            var attributes = new Dictionary<string, AttributeProto>(StringComparer.Ordinal);
            foreach (AttributeProto a in p.Attribute)
                if (!attributes.TryAdd(a.Name, a)) throw Bad(source, $"{describe}: attribute '{a.Name}' appears twice");
            var outputSlots = new int[p.Output.Count];
            for (int j = 0; j < outputSlots.Length; j++)
                outputSlots[j] = p.Output[j].Length == 0 ? -1 : Define(p.Output[j], $"{describe} output {j}");
            var node = new OnnxNode(p, i, opset, inputSlots, outputSlots, attributes, source);
            if (outputSlots.Length == 0) throw Bad(source, $"{describe}: the node has no outputs");
            if (p.OpType == "Constant")
            {
                if (outputSlots[0] >= 0) constants.Add((outputSlots[0], OnnxOps.Constant(node)));
                continue;
            }
            nodes.Add(node);
            ops.Add(op);
        }

        var outputs = new (string, int)[graph.Output.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            string name = graph.Output[i].Name;
            outputs[i] = (name, slots.TryGetValue(name, out int slot) ? slot : throw Bad(source, $"graph.output[{i}] '{name}' is not computed by the graph"));
        }
        if (outputs.Length == 0) throw Bad(source, "the graph has no outputs");

        return new OnnxGraph
        {
            Source = source,
            Opset = opset,
            SlotCount = slots.Count,
            Inputs = [.. inputs],
            Outputs = outputs,
            Initializers = initializers,
            Constants = [.. constants],
            Nodes = [.. nodes],
            Ops = [.. ops],
        };
    }

    private static OnnxInput Input(ValueInfoProto v, int slot, string source)
    {
        if (v.Type is null) return new OnnxInput(v.Name, slot, null, null, []);
        if (v.Type.TensorType is not { } tensor)
            throw new NotSupportedException($"{source}: graph input '{v.Name}' is not a tensor (sequences, maps and optionals are not supported)");
        DType? dtype = null;
        if (tensor.ElemType != 0)
            dtype = OnnxTensors.DTypeOf(tensor.ElemType) ?? throw new NotSupportedException(
                $"{source}: graph input '{v.Name}' has element type {OnnxTensors.Name(tensor.ElemType)}, which the importer does not support (FLOAT, DOUBLE, INT64, BOOL and smaller integers are)");
        if (tensor.Shape is null) return new OnnxInput(v.Name, slot, dtype, null, []);
        var dims = new int?[tensor.Shape.Dim.Count];
        var names = new string[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            var d = tensor.Shape.Dim[i];
            names[i] = d.DimParam;
            if (d.HasDimValue && d.DimValue >= 0 && d.DimValue <= int.MaxValue) dims[i] = (int)d.DimValue;
        }
        return new OnnxInput(v.Name, slot, dtype, dims, names);
    }
}
