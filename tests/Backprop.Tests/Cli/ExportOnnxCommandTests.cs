using Backprop.Cli.Recipes;
using Backprop.IO;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.IO.Onnx;
using Microsoft.ML.OnnxRuntime;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>`backprop export --onnx`: the checkpoint's model, rebuilt and loaded, runs in ONNX Runtime with the engine's outputs.</summary>
public class ExportOnnxCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("export-onnx").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteCheckpoint(string name, Module model)
    {
        string path = Path.Combine(_dir, $"{name}.ckpt");
        var tensors = model.StateDict().Select(kv => new KeyValuePair<string, Tensor>("model." + kv.Key, kv.Value)).ToList();
        new Checkpoint(tensors, new Dictionary<string, string> { ["model"] = name, ["epoch"] = "1" }).Save(path);
        return path;
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void Export_Onnx_WritesTheCheckpointsModelAndOnnxRuntimeReproducesIt(string name)
    {
        Module model = Models.Create(name, new Generator(11));
        string output = Path.Combine(_dir, "out", name + ".onnx");
        var (code, stdout, err) = Run("export", "--checkpoint", WriteCheckpoint(name, model), "--onnx", output);
        Assert.True(code == 0, err);
        Assert.Contains("opset 17", stdout);
        using var session = new InferenceSession(output);
        OnnxRuntimeCheck.Compare(session, model, Tensor.Randn(Models.InputShape(name, 3), DType.Float32, new Generator(12)));
    }

    [Fact]
    public void Export_Onnx_OfAModelItDoesNotCover_IsAShortErrorNamingIt()
    {
        string output = Path.Combine(_dir, "resnet.onnx");
        var (code, _, err) = Run("export", "--checkpoint", WriteCheckpoint("resnet", Models.Mlp()), "--onnx", output);
        Assert.Equal(1, code);
        AssertShortError(err, 1, "'resnet' model");
        Assert.False(File.Exists(output));
    }
}

/// <summary>
/// `backprop export --onnx` of the text models: a gpt and an lstm trained for a few steps (<see cref="TinyTextModels"/>) are
/// exported, and ONNX Runtime's logits match the checkpoint's model at other batch sizes and sequence lengths.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class ExportOnnxTextCommandTests(TinyTextModels models) : IClassFixture<TinyTextModels>
{
    [Theory]
    [InlineData("gpt")]
    [InlineData("lstm")]
    public void Export_Onnx_OfATextCheckpoint_GivesTheModelsLogitsForAnyBatchAndLength(string kind)
    {
        string checkpoint = kind == "gpt" ? models.Gpt : models.Lstm;
        string output = Path.Combine(models.Dir, kind + "-export", kind + ".onnx");
        var (code, stdout, err) = Run("export", "--checkpoint", checkpoint, "--onnx", output);
        Assert.True(code == 0, err);
        Assert.Contains("input int64 bytes [batch, sequence", stdout);
        Checkpoint c = Checkpoint.Load(checkpoint);
        Module model = TextModelConfig.FromMetadata(c.Metadata, checkpoint).Create(null);
        model.LoadStateDict(c.WithPrefix("model."));
        using var session = new InferenceSession(output);
        foreach (var (batch, length) in new[] { (3, 16), (1, 1), (2, 5) })
            OnnxRuntimeCheck.Compare(session, model, Tensor.RandInt(new Shape(batch, length), 0, 256, new Generator((ulong)(batch * 100 + length))));
    }
}
