using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Data;
using Backprop.Tensors;
using SkiaSharp;

namespace Backprop.Tests.Cli;

/// <summary>
/// `backprop train --data DIR/`, `predict` and `eval` on image folders written here as PNG files with SkiaSharp:
/// Fashion-MNIST test images of three classes (grayscale, 28×28), and small coloured images of mixed sizes; the
/// errors a broken folder gives; and `eval` of CSV checkpoints on their held-out split.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class ImageFolderTrainTests : IDisposable
{
    private static readonly (int Label, string Name)[] Classes = [(1, "trouser"), (7, "sneaker"), (8, "bag")];
    private const int PerClass = 80;

    private readonly string _dir = Directory.CreateTempSubdirectory("image-train-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    private static byte[] GrayPng(ReadOnlySpan<byte> pixels, int width, int height)
    {
        using SKImage image = SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), pixels.ToArray(), width);
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static byte[] ColorPng(int width, int height, Func<int, int, SKColor> pixel)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) bitmap.SetPixel(x, y, pixel(x, y));
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The first <see cref="PerClass"/> Fashion-MNIST test images of each of <see cref="Classes"/>, as DIR/name/NNN.png.</summary>
    private string FashionFolder()
    {
        string root = Path.Combine(_dir, "fashion");
        (Tensor images, Tensor labels) = FashionMnist.Load(FashionMnist.DefaultDirectory, train: false);
        float[] pixels = images.ToArray<float>();
        long[] y = labels.ToArray<long>();
        var bytes = new byte[784];
        foreach (var (label, name) in Classes)
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 0, written = 0; written < PerClass; i++)
            {
                if (y[i] != label) continue;
                for (int k = 0; k < 784; k++) bytes[k] = (byte)Math.Round(pixels[i * 784 + k] * 255);
                File.WriteAllBytes(Path.Combine(root, name, $"{written++:D3}.png"), GrayPng(bytes, 28, 28));
            }
        }
        return root;
    }

    private static JsonElement LastMetrics(string run)
        => JsonDocument.Parse(File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))[^1]).RootElement;

    [Fact]
    public void FashionPngs_TrainWellAboveChance_PredictAndEvaluateOnTheSameHeldOutSplit()
    {
        string data = FashionFolder(), run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("train", "--data", data, "--epochs", "2", "--batch-size", "32", "--out", run, "--threads", "2");
        Assert.True(code == 0, err);
        Assert.Contains("cnn 1×28×28→3", output);
        Assert.Contains("3 classes: bag, sneaker, trouser", output);
        Assert.Contains("240 images, grayscale, 28×28", output);
        Assert.Contains("192 training, 48 held out for testing", output);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(run, "curves.png")));
        // Every step's loss: 192 images in batches of 32 are 6 steps an epoch.
        string[] steps = File.ReadAllLines(Path.Combine(run, "steps.csv"));
        Assert.Equal("epoch,step,steps,loss", steps[0]);
        Assert.Equal(1 + 12, steps.Length);
        Assert.StartsWith("2,6,6,", steps[^1]);
        double accuracy = LastMetrics(run).GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.85, $"held-out accuracy {accuracy:P1} (chance is 33%)");

        // predict: one file, then a folder (every trouser image), each line "path: class p%, …".
        string ckpt = Path.Combine(run, "checkpoints", "epoch-2.ckpt");
        string one = Path.Combine(data, "trouser", "000.png");
        var (p1, out1, e1) = Run("predict", "--checkpoint", ckpt, one, "--top", "3");
        Assert.True(p1 == 0, e1);
        string line = out1.Trim();
        Assert.StartsWith(one + ": ", line);
        string[] shown = line[(one.Length + 2)..].Split(", ");
        Assert.Equal(3, shown.Length);
        Assert.Equal(["bag", "sneaker", "trouser"], shown.Select(s => s.Split(' ')[0]).Order());
        double total = shown.Sum(s => double.Parse(s.Split(' ')[1], CultureInfo.InvariantCulture));
        Assert.InRange(total, 99.9, 100.1);
        var (p2, out2, e2) = Run("predict", "--checkpoint", ckpt, Path.Combine(data, "trouser"), "--top", "1");
        Assert.True(p2 == 0, e2);
        string[] lines = out2.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(PerClass, lines.Length);
        Assert.True(lines.Count(l => l.Contains(".png: trouser ", StringComparison.Ordinal)) >= 0.85 * PerClass, out2);

        // eval on the held-out split, drawn again from the checkpoint's seed: the numbers of the run's last epoch.
        var (c3, out3, e3) = Run("eval", "--checkpoint", ckpt, "--json", "--threads", "2");
        Assert.True(c3 == 0, e3);
        JsonElement root = JsonDocument.Parse(out3).RootElement;
        Assert.Equal(48, root.GetProperty("examples").GetInt32());
        Assert.Equal("image-cnn", root.GetProperty("model").GetString());
        Assert.Equal(accuracy, root.GetProperty("test_accuracy").GetDouble(), 12);
        Assert.Equal(LastMetrics(run).GetProperty("test_loss").GetDouble(), root.GetProperty("test_loss").GetDouble(), 5);
        JsonElement[] classes = [.. root.GetProperty("classes").EnumerateArray()];
        Assert.Equal(["bag", "sneaker", "trouser"], classes.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(48, classes.Sum(c => c.GetProperty("support").GetInt32()));
        Assert.All(classes, c => Assert.InRange(c.GetProperty("f1").GetDouble(), 0.5, 1.0));
        int[][] confusion = [.. root.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray())];
        Assert.Equal(accuracy, (confusion[0][0] + confusion[1][1] + confusion[2][2]) / 48.0, 12);

        // eval on a folder the user gives: every image of it, classes matched by name (a folder with two of them).
        string subset = Path.Combine(_dir, "subset");
        foreach (string name in (string[])["trouser", "bag"])
        {
            Directory.CreateDirectory(Path.Combine(subset, name));
            foreach (string f in Directory.GetFiles(Path.Combine(data, name)).Order().Take(10))
                File.Copy(f, Path.Combine(subset, name, Path.GetFileName(f)));
        }
        var (c4, out4, e4) = Run("eval", "--checkpoint", ckpt, "--data", subset, "--json");
        Assert.True(c4 == 0, e4);
        JsonElement sub = JsonDocument.Parse(out4).RootElement;
        Assert.Equal(20, sub.GetProperty("examples").GetInt32());
        JsonElement[] subClasses = [.. sub.GetProperty("classes").EnumerateArray()];
        Assert.Equal([10, 0, 10], subClasses.Select(c => c.GetProperty("support").GetInt32()));

        // The table form names the classes.
        var (c5, out5, e5) = Run("eval", "--checkpoint", ckpt, "--test-limit", "30");
        Assert.True(c5 == 0, e5);
        Assert.Contains("held-out images", out5);
        Assert.Contains("2 trouser", out5);
        Assert.Contains("30 examples", out5);
    }

    [Fact]
    public void ColourImagesOfMixedSizes_AreResized_AndTrainAsRgb()
    {
        string root = Path.Combine(_dir, "colours");
        for (int i = 0; i < 20; i++)
        {
            int w = 20 + i % 3 * 4, h = 24 + i % 2 * 6;
            foreach (var (name, colour) in (ReadOnlySpan<(string, SKColor)>)[("red", new SKColor(220, 40, 30)), ("blue", new SKColor(30, 60, 210))])
            {
                Directory.CreateDirectory(Path.Combine(root, name));
                File.WriteAllBytes(Path.Combine(root, name, $"{i}.png"),
                    ColorPng(w, h, (x, y) => (x * 7 + y * 3 + i) % 5 == 0 ? SKColors.White : colour));
            }
        }
        string run = Path.Combine(_dir, "colour-run");
        var (code, output, err) = Run("train", "--data", root, "--epochs", "2", "--batch-size", "8", "--out", run, "--threads", "2");
        Assert.True(code == 0, err);
        Assert.Contains("cnn 3×64×64→2", output);
        Assert.Contains("RGB, mixed sizes from 20×24 to 28×30, resized to 64×64 (choose with --image-size)", output);

        string small = Path.Combine(_dir, "colour-small");
        var (c2, out2, e2) = Run("train", "--data", root, "--epochs", "3", "--batch-size", "8", "--image-size", "16", "--out", small, "--threads", "2");
        Assert.True(c2 == 0, e2);
        Assert.Contains("cnn 3×16×16→2", out2);
        Assert.True(LastMetrics(small).GetProperty("test_accuracy").GetDouble() >= 0.75, File.ReadAllText(Path.Combine(small, "metrics.jsonl")));

        // A new image of another size: resized as the training images were.
        string probe = Path.Combine(_dir, "probe.png");
        File.WriteAllBytes(probe, ColorPng(40, 33, (_, _) => new SKColor(230, 30, 30)));
        var (p, pout, perr) = Run("predict", "--checkpoint", Path.Combine(small, "checkpoints", "epoch-3.ckpt"), probe, "--top", "1");
        Assert.True(p == 0, perr);
        Assert.StartsWith(probe + ": red ", pout);
    }

    [Fact]
    public void BrokenFolders_AreOneLineErrorsNamingTheFolderOrFile()
    {
        string outDir = Path.Combine(_dir, "never");

        string empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        File.WriteAllBytes(Path.Combine(empty, "loose.png"), GrayPng(new byte[16], 4, 4));
        var (c1, _, e1) = Run("train", "--data", empty, "--out", outDir);
        Assert.Equal(1, c1);
        CliHarness.AssertShortError(e1, 2, "--data", empty, "no class folders");

        string noImages = Path.Combine(_dir, "no-images");
        Directory.CreateDirectory(Path.Combine(noImages, "cat"));
        Directory.CreateDirectory(Path.Combine(noImages, "dog"));
        File.WriteAllBytes(Path.Combine(noImages, "cat", "a.png"), GrayPng(new byte[64], 8, 8));
        File.WriteAllText(Path.Combine(noImages, "dog", "readme.txt"), "no pictures");
        var (c2, _, e2) = Run("train", "--data", noImages, "--out", outDir);
        Assert.Equal(1, c2);
        CliHarness.AssertShortError(e2, 2, "\"dog\"", noImages);

        string corrupt = Path.Combine(_dir, "corrupt");
        for (int i = 0; i < 4; i++)
            foreach (string name in (string[])["a", "b"])
            {
                Directory.CreateDirectory(Path.Combine(corrupt, name));
                File.WriteAllBytes(Path.Combine(corrupt, name, $"{i}.png"), GrayPng(new byte[64], 8, 8));
            }
        string bad = Path.Combine(corrupt, "b", "broken.png");
        File.WriteAllText(bad, "this is not a PNG");
        var (c3, _, e3) = Run("train", "--data", corrupt, "--out", outDir);
        Assert.Equal(1, c3);
        CliHarness.AssertShortError(e3, 2, bad, "not an image");

        // A PNG cut short: its header reads, its pixels do not.
        byte[] whole = GrayPng(Enumerable.Range(0, 64 * 64).Select(k => (byte)(k * 37 % 251)).ToArray(), 64, 64);
        File.WriteAllBytes(bad, whole[..(whole.Length / 2)]);
        var (c4, _, e4) = Run("train", "--data", corrupt, "--out", outDir);
        Assert.Equal(1, c4);
        CliHarness.AssertShortError(e4, 2, bad);
        File.Delete(bad);

        var (c5, _, e5) = Run("train", "--data", corrupt, "--target", "-1", "--out", outDir);
        Assert.Equal(2, c5);
        CliHarness.AssertShortError(e5, 2, "--target", "--data DIR");

        var (c6, _, e6) = Run("train", "--data", Path.Combine(_dir, "missing.csv"), "--target", "-1", "--image-size", "32", "--out", outDir);
        Assert.Equal(2, c6);
        CliHarness.AssertShortError(e6, 2, "--image-size", "--data DIR");

        var (c7, _, e7) = Run("train", "--data", corrupt, "--image-size", "2", "--out", outDir);
        Assert.Equal(2, c7);
        CliHarness.AssertShortError(e7, 2, "--image-size");
        Assert.False(Directory.Exists(outDir));

        // predict and eval with a trained checkpoint: a file that is not an image, a class the model does not know.
        string run = Path.Combine(_dir, "tiny");
        var (c8, _, e8) = Run("train", "--data", corrupt, "--epochs", "1", "--out", run, "--threads", "1");
        Assert.True(c8 == 0, e8);
        string ckpt = Path.Combine(run, "checkpoints", "epoch-1.ckpt");
        string notImage = Path.Combine(_dir, "notes.png");
        File.WriteAllText(notImage, "hello");
        var (c9, _, e9) = Run("predict", "--checkpoint", ckpt, notImage);
        Assert.Equal(1, c9);
        CliHarness.AssertShortError(e9, 2, notImage);
        var (c10, _, e10) = Run("predict", "--checkpoint", ckpt, Path.Combine(_dir, "nothing.png"));
        Assert.Equal(1, c10);
        CliHarness.AssertShortError(e10, 2, "nothing.png");
        Directory.CreateDirectory(Path.Combine(corrupt, "c"));
        File.Copy(Path.Combine(corrupt, "a", "0.png"), Path.Combine(corrupt, "c", "0.png"));
        var (c11, _, e11) = Run("eval", "--checkpoint", ckpt, "--data", corrupt);
        Assert.Equal(1, c11);
        CliHarness.AssertShortError(e11, 2, "\"c\"", "not a class of the model");
        // The training folder changed, so its held-out split cannot be drawn again.
        var (c12, _, e12) = Run("eval", "--checkpoint", ckpt);
        Assert.Equal(1, c12);
        CliHarness.AssertShortError(e12, 2, "changed since", "--data DIR");
    }

    [Fact]
    public void CsvCheckpoints_EvaluateOnTheirHeldOutSplit_AndResumeKeepsTheSteps()
    {
        var sb = new StringBuilder("a,b,label\n");
        for (int i = 0; i < 200; i++)
        {
            double a = Math.Sin(i * 1.7) * (1 + i % 7), b = Math.Cos(i * 2.3) * (1 + i % 5);
            sb.Append(CultureInfo.InvariantCulture, $"{a:R},{b:R},{(a + b > 0 ? 1 : 0)}\n");
        }
        string csv = Path.Combine(_dir, "blobs.csv"), run = Path.Combine(_dir, "csv-run");
        File.WriteAllText(csv, sb.ToString());
        Assert.Equal(0, Run("train", "--data", csv, "--target", "label", "--epochs", "2", "--hidden", "16", "--out", run, "--threads", "1").Code);
        string[] steps = File.ReadAllLines(Path.Combine(run, "steps.csv"));
        Assert.Equal(1 + 2 * 5, steps.Length); // 160 rows in batches of 32
        var (code, _, err) = Run("train", "--data", csv, "--target", "label", "--epochs", "4", "--hidden", "16",
                                 "--resume", Path.Combine(run, "checkpoints", "epoch-2.ckpt"), "--threads", "1");
        Assert.True(code == 0, err);
        steps = File.ReadAllLines(Path.Combine(run, "steps.csv"));
        Assert.Equal(1 + 4 * 5, steps.Length);
        Assert.Equal(Enumerable.Range(1, 4).SelectMany(e => Enumerable.Range(1, 5).Select(s => $"{e},{s}")),
                     steps.Skip(1).Select(l => string.Join(',', l.Split(',')[..2])));

        var (c2, out2, e2) = Run("eval", "--checkpoint", Path.Combine(run, "checkpoints", "epoch-4.ckpt"), "--json");
        Assert.True(c2 == 0, e2);
        JsonElement root = JsonDocument.Parse(out2).RootElement;
        Assert.Equal(40, root.GetProperty("examples").GetInt32());
        Assert.Equal(LastMetrics(run).GetProperty("test_accuracy").GetDouble(), root.GetProperty("test_accuracy").GetDouble(), 12);
        Assert.Equal(["0", "1"], root.GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        // On a file the user gives: every row; a class value the model never saw is named.
        string rows = Path.Combine(_dir, "rows.csv");
        File.WriteAllText(rows, "a,b,label\n5,5,1\n-5,-5,0\n4,1,1\n");
        var (c3, out3, e3) = Run("eval", "--checkpoint", Path.Combine(run, "checkpoints", "epoch-4.ckpt"), "--data", rows, "--json");
        Assert.True(c3 == 0, e3);
        Assert.Equal(3, JsonDocument.Parse(out3).RootElement.GetProperty("examples").GetInt32());
        File.WriteAllText(rows, "a,b,label\n5,5,1\n-5,-5,7\n");
        var (c4, _, e4) = Run("eval", "--checkpoint", Path.Combine(run, "checkpoints", "epoch-4.ckpt"), "--data", rows);
        Assert.Equal(1, c4);
        CliHarness.AssertShortError(e4, 2, "rows.csv", "row 2", "class 7");

        // Regression: RMSE, MAE and R² in the target's units.
        var reg = new StringBuilder("x,y\n");
        for (int i = 0; i < 100; i++) reg.Append(CultureInfo.InvariantCulture, $"{i * 0.1:R},{3 * i * 0.1 + 1:R}\n");
        string regCsv = Path.Combine(_dir, "line.csv"), regRun = Path.Combine(_dir, "reg");
        File.WriteAllText(regCsv, reg.ToString());
        Assert.Equal(0, Run("train", "--data", regCsv, "--target", "y", "--epochs", "3", "--out", regRun, "--threads", "1").Code);
        var (c5, out5, e5) = Run("eval", "--checkpoint", Path.Combine(regRun, "checkpoints", "epoch-3.ckpt"), "--json");
        Assert.True(c5 == 0, e5);
        JsonElement r = JsonDocument.Parse(out5).RootElement;
        Assert.Equal("regression", r.GetProperty("task").GetString());
        Assert.Equal(20, r.GetProperty("examples").GetInt32());
        Assert.True(r.GetProperty("test_rmse").GetDouble() > 0);
        Assert.True(r.GetProperty("test_mae").GetDouble() <= r.GetProperty("test_rmse").GetDouble());
    }
}
