using Backprop.Autograd;
using Backprop.IO.Onnx;
using Backprop.IO.Onnx.Import;
using Backprop.IO.Onnx.Proto;
using Backprop.Tensors;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using AttrType = Backprop.IO.Onnx.Proto.AttributeProto.Types.AttributeType;
using DataType = Backprop.IO.Onnx.Proto.TensorProto.Types.DataType;

namespace Backprop.Tests.IO.Onnx;

/// <summary>
/// The ONNX node tests (Debian's libonnx-testdata 1.12: data/node/*/model.onnx with test_data_set_*/input_N.pb and
/// output_N.pb TensorProtos) run through the importer and through ONNX Runtime. A test is claimed when the rules in
/// <see cref="Claimed"/> hold (ops the importer runs, dtypes the engine has, settings the importer does not refuse);
/// outputs are compared with ONNX's tolerance, |got − want| ≤ 1e-7 + 1e-3·|want| for floats, exactly otherwise.
/// </summary>
internal static class OnnxConformance
{
    public const string NodeTests = "/usr/share/libonnx-testdata/data/node";

    public sealed record Result(string Name, bool Claimed, string? Ours, string? Ort);

    private static readonly HashSet<int> EngineTypes = [(int)DataType.Float, (int)DataType.Double, (int)DataType.Int64, (int)DataType.Bool];

    private static readonly HashSet<string> Spatial = ["Conv", "MaxPool", "AveragePool"];

    /// <summary>Why the importer does not claim <paramref name="model"/>, or null when it does.</summary>
    public static string? Claimed(ModelProto model)
    {
        GraphProto g = model.Graph;
        // Every graph input and output a tensor of a dtype the engine has (smaller integers would come back as int64).
        foreach (ValueInfoProto v in g.Input.Concat(g.Output))
            if (v.Type?.TensorType is not { } t || !EngineTypes.Contains(t.ElemType))
                return $"'{v.Name}' is not a tensor of float, double, int64 or bool";
        var inputRank = g.Input.ToDictionary(v => v.Name, v => v.Type.TensorType.Shape?.Dim.Count ?? -1);
        foreach (NodeProto n in g.Node)
        {
            if (n.Domain is not ("" or "ai.onnx") || !OnnxImport.SupportedOps.Contains(n.OpType)) return $"op {n.Domain}:{n.OpType}";
            if (n.Attribute.Any(a => a.Type is AttrType.Graph or AttrType.Graphs)) return "a subgraph";
            // Only 1-D and 2-D convolution and pooling (the engine's).
            if (Spatial.Contains(n.OpType) && inputRank.TryGetValue(n.Input[0], out int rank) && rank is not (3 or 4)) return $"{n.OpType} on rank {rank}";
            // MaxPool's argmax output, batch norm's training mode and dropout in training mode (random masks) are refused.
            if (n.OpType == "MaxPool" && n.Output.Count > 1 && n.Output[1].Length > 0) return "MaxPool indices";
            if (n.OpType == "BatchNormalization" && n.Attribute.Any(a => a.Name == "training_mode" && a.I != 0)) return "batch norm training mode";
            if (n.OpType == "Dropout" && n.Input.Count > 2 && n.Input[2].Length > 0) return "dropout training_mode input";
            // Casts to types the engine has not (float16, strings, …).
            if (n.OpType == "Cast" && n.Attribute.Any(a => a.Name == "to" && !EngineTypes.Contains((int)a.I))) return "cast to a type the engine has not";
        }
        return null;
    }

    /// <summary>The rule that leaves the node test <paramref name="name"/> unclaimed, or null.</summary>
    public static string? Why(string name) => Claimed(ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(NodeTests, name, "model.onnx"))));

    public static List<Result> RunAll()
    {
        var results = new List<Result>();
        foreach (string dir in Directory.GetDirectories(NodeTests).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir);
            byte[] bytes = File.ReadAllBytes(Path.Combine(dir, "model.onnx"));
            ModelProto model = ModelProto.Parser.ParseFrom(bytes);
            if (Claimed(model) is not null)
            {
                results.Add(new Result(name, false, null, null));
                continue;
            }
            var sets = Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal)
                .Select(s => (Inputs: Read(s, "input", model.Graph.Input.Count), Outputs: Read(s, "output", model.Graph.Output.Count))).ToList();
            string? ours = Ours(bytes, name, sets), ort = Ort(bytes, model, sets);
            results.Add(new Result(name, true, ours, ort));
        }
        return results;
    }

    private static Tensor[] Read(string set, string kind, int count) =>
        [.. Enumerable.Range(0, count).Select(i => OnnxImportTests.ReadTensor(Path.Combine(set, $"{kind}_{i}.pb")))];

    /// <summary>Null when the importer reproduces every output of every data set, else what went wrong.</summary>
    private static string? Ours(byte[] bytes, string name, List<(Tensor[] Inputs, Tensor[] Outputs)> sets)
    {
        try
        {
            OnnxModel model = OnnxImport.Load(bytes, name);
            foreach (var (inputs, outputs) in sets)
            {
                Tensor[] got;
                using (GradMode.Disable()) got = model.Run(inputs);
                for (int i = 0; i < outputs.Length; i++)
                    if (Compare(outputs[i], got[i]) is { } why) return $"output {i}: {why}";
            }
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private static string? Ort(byte[] bytes, ModelProto model, List<(Tensor[] Inputs, Tensor[] Outputs)> sets)
    {
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            using var session = new InferenceSession(bytes, options);
            string[] inputNames = [.. model.Graph.Input.Select(v => v.Name)], outputNames = [.. model.Graph.Output.Select(v => v.Name)];
            foreach (var (inputs, outputs) in sets)
            {
                var values = inputs.Select(ToOrt).ToArray();
                try
                {
                    using var run = new RunOptions();
                    using var results = session.Run(run, inputNames, values, outputNames);
                    for (int i = 0; i < outputs.Length; i++)
                        if (Compare(outputs[i], FromOrt(results[i])) is { } why) return $"output {i}: {why}";
                }
                finally
                {
                    foreach (OrtValue v in values) v.Dispose();
                }
            }
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private static OrtValue ToOrt(Tensor t)
    {
        long[] dims = [.. t.Shape.ToArray().Select(d => (long)d)];
        return t.DType switch
        {
            DType.Float32 => OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), dims),
            DType.Float64 => OrtValue.CreateTensorValueFromMemory(t.ToArray<double>(), dims),
            DType.Int64 => OrtValue.CreateTensorValueFromMemory(t.ToArray<long>(), dims),
            _ => OrtValue.CreateTensorValueFromMemory(t.ToArray<bool>(), dims),
        };
    }

    private static Tensor FromOrt(OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        var shape = new Shape([.. info.Shape.Select(d => (int)d)]);
        return info.ElementDataType switch
        {
            TensorElementType.Float => Tensor.FromArray(v.GetTensorDataAsSpan<float>().ToArray(), shape),
            TensorElementType.Double => Tensor.FromArray(v.GetTensorDataAsSpan<double>().ToArray(), shape),
            TensorElementType.Int64 => Tensor.FromArray(v.GetTensorDataAsSpan<long>().ToArray(), shape),
            TensorElementType.Bool => Tensor.FromArray(v.GetTensorDataAsSpan<bool>().ToArray(), shape),
            var other => throw new NotSupportedException($"ORT output of type {other}"),
        };
    }

    /// <summary>Null when <paramref name="got"/> matches <paramref name="want"/> in dtype, shape and values (ONNX's rtol 1e-3, atol 1e-7).</summary>
    public static string? Compare(Tensor want, Tensor got)
    {
        if (want.DType != got.DType) return $"dtype {got.DType.Name()}, expected {want.DType.Name()}";
        if (want.Shape != got.Shape) return $"shape {got.Shape}, expected {want.Shape}";
        double[] w = want.ToDoubleArray(), h = got.Contiguous().ToDoubleArray();
        bool exact = !want.DType.IsFloatingPoint();
        for (int i = 0; i < w.Length; i++)
        {
            bool ok = exact ? w[i] == h[i] : double.IsNaN(w[i]) ? double.IsNaN(h[i]) : w[i] == h[i] || Math.Abs(h[i] - w[i]) <= 1e-7 + 1e-3 * Math.Abs(w[i]);
            if (!ok) return $"element {i} is {h[i]:R}, expected {w[i]:R} (shape {want.Shape})";
        }
        return null;
    }
}
