using Backprop.IO.Onnx.Proto;
using Backprop.Tensors;
using AttrType = Backprop.IO.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Backprop.IO.Onnx.Import;

/// <summary>
/// One graph node as the interpreter runs it: its op, where its inputs and outputs live (slots of the
/// value table, −1 for an omitted optional input), its attributes by name, and the opset it was written for.
/// </summary>
internal sealed class OnnxNode
{
    private readonly Dictionary<string, AttributeProto> _attributes;

    public OnnxNode(NodeProto proto, int index, long opset, int[] inputs, int[] outputs, Dictionary<string, AttributeProto> attributes, string source)
    {
        Index = index;
        Name = proto.Name;
        OpType = proto.OpType;
        Opset = opset;
        Inputs = inputs;
        Outputs = outputs;
        _attributes = attributes;
        Source = source;
    }

    public int Index { get; }

    public string Name { get; }

    public string OpType { get; }

    public long Opset { get; }

    public int[] Inputs { get; }

    public int[] Outputs { get; }

    public string Source { get; }

    /// <summary>"node 3 'conv1' (Conv)", for messages.</summary>
    public string Describe => $"ONNX node {Index} '{Name}' ({OpType})";

    public NotSupportedException Unsupported(string why) => new($"{Source}: {Describe}: {why}");

    public bool Has(string name) => _attributes.ContainsKey(name);

    private AttributeProto? Get(string name, AttrType type)
    {
        if (!_attributes.TryGetValue(name, out AttributeProto? a)) return null;
        if (a.Type != type && a.Type != AttrType.Undefined)
            throw new InvalidDataException($"{Source}: {Describe}: attribute '{name}' is {a.Type}, expected {type}");
        return a;
    }

    public long Int(string name, long fallback) => Get(name, AttrType.Int)?.I ?? fallback;

    public float Float(string name, float fallback) => Get(name, AttrType.Float)?.F ?? fallback;

    public string String(string name, string fallback) => Get(name, AttrType.String)?.S.ToStringUtf8() ?? fallback;

    public long[]? Ints(string name) => Get(name, AttrType.Ints)?.Ints.ToArray();

    public float[]? Floats(string name) => Get(name, AttrType.Floats)?.Floats.ToArray();

    public Tensor? Tensor(string name)
    {
        if (Get(name, AttrType.Tensor) is not { } a) return null;
        string where = $"{Source}: {Describe}: attribute '{name}'";
        return OnnxTensors.Read(a.T ?? throw new InvalidDataException($"{where} holds no tensor"), where);
    }

    /// <summary>The names of the attributes present (for Constant, whose one attribute says the kind of value).</summary>
    public IEnumerable<string> AttributeNames => _attributes.Keys;
}
