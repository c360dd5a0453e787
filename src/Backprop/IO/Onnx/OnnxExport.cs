using Backprop.Autograd;
using Backprop.IO.Onnx.Proto;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Google.Protobuf;
using static Backprop.IO.Onnx.OnnxGraphBuilder;

namespace Backprop.IO.Onnx;

/// <summary>
/// Exports a model to ONNX (IR version 8, opset 17) for inference in ONNX Runtime or any other ONNX
/// runtime: the model is walked module by module on an example input, each known layer becomes its
/// standard ONNX ops (a fused layer its separate ops, dropout nothing), parameters and running
/// statistics become initializers (raw little-endian data, named as in the state dict), and the first
/// dim of the input and output is a symbolic batch dim (or the dims named in the call are symbolic).
/// </summary>
/// <remarks>
/// Exported: <see cref="Sequential"/>, <see cref="Residual"/>, <see cref="Linear"/>, <see cref="LinearRelu"/>,
/// <see cref="Conv1d"/> and <see cref="Conv2d"/> (zero padding), <see cref="ConvTranspose2d"/>, <see cref="Conv2dReluMaxPool2d"/>, <see cref="MaxPool2d"/>,
/// <see cref="AvgPool2d"/>, <see cref="AdaptiveAvgPool2d"/> and <see cref="AdaptiveMaxPool2d"/> (to 1×1, or sides that divide the input's),
/// <see cref="Unflatten"/>, <see cref="BatchNorm1d"/>/<see cref="BatchNorm2d"/> (running statistics),
/// <see cref="LayerNorm"/>, <see cref="GroupNorm"/> and <see cref="RmsNorm"/> (composed: opset 17 has no op for them),
/// <see cref="Dropout"/> and <see cref="Identity"/> (removed), <see cref="Flatten"/>,
/// <see cref="Relu"/>, <see cref="LeakyRelu"/>, <see cref="Sigmoid"/>, <see cref="Tanh"/>, <see cref="Silu"/>
/// and <see cref="Gelu"/> (opset 17 has no Gelu op: Erf or Tanh and arithmetic); for sequences
/// <see cref="Embedding"/> (Gather; an Int64 example input makes an int64 graph input), <see cref="SinusoidalPositionEmbedding"/>,
/// <see cref="MultiheadAttention"/> (self-attention as its one-input forward computes it: MatMul, Reshape, Transpose, Softmax; cross-attention
/// and masks through <see cref="OnnxExportContext.Attention"/>),
/// <see cref="TransformerBlock"/> (causal; the causal mask is built from the input's length at run time),
/// <see cref="Rnn"/>, <see cref="Lstm"/> and <see cref="Gru"/> (ONNX's RNN, LSTM and GRU ops, gates reordered, from zero states),
/// and any module implementing <see cref="IOnnxExportable"/>. Any other module is
/// an error that names it. The export runs the model in evaluation mode and restores its mode after.
/// </remarks>
public static partial class OnnxExport
{
    /// <summary>The ONNX IR version written.</summary>
    public const int IrVersion = 8;

    /// <summary>The opset of the default domain the graph uses.</summary>
    public const int OpsetVersion = 17;

    /// <summary>Name of the graph input.</summary>
    public const string InputName = "input";

    /// <summary>Name of the graph output.</summary>
    public const string OutputName = "output";

    /// <summary>Name of the symbolic first dim of the input and the output.</summary>
    public const string BatchDimName = "batch";

    /// <summary>Name used for a symbolic sequence dim (as in <c>ToBytes(model, tokens, [BatchDimName, SequenceDimName])</c>).</summary>
    public const string SequenceDimName = "sequence";

    /// <summary>Exports <paramref name="model"/> traced on <paramref name="exampleInput"/> as a serialized ONNX ModelProto.</summary>
    /// <param name="model">The model; its parameters must have the graph's float dtype.</param>
    /// <param name="exampleInput">An input of the shape the model takes (any batch size; its values only have to be valid inputs): Float32 or Float64,
    /// or Int64 token indices for a model that starts with an embedding (the graph's float type is then its parameters').</param>
    /// <param name="dynamicBatch">When true (the default) dim 0 of the input and output is the symbolic dim "batch"; otherwise every dim is fixed.</param>
    /// <exception cref="NotSupportedException">A module (named by its path and type) or a configuration has no ONNX mapping, or the dtype is not exported.</exception>
    public static byte[] ToBytes(Module model, Tensor exampleInput, bool dynamicBatch = true)
        => Build(model, exampleInput, dynamicBatch ? [BatchDimName] : []).ToByteArray();

    /// <summary>
    /// As <see cref="ToBytes(Module, Tensor, bool)"/> with the symbolic dims of the input named: dim i is symbolic where
    /// <paramref name="dimNames"/>[i] is not null (e.g. <c>[BatchDimName, SequenceDimName]</c> for token inputs [batch, T]).
    /// The output's dims that follow an input dim (found by exporting again on an input one shorter along it) get its name.
    /// </summary>
    /// <exception cref="ArgumentException">More names than the input has dims.</exception>
    /// <exception cref="NotSupportedException">As <see cref="ToBytes(Module, Tensor, bool)"/>.</exception>
    public static byte[] ToBytes(Module model, Tensor exampleInput, IReadOnlyList<string?> dimNames) => Build(model, exampleInput, dimNames).ToByteArray();

    /// <summary>Writes <see cref="ToBytes(Module, Tensor, bool)"/> to <paramref name="path"/> (atomically: a temporary file renamed over it).</summary>
    /// <exception cref="NotSupportedException">As <see cref="ToBytes(Module, Tensor, bool)"/>.</exception>
    public static void Save(Module model, Tensor exampleInput, string path, bool dynamicBatch = true)
        => Save(model, exampleInput, path, dynamicBatch ? [BatchDimName] : []);

    /// <summary>Writes <see cref="ToBytes(Module, Tensor, IReadOnlyList{string})"/> to <paramref name="path"/> (atomically).</summary>
    /// <exception cref="ArgumentException">More names than the input has dims.</exception>
    /// <exception cref="NotSupportedException">As <see cref="ToBytes(Module, Tensor, bool)"/>.</exception>
    public static void Save(Module model, Tensor exampleInput, string path, IReadOnlyList<string?> dimNames)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = ToBytes(model, exampleInput, dimNames);
        // A serialized ModelProto starts with field 1 (ir_version, varint): 0x08, then 8.
        AtomicFile.Write(path, "ONNX export", stream => stream.Write(bytes), head => head.Length >= 2 && head[0] == 0x08 && head[1] == IrVersion);
    }

    internal static ModelProto Build(Module model, Tensor exampleInput, IReadOnlyList<string?> dimNames)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(exampleInput);
        ArgumentNullException.ThrowIfNull(dimNames);
        if (exampleInput.Rank == 0) throw new ArgumentException("ONNX export: the example input must have at least one dim (the batch)");
        if (dimNames.Count > exampleInput.Rank)
            throw new ArgumentException($"ONNX export: {dimNames.Count} dim names for the example input {exampleInput.Shape} of rank {exampleInput.Rank}");
        DType floatType = GraphDType(model, exampleInput);
        var inputType = exampleInput.DType == DType.Int64 ? TensorProto.Types.DataType.Int64 : ElementType(floatType, "ONNX export");
        var builder = new OnnxGraphBuilder(floatType, model.GetType().Name);
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = GradMode.Disable();
            string inputName = builder.Fresh(InputName);
            var output = Emit(builder, model, "", new OnnxValue(inputName, exampleInput));
            string outputName;
            if (builder.Graph.Node.Count > 0 && builder.Graph.Node[^1].Output[0] == output.Name)
                builder.Graph.Node[^1].Output[0] = outputName = builder.Fresh(OutputName); // the last node writes the graph output
            else
                outputName = builder.Node("Identity", OutputName, [output.Name]); // the model returns its input (or only removed layers)
            builder.Graph.Input.Add(ValueInfo(inputName, inputType, exampleInput.Shape, dimNames));
            builder.Graph.Input.AddRange(builder.ExtraInputs);
            builder.Graph.Output.Add(ValueInfo(outputName, builder.ElemType, output.Example.Shape, OutputDimNames(model, exampleInput, output.Example, dimNames, floatType)));
            builder.Graph.Output.AddRange(builder.ExtraOutputs);
        }
        finally
        {
            if (wasTraining) model.Train();
        }
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Backprop",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "",
            Graph = builder.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return proto;
    }

    // The graph computes in the example's float type, or for index inputs in the parameters' (float32 without any).
    private static DType GraphDType(Module model, Tensor example)
    {
        if (example.DType is DType.Float32 or DType.Float64) return example.DType;
        if (example.DType != DType.Int64)
            throw new NotSupportedException($"ONNX export: the example input's dtype {example.DType} is not exported (Float32 and Float64, or Int64 indices for an embedding)");
        foreach (Parameter p in model.Parameters()) return p.Data.DType;
        return DType.Float32;
    }

    // An output dim is symbolic when it follows a symbolic input dim: the walk is repeated (on a throwaway graph, without
    // calling the model itself, whose forward may keep state) on an input one shorter (or twice as long, from 1) along it.
    private static string?[] OutputDimNames(Module model, Tensor example, Tensor output, IReadOnlyList<string?> dimNames, DType floatType)
    {
        var names = new string?[output.Rank];
        for (int i = 0; i < dimNames.Count; i++)
        {
            if (dimNames[i] is not { } name) continue;
            int size = example.Shape[i];
            Tensor probe = size >= 2 ? example.Narrow(i, 0, size - 1).Contiguous() : Tensor.Cat([example, example], i);
            var probeGraph = new OnnxGraphBuilder(floatType, "probe") { Probe = (name, probe.Shape[i]) };
            Tensor y = Emit(probeGraph, model, "", new OnnxValue(InputName, probe)).Example;
            if (y.Rank != output.Rank) continue;
            for (int j = 0; j < y.Rank; j++)
                if (names[j] is null && y.Shape[j] != output.Shape[j]) names[j] = name;
        }
        return names;
    }

    internal static OnnxValue Emit(OnnxGraphBuilder g, Module m, string path, OnnxValue x)
    {
        switch (m)
        {
            case Sequential seq:
                for (int i = 0; i < seq.Count; i++) x = Emit(g, seq[i], path + seq.Names[i] + ".", x);
                return x;
            case Residual res:
                {
                    OnnxValue inner = Emit(g, res.Inner, path + "inner.", x);
                    return new OnnxValue(g.Node("Add", Hint(path, "add"), [x.Name, inner.Name]), x.Example + inner.Example);
                }
            case Dropout or Identity:
                return x;
            case IOnnxExportable custom:
                return custom.ExportOnnx(new OnnxExportContext(g, path), x);
        }
        if (x.Example.DType == DType.Int64 && m is not Embedding)
            throw Unsupported(path, m, $"its input is Int64 {x.Example.Shape} (an Int64 graph input holds token indices, which only an Embedding takes; the exported dtypes are Float32 and Float64)");
        Tensor y = m.Call(x.Example);
        string hint = Hint(path, m.GetType().Name.ToLowerInvariant());
        string name = m switch
        {
            Linear l => Linear(g, path, x, l.Weight, l.Bias, hint),
            LinearRelu lr => g.Node("Relu", hint, [Linear(g, path, x, lr.Weight, lr.Bias, hint + "_linear")]),
            Conv2d c => Conv(g, path, c, c.Weight, c.Bias, x.Name, hint),
            Conv1d c => Conv1d(g, path, c, x.Name, hint),
            ConvTranspose2d c => ConvTranspose(g, path, c, x.Name, hint),
            Conv2dReluMaxPool2d f => g.Node("MaxPool", hint, [g.Node("Relu", hint + "_relu", [Conv(g, path, f.Conv, f.Weight, f.Bias, x.Name, hint + "_conv")])],
                                            Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
            MaxPool2d p => g.Node("MaxPool", hint, [x.Name], Ints("kernel_shape", p.KernelSize.H, p.KernelSize.W), Ints("strides", p.Stride.H, p.Stride.W),
                                  Ints("pads", p.Padding.H, p.Padding.W, p.Padding.H, p.Padding.W), Ints("dilations", p.Dilation.H, p.Dilation.W), Int("ceil_mode", p.CeilMode ? 1 : 0)),
            AvgPool2d p => g.Node("AveragePool", hint, [x.Name], Ints("kernel_shape", p.KernelSize.H, p.KernelSize.W), Ints("strides", p.Stride.H, p.Stride.W),
                                  Ints("pads", p.Padding.H, p.Padding.W, p.Padding.H, p.Padding.W), Int("ceil_mode", p.CeilMode ? 1 : 0), Int("count_include_pad", p.CountIncludePad ? 1 : 0)),
            BatchNorm b => BatchNorm(g, path, b, x.Name, hint),
            LayerNorm ln => LayerNorm(g, path, ln, x, hint),
            GroupNorm gn => GroupNorm(g, path, gn, x, hint),
            RmsNorm rn => RmsNorm(g, path, rn, x, hint),
            Flatten f => Flatten(g, path, f, x, y, hint),
            Unflatten u => Unflatten(g, path, u, x, y, hint),
            AdaptiveAvgPool2d a => AdaptivePool(g, path, a, "Average", x, y, hint),
            AdaptiveMaxPool2d a => AdaptivePool(g, path, a, "Max", x, y, hint),
            Embedding e => g.Node("Gather", hint, [g.Initializer(path + "weight", e.Weight.Data), x.Name], Int("axis", 0)),
            SinusoidalPositionEmbedding s => SinusoidalPositions(g, path, s, x, hint),
            MultiheadAttention a => Attention(g, path, a, x, x, x, causal: false, hint),
            TransformerBlock b => TransformerBlock(g, path, b, x),
            RecurrentLayer r => Recurrent(g, path, r, x, hint),
            Relu => g.Node("Relu", hint, [x.Name]),
            LeakyRelu lr => g.Node("LeakyRelu", hint, [x.Name], Float("alpha", lr.NegativeSlope)),
            Sigmoid => g.Node("Sigmoid", hint, [x.Name]),
            Tanh => g.Node("Tanh", hint, [x.Name]),
            Silu => g.Node("Mul", hint, [x.Name, g.Node("Sigmoid", hint + "_sigmoid", [x.Name])]),
            Gelu ge => Gelu(g, ge.Approximate, x.Name, hint),
            _ => throw Unsupported(path, m, "no ONNX mapping for this module type (exported: Sequential, Residual, Linear, LinearRelu, Conv1d, Conv2d, ConvTranspose2d, Conv2dReluMaxPool2d, " +
                                          "MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, BatchNorm1d/2d, LayerNorm, GroupNorm, RmsNorm, Dropout, Identity, Flatten, Unflatten, " +
                                          "Relu, LeakyRelu, Sigmoid, Tanh, Silu, Gelu, Embedding, SinusoidalPositionEmbedding, MultiheadAttention, TransformerBlock, Rnn, Lstm, Gru, " +
                                          "and modules implementing IOnnxExportable)"),
        };
        return new OnnxValue(name, y);
    }

    internal static string Hint(string path, string fallback) => path.Length == 0 ? fallback : path.TrimEnd('.').Replace('.', '_');

    private static NotSupportedException Unsupported(string path, Module m, string why) =>
        new($"ONNX export: module '{(path.Length == 0 ? "(root)" : path.TrimEnd('.'))}' ({m.GetType().Name}): {why}");
}
