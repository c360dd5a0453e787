using Backprop.IO;
using Backprop.IO.Safetensors;
using Backprop.Tensors;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>`backprop export --safetensors`: a checkpoint's "model.*" tensors become the file's tensors under their state-dict names, with the checkpoint's metadata.</summary>
public class ExportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("export").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteCheckpoint(bool withModel = true)
    {
        string path = Path.Combine(_dir, "epoch-1.ckpt");
        var tensors = new List<KeyValuePair<string, Tensor>> { new("optimizer.0.exp_avg", Tensor.Ones([2, 3])) };
        if (withModel)
        {
            tensors.Add(new("model.0.weight", Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], [2, 3])));
            tensors.Add(new("model.0.bias", Tensor.FromArray([0.5f, -0.5f], [2])));
        }
        new Checkpoint(tensors, new Dictionary<string, string> { ["model"] = "mlp", ["epoch"] = "1" }).Save(path);
        return path;
    }

    [Fact]
    public void Export_WritesTheModelWeightsUnderTheirStateDictNames()
    {
        string output = Path.Combine(_dir, "out", "model.safetensors");
        var (code, stdout, err) = Run("export", "--checkpoint", WriteCheckpoint(), "--safetensors", output);
        Assert.True(code == 0, err);
        Assert.Contains("2 tensors", stdout);
        SafetensorsData data = SafetensorsFile.Load(output);
        Assert.Equal(["0.weight", "0.bias"], data.Tensors.Select(t => t.Key).Order().Reverse());
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], data.Get("0.weight").ToArray<float>());
        Assert.Equal("mlp", data.Metadata["model"]);
        Assert.Equal("pt", data.Metadata["format"]);
    }

    [Fact]
    public void Export_WithoutATarget_OrWithoutModelWeights_IsAShortError()
    {
        var (code, _, err) = Run("export", "--checkpoint", WriteCheckpoint());
        Assert.Equal(1, code);
        AssertShortError(err, 1, "--safetensors");

        string output = Path.Combine(_dir, "x.safetensors");
        (code, _, err) = Run("export", "--checkpoint", WriteCheckpoint(withModel: false), "--safetensors", output);
        Assert.Equal(1, code);
        AssertShortError(err, 1, "no model weights");
        Assert.False(File.Exists(output));

        (code, _, err) = Run("export", "--checkpoint", Path.Combine(_dir, "missing.ckpt"), "--safetensors", output);
        Assert.Equal(1, code);
        AssertShortError(err, 1, "missing.ckpt");
    }
}
