using System.Runtime.InteropServices;
using Backprop.IO.Onnx.Proto;
using Backprop.Tensors;
using Google.Protobuf;

namespace Backprop.IO.Onnx;

/// <summary>
/// Collects the nodes and initializers of one ONNX graph: unique value names, initializers as raw
/// little-endian data, scalar constants of the graph's float type.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public OnnxGraphBuilder(DType dtype, string graphName)
    {
        DType = dtype;
        ElemType = ElementType(dtype, "ONNX export");
        Graph = new GraphProto { Name = graphName };
    }

    public GraphProto Graph { get; }

    public DType DType { get; }

    public TensorProto.Types.DataType ElemType { get; }

    /// <summary>The ONNX element type of a Backprop float dtype.</summary>
    /// <exception cref="NotSupportedException">Another dtype.</exception>
    public static TensorProto.Types.DataType ElementType(DType dtype, string what) => dtype switch
    {
        DType.Float32 => TensorProto.Types.DataType.Float,
        DType.Float64 => TensorProto.Types.DataType.Double,
        _ => throw new NotSupportedException($"{what}: dtype {dtype} is not exported (Float32 and Float64 are)"),
    };

    /// <summary>The ONNX element type of a graph input: a float type, Int64 (indices) or Bool (masks).</summary>
    /// <exception cref="NotSupportedException">Another dtype.</exception>
    public static TensorProto.Types.DataType InputElementType(DType dtype, string what) => dtype switch
    {
        DType.Int64 => TensorProto.Types.DataType.Int64,
        DType.Bool => TensorProto.Types.DataType.Bool,
        _ => ElementType(dtype, what),
    };

    /// <summary>A name not used yet in this graph, built from <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        string name = hint;
        while (!_names.Add(name)) name = $"{hint}_{++_counter}";
        return name;
    }

    /// <summary>Adds a node; returns its (first) output name.</summary>
    public string Node(string opType, string outputHint, string[] inputs, params AttributeProto[] attributes)
        => Node(opType, [outputHint], inputs, attributes)[0];

    /// <summary>Adds a node with one output per hint; returns the output names.</summary>
    public string[] Node(string opType, string[] outputHints, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Fresh("node_" + outputHints[0]) };
        var outputs = new string[outputHints.Length];
        for (int i = 0; i < outputs.Length; i++) node.Output.Add(outputs[i] = Fresh(outputHints[i]));
        node.Input.AddRange(inputs);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return outputs;
    }

    /// <summary>Graph inputs after the model's own (added by <see cref="OnnxExportContext.Input"/>), in order.</summary>
    public List<ValueInfoProto> ExtraInputs { get; } = [];

    /// <summary>Graph outputs after the model's own (added by <see cref="OnnxExportContext.Output"/>), in order.</summary>
    public List<ValueInfoProto> ExtraOutputs { get; } = [];

    /// <summary>
    /// On a probe walk (which finds the output dims that follow a symbolic input dim), the name of that dim and the size the
    /// probe gives it, so that extra inputs sharing the dim are resized with it; null on the real walk.
    /// </summary>
    public (string Name, int Size)? Probe { get; init; }

    /// <summary>Adds a float tensor as an initializer (raw little-endian data); returns its name.</summary>
    /// <exception cref="NotSupportedException">Its dtype differs from the graph's.</exception>
    public string Initializer(string name, Tensor value)
    {
        if (value.DType != DType)
            throw new NotSupportedException($"ONNX export: tensor '{name}' has dtype {value.DType}, but the graph is {DType} (cast the model and the input to one dtype)");
        var proto = new TensorProto { Name = Fresh(name), DataType = (int)ElemType };
        for (int i = 0; i < value.Rank; i++) proto.Dims.Add(value.Shape[i]);
        proto.RawData = DType == DType.Float32 ? Raw(value.ToArray<float>()) : Raw(value.ToArray<double>());
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds an int64 initializer (shapes for Reshape, axes, indices): a vector, or a scalar when <paramref name="scalar"/>; returns its name.</summary>
    public string Int64Initializer(string name, long[] values, bool scalar = false)
    {
        var proto = new TensorProto { Name = Fresh(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        if (!scalar) proto.Dims.Add(values.Length);
        else if (values.Length != 1) throw new ArgumentException($"ONNX export: scalar '{name}' needs one value, got {values.Length}");
        proto.RawData = Raw(values);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds a scalar of the graph's float type; returns its name.</summary>
    public string Scalar(string name, double value)
    {
        var proto = new TensorProto { Name = Fresh(name), DataType = (int)ElemType };
        proto.RawData = DType == DType.Float32 ? Raw([(float)value]) : Raw([value]);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A value description: element type and dims, dim i symbolic where <paramref name="dimNames"/>[i] is not null.</summary>
    public static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType elemType, Shape shape, IReadOnlyList<string?> dimNames)
    {
        var tensorShape = new TensorShapeProto();
        for (int i = 0; i < shape.Rank; i++)
            tensorShape.Dim.Add(i < dimNames.Count && dimNames[i] is { } symbolic
                ? new TensorShapeProto.Types.Dimension { DimParam = symbolic }
                : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elemType, Shape = tensorShape } },
        };
    }

    private static ByteString Raw<T>(T[] values) where T : unmanaged
    {
        // The format stores raw_data little-endian; every platform .NET 10 runs on is.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX export: big-endian platforms are not supported");
        return ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, double value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)value };

    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Strings(string name, params string[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        foreach (string v in values) a.Strings.Add(ByteString.CopyFromUtf8(v));
        return a;
    }

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
