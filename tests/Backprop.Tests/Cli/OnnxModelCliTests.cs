using System.Globalization;
using System.Text.Json;
using Backprop.Autograd;
using Backprop.Cli.Recipes;
using Backprop.IO;
using Backprop.IO.Onnx;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Vision;
using SkiaSharp;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>`predict --model FILE.onnx` and `eval --model FILE.onnx`: an imported ONNX model where a checkpoint would go.</summary>
public class OnnxModelCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("onnx-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Save(string name, Module model, Tensor example)
    {
        string path = Path.Combine(_dir, name);
        OnnxExport.Save(model, example, path);
        return path;
    }

    [Fact]
    public void Eval_Model_ScoresAnExportedCnnAsItsCheckpoint()
    {
        Module cnn = Models.Create("cnn", new Generator(21));
        string checkpoint = Path.Combine(_dir, "cnn.ckpt");
        new Checkpoint([.. cnn.StateDict().Select(kv => new KeyValuePair<string, Tensor>("model." + kv.Key, kv.Value))],
                       new Dictionary<string, string> { ["model"] = "cnn", ["epoch"] = "1" }).Save(checkpoint);
        string onnx = Save("cnn.onnx", cnn, Tensor.Zeros([1, 1, 28, 28]));
        var (code, stdout, err) = Run("eval", "--model", onnx, "--data", "fashion-mnist", "--test-limit", "300", "--json");
        Assert.True(code == 0, err);
        var (code2, stdout2, err2) = Run("eval", "--checkpoint", checkpoint, "--test-limit", "300", "--json");
        Assert.True(code2 == 0, err2);
        using JsonDocument a = JsonDocument.Parse(stdout), b = JsonDocument.Parse(stdout2);
        Assert.Equal(b.RootElement.GetProperty("test_accuracy").GetDouble(), a.RootElement.GetProperty("test_accuracy").GetDouble());
        Assert.Equal(b.RootElement.GetProperty("test_loss").GetDouble(), a.RootElement.GetProperty("test_loss").GetDouble(), 1e-5);
        Assert.Equal(300, a.RootElement.GetProperty("examples").GetInt32());
        var (code3, table, _) = Run("eval", "--model", onnx, "--test-limit", "50");
        Assert.Equal(0, code3);
        Assert.Contains("cnn.onnx: ONNX model, on the Fashion-MNIST test set (50 images)", table);
    }

    [Fact]
    public void Predict_Model_ReadsRowsFromAnInlineRowAndACsvFile()
    {
        var model = new Sequential(new Linear(3, 4, generator: new Generator(3)));
        string onnx = Save("rows.onnx", model, Tensor.Zeros([1, 3]));
        string csv = Path.Combine(_dir, "rows.csv");
        File.WriteAllText(csv, "a,b,c\n1,2,3\n-1,0.5,2\n");
        var (code, stdout, err) = Run("predict", "--model", onnx, "1,2,3", csv, "--top", "2");
        Assert.True(code == 0, err);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Tensor p;
        using (GradMode.Disable()) p = model.Call(Tensor.FromArray(new float[] { 1, 2, 3, -1, 0.5f, 2 }, new Shape(2, 3))).Softmax(1);
        int best = (int)p.Select(0, 0).ArgMax().Item();
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"input: class {best} {p[0, best]:P2}, class "), lines[0]);
        Assert.StartsWith("rows.csv row 1: class " + best, lines[1]);
        Assert.StartsWith("rows.csv row 2: class " + (int)p.Select(0, 1).ArgMax().Item(), lines[2]);
    }

    [Fact]
    public void Predict_Model_ReadsImagesAtTheModelsSize()
    {
        var model = new Sequential(new Conv2d(3, 2, 3, generator: new Generator(4)), new Relu(), new Flatten(), new Linear(2 * 6 * 6, 5, generator: new Generator(5)));
        string onnx = Save("image.onnx", model, Tensor.Zeros([1, 3, 8, 8]));
        string png = Path.Combine(_dir, "a.png");
        using (var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        {
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++) bitmap.SetPixel(x, y, new SKColor((byte)(x * 30), (byte)(y * 30), (byte)(x * y), 255));
            using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(png, data.ToArray());
        }
        var (code, stdout, err) = Run("predict", "--model", onnx, png, "--top", "1");
        Assert.True(code == 0, err);
        Tensor p;
        using (GradMode.Disable()) p = model.Call(ImageDecoder.Decode(png).Unsqueeze(0)).Softmax(1);
        int best = (int)p.ArgMax().Item();
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{png}: class {best} {p[0, best]:P2}"), stdout.Trim());
    }

    [Fact]
    public void Errors_AreOneLine()
    {
        string onnx = Save("rows.onnx", new Sequential(new Linear(3, 2)), Tensor.Zeros([1, 3]));
        var (code, _, err) = Run("predict", "--model", onnx, "1,2");
        Assert.Equal(1, code);
        AssertShortError(err, 1, "inline row has 2 values", "takes 3 features");

        (code, _, err) = Run("predict", "--model", onnx, "--checkpoint", onnx, "1,2,3");
        Assert.Equal(2, code);
        AssertShortError(err, 2, "--checkpoint FILE or --model FILE.onnx", "--help");

        string junk = Path.Combine(_dir, "junk.onnx");
        File.WriteAllBytes(junk, [0x0A, 0xFF, 0xFF, 0xFF, 0x7F, 1]);
        (code, _, err) = Run("predict", "--model", junk, "1,2,3");
        Assert.Equal(1, code);
        AssertShortError(err, 1, junk, "not a valid ONNX file");

        (code, _, err) = Run("eval", "--model", onnx);
        Assert.Equal(1, code);
        AssertShortError(err, 1, "rows.onnx takes inputs of shape [?, 3]");

        (code, _, err) = Run("eval", "--model", onnx, "--data", "x.csv");
        Assert.Equal(2, code);
        AssertShortError(err, 2, "--data fashion-mnist");
    }
}
