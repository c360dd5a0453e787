using System.Text.Json;
using Backprop.Cli.Bench;

namespace Backprop.Tests.Cli;

public class BenchRecorderTests
{
    [Fact]
    public void Emit_WritesOneJsonLineWithThePeerFieldsAndTheBuild()
    {
        var output = new StringWriter();
        new BenchRecorder(output, threads: 2).Emit("mlp", "train_samples_per_s", 1234.5, "samples/s", null, ("batch", 128), ("note", "x"));

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        using JsonDocument doc = JsonDocument.Parse(lines[0]);
        JsonElement r = doc.RootElement;
        Assert.Equal("backprop", r.GetProperty("peer").GetString());
        Assert.Equal("mlp", r.GetProperty("workload").GetString());
        Assert.Equal("train_samples_per_s", r.GetProperty("metric").GetString());
        Assert.Equal(1234.5, r.GetProperty("value").GetDouble());
        Assert.Equal("samples/s", r.GetProperty("unit").GetString());
        Assert.Equal(2, r.GetProperty("threads").GetInt32());
        Assert.Equal(128, r.GetProperty("batch").GetInt32());
        Assert.Equal("x", r.GetProperty("note").GetString());
        // The test host runs JIT-compiled code; the NativeAOT CLI says "nativeaot".
        Assert.Equal("jit", r.GetProperty("build").GetString());
        Assert.Equal(Backprop.Kernels.VectorWidth.Name, r.GetProperty("simd").GetString());
        Assert.Contains(r.GetProperty("simd").GetString(), new[] { "512", "256", "128", "scalar" });
    }
}
