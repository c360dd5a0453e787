using Backprop.Autograd;
using Backprop.IO.Onnx;
using Backprop.NN;
using Backprop.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Tests.IO.Onnx;

/// <summary>
/// Runs an exported model in ONNX Runtime (software nobody here wrote) and compares its output with the
/// engine's forward in evaluation mode: |onnx − engine| ≤ 1e-5 · max(1, max |engine|) element by element
/// (relative to the output's scale: float32 kernels sum in different orders).
/// </summary>
internal static class OnnxRuntimeCheck
{
    public const double Tolerance = 1e-5;

    /// <summary>
    /// Exports <paramref name="model"/> on <paramref name="example"/>, then checks it on each input. With the
    /// environment variable BACKPROP_ONNX_DUMP_DIR set, each export is also written there (named by the calling
    /// test) for a look by hand; <see cref="OnnxCheckerTests"/> runs onnx.checker on the whole catalogue itself.
    /// </summary>
    public static byte[] ExportAndCompare(Module model, Tensor example, Tensor[] inputs, [System.Runtime.CompilerServices.CallerMemberName] string caller = "")
        => ExportAndCompare(model, example, inputs, [OnnxExport.BatchDimName], caller);

    /// <summary>As above with the input's symbolic dims named (<see cref="OnnxExport.ToBytes(Module, Tensor, IReadOnlyList{string})"/>).</summary>
    public static byte[] ExportAndCompare(Module model, Tensor example, Tensor[] inputs, IReadOnlyList<string?> dimNames, string caller)
    {
        byte[] onnx = OnnxExport.ToBytes(model, example, dimNames);
        if (Environment.GetEnvironmentVariable("BACKPROP_ONNX_DUMP_DIR") is { Length: > 0 } dump)
        {
            Directory.CreateDirectory(dump);
            string path = Path.Combine(dump, caller + ".onnx");
            for (int i = 2; File.Exists(path); i++) path = Path.Combine(dump, $"{caller}-{i}.onnx");
            File.WriteAllBytes(path, onnx);
        }
        using var session = new InferenceSession(onnx);
        // Round trip through the importer when it runs every op of the graph (it has no recurrent ops,
        // ConvTranspose or Pad yet, which the recurrent layers, ConvTranspose2d and attention's add_zero_attn export to).
        OnnxModel? imported = ImporterRunsAll(onnx) ? OnnxImport.Load(onnx) : null;
        foreach (Tensor input in inputs.Length == 0 ? [example] : inputs)
        {
            Compare(session, model, input);
            if (imported is not null) CompareImport(imported, model, input);
        }
        return onnx;
    }

    /// <summary>Whether every node of the exported graph is of an op type <see cref="OnnxImport.SupportedOps"/> lists.</summary>
    public static bool ImporterRunsAll(byte[] onnx)
    {
        var graph = Backprop.IO.Onnx.Proto.ModelProto.Parser.ParseFrom(onnx).Graph;
        var supported = new HashSet<string>(OnnxImport.SupportedOps);
        return graph.Node.All(n => supported.Contains(n.OpType));
    }

    public static void Compare(InferenceSession session, Module model, Tensor input)
    {
        bool training = model.Training;
        model.Eval();
        Tensor expected;
        using (GradMode.Disable()) expected = model.Call(input);
        if (training) model.Train();
        double[] got = Run(session, input, expected.DType, out long[] shape);
        AssertClose(expected, got, shape, OnnxExport.OutputName);
    }

    /// <summary>|got − expected| ≤ <see cref="Tolerance"/> · max(1, max |expected|) element by element, and the same shape.</summary>
    public static void AssertClose(Tensor expected, double[] got, long[] shape, string what)
    {
        double[] want = expected.ToDoubleArray();
        Assert.Equal(expected.Shape.ToArray().Select(d => (long)d), shape);
        double scale = 1;
        foreach (double v in want) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= Tolerance * scale,
                $"element {i} of {what} {expected.Shape}: ONNX Runtime {got[i]:R}, engine {want[i]:R}, scale {scale}");
    }

    /// <summary>
    /// The round trip: the exported graph imported back (<see cref="OnnxImport"/>) reproduces the engine's forward
    /// to the same tolerance, and its state dict has the exporter's initializer names.
    /// </summary>
    public static void CompareImport(OnnxModel imported, Module model, Tensor input)
    {
        bool training = model.Training;
        model.Eval();
        Tensor expected, got;
        using (GradMode.Disable())
        {
            expected = model.Call(input);
            got = imported.Call(input);
        }
        if (training) model.Train();
        Assert.Equal(expected.Shape, got.Shape);
        Assert.Equal(expected.DType, got.DType);
        double[] want = expected.ToDoubleArray(), have = got.ToDoubleArray();
        double scale = 1;
        foreach (double v in want) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(have[i] - want[i]) <= Tolerance * scale,
                $"element {i} of output {expected.Shape}: imported {have[i]:R}, engine {want[i]:R}, scale {scale}");
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (name, value) in imported.StateDict())
            if (state.TryGetValue(name, out Tensor? original))
                Assert.Equal(original.ToDoubleArray(), value.ToDoubleArray());
    }

    /// <summary>Runs a graph with several named inputs (float32, int64 or bool tensors); returns every float32 output by name, widened to double, with its shape.</summary>
    public static Dictionary<string, (double[] Values, long[] Shape)> RunAll(InferenceSession session, params (string Name, Tensor Value)[] inputs)
    {
        var values = new List<OrtValue>();
        try
        {
            foreach (var (_, t) in inputs)
            {
                long[] dims = t.Shape.ToArray().Select(d => (long)d).ToArray();
                values.Add(t.DType switch
                {
                    DType.Int64 => OrtValue.CreateTensorValueFromMemory(t.ToArray<long>(), dims),
                    DType.Bool => OrtValue.CreateTensorValueFromMemory(t.ToArray<bool>(), dims),
                    _ => OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), dims),
                });
            }
            string[] outputs = session.OutputMetadata.Keys.ToArray();
            using var options = new RunOptions();
            using var results = session.Run(options, inputs.Select(i => i.Name).ToArray(), values, outputs);
            var all = new Dictionary<string, (double[], long[])>();
            for (int i = 0; i < outputs.Length; i++)
                all[outputs[i]] = (Array.ConvertAll(results[i].GetTensorDataAsSpan<float>().ToArray(), v => (double)v), results[i].GetTensorTypeAndShape().Shape);
            return all;
        }
        finally
        {
            foreach (OrtValue v in values) v.Dispose();
        }
    }

    /// <summary>The graph output (of type <paramref name="outputType"/>, float32 or float64) for <paramref name="input"/> (float32, float64 or int64), widened to double.</summary>
    public static double[] Run(InferenceSession session, Tensor input, DType outputType, out long[] shape)
    {
        long[] dims = input.Shape.ToArray().Select(d => (long)d).ToArray();
        using OrtValue value = input.DType switch
        {
            DType.Float64 => OrtValue.CreateTensorValueFromMemory(input.ToArray<double>(), dims),
            DType.Int64 => OrtValue.CreateTensorValueFromMemory(input.ToArray<long>(), dims),
            _ => OrtValue.CreateTensorValueFromMemory(input.ToArray<float>(), dims),
        };
        using var options = new RunOptions();
        using var results = session.Run(options, [OnnxExport.InputName], [value], [OnnxExport.OutputName]);
        OrtValue output = results[0];
        shape = output.GetTensorTypeAndShape().Shape;
        return outputType == DType.Float64
            ? output.GetTensorDataAsSpan<double>().ToArray()
            : Array.ConvertAll(output.GetTensorDataAsSpan<float>().ToArray(), v => (double)v);
    }
}
