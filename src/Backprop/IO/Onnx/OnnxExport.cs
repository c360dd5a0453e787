using Backprop.Autograd;
using Backprop.IO.Onnx.Proto;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Conv;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;
using Google.Protobuf;
using static Backprop.IO.Onnx.OnnxGraphBuilder;

namespace Backprop.IO.Onnx;

/// <summary>
/// Exports a model to ONNX (IR version 8, opset 17) for inference in ONNX Runtime or any other ONNX
/// runtime: the model is walked module by module on an example input, each known layer becomes its
/// standard ONNX ops (a fused layer its separate ops, dropout nothing), parameters and running
/// statistics become initializers (raw little-endian data, named as in the state dict), and the first
/// dim of the input and output is a symbolic batch dim.
/// </summary>
/// <remarks>
/// Exported: <see cref="Sequential"/>, <see cref="Residual"/>, <see cref="Linear"/>, <see cref="LinearRelu"/>,
/// <see cref="Conv2d"/> (zero padding), <see cref="Conv2dReluMaxPool2d"/>, <see cref="MaxPool2d"/>,
/// <see cref="AvgPool2d"/>, <see cref="AdaptiveAvgPool2d"/> and <see cref="AdaptiveMaxPool2d"/> (to 1×1, or sides that divide the input's),
/// <see cref="Unflatten"/>, <see cref="BatchNorm1d"/>/<see cref="BatchNorm2d"/> (running statistics),
/// <see cref="LayerNorm"/>, <see cref="Dropout"/> and <see cref="Identity"/> (removed), <see cref="Flatten"/>,
/// <see cref="Relu"/>, <see cref="LeakyRelu"/>, <see cref="Sigmoid"/>, <see cref="Tanh"/>, <see cref="Silu"/>
/// and <see cref="Gelu"/> (opset 17 has no Gelu op: Erf or Tanh and arithmetic). Any other module is
/// an error that names it. The export runs the model in evaluation mode and restores its mode after.
/// </remarks>
public static class OnnxExport
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

    /// <summary>Exports <paramref name="model"/> traced on <paramref name="exampleInput"/> as a serialized ONNX ModelProto.</summary>
    /// <param name="model">The model; its parameters must have the input's dtype.</param>
    /// <param name="exampleInput">An input of the shape the model takes (any batch size; its values do not matter), Float32 or Float64.</param>
    /// <param name="dynamicBatch">When true (the default) dim 0 of the input and output is the symbolic dim "batch"; otherwise every dim is fixed.</param>
    /// <exception cref="NotSupportedException">A module (named by its path and type) or a configuration has no ONNX mapping, or the dtype is not a float type.</exception>
    public static byte[] ToBytes(Module model, Tensor exampleInput, bool dynamicBatch = true) => Build(model, exampleInput, dynamicBatch).ToByteArray();

    /// <summary>Writes <see cref="ToBytes"/> to <paramref name="path"/> (atomically: a temporary file renamed over it).</summary>
    /// <exception cref="NotSupportedException">As <see cref="ToBytes"/>.</exception>
    public static void Save(Module model, Tensor exampleInput, string path, bool dynamicBatch = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = ToBytes(model, exampleInput, dynamicBatch);
        // A serialized ModelProto starts with field 1 (ir_version, varint): 0x08, then 8.
        AtomicFile.Write(path, "ONNX export", stream => stream.Write(bytes), head => head.Length >= 2 && head[0] == 0x08 && head[1] == IrVersion);
    }

    internal static ModelProto Build(Module model, Tensor exampleInput, bool dynamicBatch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(exampleInput);
        if (exampleInput.Rank == 0) throw new ArgumentException("ONNX export: the example input must have at least one dim (the batch)");
        var builder = new OnnxGraphBuilder(exampleInput.DType, model.GetType().Name);
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using var noGrad = GradMode.Disable();
            string inputName = builder.Fresh(InputName);
            var output = Emit(builder, model, "", new Value(inputName, exampleInput));
            string outputName;
            if (builder.Graph.Node.Count > 0 && builder.Graph.Node[^1].Output[0] == output.Name)
                builder.Graph.Node[^1].Output[0] = outputName = builder.Fresh(OutputName); // the last node writes the graph output
            else
                outputName = builder.Node("Identity", OutputName, [output.Name]); // the model returns its input (or only removed layers)
            string? batch = dynamicBatch ? BatchDimName : null;
            builder.Graph.Input.Add(builder.ValueInfo(inputName, exampleInput.Shape, batch));
            builder.Graph.Output.Add(builder.ValueInfo(outputName, output.Example.Shape, output.Example.Rank > 0 ? batch : null));
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

    /// <summary>A graph value: its name and its value on the example input (for shapes).</summary>
    private readonly record struct Value(string Name, Tensor Example);

    private static Value Emit(OnnxGraphBuilder g, Module m, string path, Value x)
    {
        switch (m)
        {
            case Sequential seq:
                for (int i = 0; i < seq.Count; i++) x = Emit(g, seq[i], path + seq.Names[i] + ".", x);
                return x;
            case Residual res:
                {
                    Value inner = Emit(g, res.Inner, path + "inner.", x);
                    return new Value(g.Node("Add", Hint(path, "add"), [x.Name, inner.Name]), x.Example + inner.Example);
                }
            case Dropout or Identity:
                return x;
        }
        Tensor y = m.Call(x.Example);
        string hint = Hint(path, m.GetType().Name.ToLowerInvariant());
        string name = m switch
        {
            Linear l => Linear(g, path, x, l.Weight, l.Bias, hint),
            LinearRelu lr => g.Node("Relu", hint, [Linear(g, path, x, lr.Weight, lr.Bias, hint + "_linear")]),
            Conv2d c => Conv(g, path, c, c.Weight, c.Bias, x.Name, hint),
            Conv2dReluMaxPool2d f => g.Node("MaxPool", hint, [g.Node("Relu", hint + "_relu", [Conv(g, path, f.Conv, f.Weight, f.Bias, x.Name, hint + "_conv")])],
                                            Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
            MaxPool2d p => g.Node("MaxPool", hint, [x.Name], Ints("kernel_shape", p.KernelSize.H, p.KernelSize.W), Ints("strides", p.Stride.H, p.Stride.W),
                                  Ints("pads", p.Padding.H, p.Padding.W, p.Padding.H, p.Padding.W), Ints("dilations", p.Dilation.H, p.Dilation.W), Int("ceil_mode", p.CeilMode ? 1 : 0)),
            AvgPool2d p => g.Node("AveragePool", hint, [x.Name], Ints("kernel_shape", p.KernelSize.H, p.KernelSize.W), Ints("strides", p.Stride.H, p.Stride.W),
                                  Ints("pads", p.Padding.H, p.Padding.W, p.Padding.H, p.Padding.W), Int("ceil_mode", p.CeilMode ? 1 : 0), Int("count_include_pad", p.CountIncludePad ? 1 : 0)),
            BatchNorm b => BatchNorm(g, path, b, x.Name, hint),
            LayerNorm ln => LayerNorm(g, path, ln, x, hint),
            Flatten f => Flatten(g, path, f, x, y, hint),
            Unflatten u => Unflatten(g, path, u, x, y, hint),
            AdaptiveAvgPool2d a => AdaptivePool(g, path, a, "Average", x, y, hint),
            AdaptiveMaxPool2d a => AdaptivePool(g, path, a, "Max", x, y, hint),
            Relu => g.Node("Relu", hint, [x.Name]),
            LeakyRelu lr => g.Node("LeakyRelu", hint, [x.Name], Float("alpha", lr.NegativeSlope)),
            Sigmoid => g.Node("Sigmoid", hint, [x.Name]),
            Tanh => g.Node("Tanh", hint, [x.Name]),
            Silu => g.Node("Mul", hint, [x.Name, g.Node("Sigmoid", hint + "_sigmoid", [x.Name])]),
            Gelu ge => Gelu(g, ge.Approximate, x.Name, hint),
            _ => throw Unsupported(path, m, "no ONNX mapping for this module type (exported: Sequential, Residual, Linear, LinearRelu, Conv2d, Conv2dReluMaxPool2d, " +
                                          "MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, BatchNorm1d/2d, LayerNorm, Dropout, Identity, Flatten, Unflatten, Relu, LeakyRelu, Sigmoid, Tanh, Silu, Gelu)"),
        };
        return new Value(name, y);
    }

    private static string Hint(string path, string fallback) => path.Length == 0 ? fallback : path.TrimEnd('.').Replace('.', '_');

    private static NotSupportedException Unsupported(string path, Module m, string why) =>
        new($"ONNX export: module '{(path.Length == 0 ? "(root)" : path.TrimEnd('.'))}' ({m.GetType().Name}): {why}");

    // y = x·Wᵀ + b: Gemm for a matrix input, MatMul with the transposed weight then Add otherwise (Gemm takes only 2-D).
    private static string Linear(OnnxGraphBuilder g, string path, Value x, Parameter weight, Parameter? bias, string hint)
    {
        if (x.Example.Rank == 2)
        {
            string w = g.Initializer(path + "weight", weight.Data);
            return bias is null
                ? g.Node("Gemm", hint, [x.Name, w], Int("transB", 1))
                : g.Node("Gemm", hint, [x.Name, w, g.Initializer(path + "bias", bias.Data)], Int("transB", 1));
        }
        string wt = g.Initializer(path + "weight_t", weight.Data.Transpose(0, 1).Contiguous());
        string mm = g.Node("MatMul", bias is null ? hint : hint + "_matmul", [x.Name, wt]);
        return bias is null ? mm : g.Node("Add", hint, [mm, g.Initializer(path + "bias", bias.Data)]);
    }

    private static string Conv(OnnxGraphBuilder g, string path, Conv2d c, Parameter weight, Parameter? bias, string input, string hint)
    {
        if (c.PaddingMode != PaddingMode.Zeros)
            throw Unsupported(path, c, $"padding mode {c.PaddingMode} is not exported (only zero padding)");
        IntPair k = c.KernelSize, s = c.Stride, d = c.Dilation;
        long top, left, bottom, right;
        if (c.Padding.IsSame)
        {
            // PyTorch's "same": total dilation·(k − 1) per dim, the odd one extra on the bottom/right.
            long th = (long)d.H * (k.H - 1), tw = (long)d.W * (k.W - 1);
            (top, bottom, left, right) = (th / 2, th - th / 2, tw / 2, tw - tw / 2);
        }
        else (top, bottom, left, right) = (c.Padding.Size.H, c.Padding.Size.H, c.Padding.Size.W, c.Padding.Size.W);
        string w = g.Initializer(path + "weight", weight.Data);
        string[] inputs = bias is null ? [input, w] : [input, w, g.Initializer(path + "bias", bias.Data)];
        return g.Node("Conv", hint, inputs, Ints("kernel_shape", k.H, k.W), Ints("strides", s.H, s.W), Ints("pads", top, left, bottom, right),
                      Ints("dilations", d.H, d.W), Int("group", c.Groups));
    }

    private static string BatchNorm(OnnxGraphBuilder g, string path, BatchNorm b, string input, string hint)
    {
        if (b.RunningMean is null || b.RunningVar is null)
            throw Unsupported(path, b, "no running statistics (trackRunningStats: false normalises with batch statistics in evaluation too), which ONNX inference has no op for");
        int c = b.NumFeatures;
        string scale = b.Weight is null ? g.Initializer(path + "weight", Tensor.Ones([c], g.DType)) : g.Initializer(path + "weight", b.Weight.Data);
        string shift = b.Bias is null ? g.Initializer(path + "bias", Tensor.Zeros([c], g.DType)) : g.Initializer(path + "bias", b.Bias.Data);
        return g.Node("BatchNormalization", hint, [input, scale, shift, g.Initializer(path + "running_mean", b.RunningMean), g.Initializer(path + "running_var", b.RunningVar)],
                      Float("epsilon", b.Eps));
    }

    private static string LayerNorm(OnnxGraphBuilder g, string path, LayerNorm ln, Value x, string hint)
    {
        ReadOnlySpan<int> shape = ln.NormalizedShape;
        string scale = ln.Weight is null ? g.Initializer(path + "weight", Tensor.Ones(shape.ToArray(), g.DType)) : g.Initializer(path + "weight", ln.Weight.Data);
        string[] inputs = ln.Bias is null ? [x.Name, scale] : [x.Name, scale, g.Initializer(path + "bias", ln.Bias.Data)];
        return g.Node("LayerNormalization", hint, inputs, Int("axis", -shape.Length), Float("epsilon", ln.Eps));
    }

    private static string Flatten(OnnxGraphBuilder g, string path, Flatten f, Value x, Tensor y, string hint)
    {
        int rank = x.Example.Rank;
        int start = f.StartDim < 0 ? f.StartDim + rank : f.StartDim, end = f.EndDim < 0 ? f.EndDim + rank : f.EndDim;
        // ONNX Flatten always gives a matrix [d0·…·d(axis−1), rest]: PyTorch's only for start 1 to the last dim.
        if (start == 1 && end == rank - 1) return g.Node("Flatten", hint, [x.Name], Int("axis", 1));
        if (start == 0) throw Unsupported(path, f, $"flattening dims 0..{end} of a rank-{rank} input merges the batch dim with others, which a graph with a batch dim cannot describe");
        // Reshape: dims before start copied (0), the merged run -1, the dims after end as they are.
        var dims = new long[y.Rank];
        for (int i = 0; i < start; i++) dims[i] = 0;
        dims[start] = -1;
        for (int i = start + 1; i < y.Rank; i++) dims[i] = y.Shape[i];
        return g.Node("Reshape", hint, [x.Name, g.Int64Initializer(path.Replace('.', '_') + "shape", dims)]);
    }

    private static string Unflatten(OnnxGraphBuilder g, string path, Unflatten u, Value x, Tensor y, string hint)
    {
        int d = u.Dim < 0 ? u.Dim + x.Example.Rank : u.Dim;
        if (d == 0) throw Unsupported(path, u, "splitting dim 0 splits the batch dim, which a graph with a batch dim cannot describe");
        // Reshape: dims before d copied (0), then the output's own dims (static from the example).
        var dims = new long[y.Rank];
        for (int i = d; i < y.Rank; i++) dims[i] = y.Shape[i];
        return g.Node("Reshape", hint, [x.Name, g.Int64Initializer(path.Replace('.', '_') + "shape", dims)]);
    }

    // Adaptive pooling to 1×1 is global pooling; where each input side is a multiple of the output's, PyTorch's
    // windows are uniform (kernel = stride = in/out) and plain pooling computes them exactly.
    private static string AdaptivePool(OnnxGraphBuilder g, string path, Module m, string kind, Value x, Tensor y, string hint)
    {
        if (x.Example.Rank != 4) throw Unsupported(path, m, $"input {x.Example.Shape} is not batched [N, C, H, W]");
        int ih = x.Example.Shape[2], iw = x.Example.Shape[3], oh = y.Shape[2], ow = y.Shape[3];
        if (oh == 1 && ow == 1) return g.Node($"Global{kind}Pool", hint, [x.Name]);
        if (ih % oh != 0 || iw % ow != 0)
            throw Unsupported(path, m, $"output {oh}×{ow} from input {ih}×{iw} has windows of different sizes, which no ONNX pooling op computes (exported: 1×1, or sides that divide the input's)");
        return g.Node(kind == "Max" ? "MaxPool" : "AveragePool", hint, [x.Name], Ints("kernel_shape", ih / oh, iw / ow), Ints("strides", ih / oh, iw / ow));
    }

    // Opset 17 has no Gelu (it came in opset 20): exact ½·x·(1 + erf(x/√2)), or ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    private static string Gelu(OnnxGraphBuilder g, GeluApproximation approximate, string x, string hint)
    {
        string inner;
        if (approximate == GeluApproximation.None)
        {
            inner = g.Node("Erf", hint + "_erf", [g.Node("Mul", hint + "_scaled", [x, g.Scalar(hint + "_inv_sqrt2", 1 / Math.Sqrt(2))])]);
        }
        else
        {
            string cube = g.Node("Mul", hint + "_cube", [x, g.Node("Mul", hint + "_square", [x, x])]);
            string poly = g.Node("Add", hint + "_poly", [x, g.Node("Mul", hint + "_cubic", [cube, g.Scalar(hint + "_c", 0.044715)])]);
            inner = g.Node("Tanh", hint + "_tanh", [g.Node("Mul", hint + "_arg", [poly, g.Scalar(hint + "_sqrt_2_over_pi", Math.Sqrt(2 / Math.PI))])]);
        }
        string onePlus = g.Node("Add", hint + "_one_plus", [inner, g.Scalar(hint + "_one", 1)]);
        string half = g.Node("Mul", hint + "_half_x", [x, g.Scalar(hint + "_half", 0.5)]);
        return g.Node("Mul", hint, [half, onePlus]);
    }
}
