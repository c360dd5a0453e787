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
    /// test) for checking by hand with Debian's onnx.checker (python3-onnx); tests never call Python themselves.
    /// </summary>
    public static byte[] ExportAndCompare(Module model, Tensor example, Tensor[] inputs, [System.Runtime.CompilerServices.CallerMemberName] string caller = "")
    {
        byte[] onnx = OnnxExport.ToBytes(model, example);
        if (Environment.GetEnvironmentVariable("BACKPROP_ONNX_DUMP_DIR") is { Length: > 0 } dump)
        {
            Directory.CreateDirectory(dump);
            string path = Path.Combine(dump, caller + ".onnx");
            for (int i = 2; File.Exists(path); i++) path = Path.Combine(dump, $"{caller}-{i}.onnx");
            File.WriteAllBytes(path, onnx);
        }
        using var session = new InferenceSession(onnx);
        OnnxModel imported = OnnxImport.Load(onnx);
        foreach (Tensor input in inputs.Length == 0 ? [example] : inputs)
        {
            Compare(session, model, input);
            CompareImport(imported, model, input);
        }
        return onnx;
    }

    public static void Compare(InferenceSession session, Module model, Tensor input)
    {
        bool training = model.Training;
        model.Eval();
        Tensor expected;
        using (GradMode.Disable()) expected = model.Call(input);
        if (training) model.Train();
        double[] want = expected.ToDoubleArray();
        double[] got = Run(session, input, out long[] shape);
        Assert.Equal(expected.Shape.ToArray().Select(d => (long)d), shape);
        double scale = 1;
        foreach (double v in want) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= Tolerance * scale,
                $"element {i} of output {expected.Shape}: ONNX Runtime {got[i]:R}, engine {want[i]:R}, scale {scale}");
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

    /// <summary>The graph output for <paramref name="input"/> (float32 or float64), widened to double.</summary>
    public static double[] Run(InferenceSession session, Tensor input, out long[] shape)
    {
        long[] dims = input.Shape.ToArray().Select(d => (long)d).ToArray();
        using OrtValue value = input.DType == DType.Float64
            ? OrtValue.CreateTensorValueFromMemory(input.ToArray<double>(), dims)
            : OrtValue.CreateTensorValueFromMemory(input.ToArray<float>(), dims);
        using var options = new RunOptions();
        using var results = session.Run(options, [OnnxExport.InputName], [value], [OnnxExport.OutputName]);
        OrtValue output = results[0];
        shape = output.GetTensorTypeAndShape().Shape;
        return input.DType == DType.Float64
            ? output.GetTensorDataAsSpan<double>().ToArray()
            : Array.ConvertAll(output.GetTensorDataAsSpan<float>().ToArray(), v => (double)v);
    }
}
