using System.Text.Json;
using Backprop.Cli;
using Backprop.IO;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// `train --model gpt|lstm --text`: the files a run writes, the loss falling, --max-minutes stopping with a
/// checkpoint and metrics that resume exactly, and the bad inputs (text, flags) as one line.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class TextTrainTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("text-train").FullName;
    private readonly string _text;

    public TextTrainTests() => _text = TextCorpusFiles.Write(Path.Combine(_dir, "corpus.txt"));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A tiny model and short epochs: each run takes a fraction of a second.</summary>
    private string[] Tiny(string model) => model == "gpt"
        ? ["train", "--model", "gpt", "--text", _text, "--context", "16", "--width", "16", "--heads", "2", "--layers", "1",
           "--batch-size", "4", "--steps-per-epoch", "6", "--warmup", "2", "--lr", "0.01", "--threads", "1"]
        : ["train", "--model", "lstm", "--text", _text, "--context", "16", "--width", "24", "--layers", "1",
           "--batch-size", "4", "--steps-per-epoch", "6", "--warmup", "2", "--lr", "0.01", "--threads", "1"];

    /// <summary><see cref="Tiny"/> with some flags' values replaced.</summary>
    private string[] TinyWith(string model, params string[] flagValues)
    {
        string[] args = Tiny(model);
        for (int i = 0; i < flagValues.Length; i += 2)
            args[Array.IndexOf(args, flagValues[i]) + 1] = flagValues[i + 1];
        return args;
    }

    private static JsonElement[] Lines(string run)
        => [.. File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)];

    private static double[][] ModelWeights(string checkpoint)
        => [.. Checkpoint.Load(checkpoint).Tensors.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)).Select(kv => kv.Value.ToDoubleArray())];

    [Theory]
    [InlineData("gpt")]
    [InlineData("lstm")]
    public void Train_WritesNatsPerCharacterMetricsCurvesAndCheckpoints_AndTheLossFalls(string model)
    {
        string run = Path.Combine(_dir, model);
        var (code, output, err) = Run([.. Tiny(model), "--epochs", "3", "--out", run]);
        Assert.True(code == 0, err);
        Assert.Contains("epoch 3/3", output);
        Assert.Contains("nats/char", output);
        JsonElement[] lines = Lines(run);
        Assert.Equal(3, lines.Length);
        Assert.Equal(["epoch", "step", "train_loss", "val_loss", "tokens_per_sec", "seconds"], lines[2].EnumerateObject().Select(p => p.Name));
        Assert.Equal(18, lines[2].GetProperty("step").GetInt32());
        double first = lines[0].GetProperty("val_loss").GetDouble(), last = lines[2].GetProperty("val_loss").GetDouble();
        Assert.True(first < 5.6 && last < first - 0.3, $"validation loss {first} -> {last} (ln 256 = 5.55)");
        Assert.True(new FileInfo(Path.Combine(run, "curves.png")).Length > 5000);
        Checkpoint c = Checkpoint.Load(Path.Combine(run, "checkpoints", "epoch-3.ckpt"));
        Assert.Equal(model, c.Metadata["model"]);
        Assert.Equal(("16", "1"), (c.Metadata["context"], c.Metadata["layers"]));
    }

    [Theory]
    [InlineData("gpt")]
    [InlineData("lstm")]
    public void MaxMinutes_StopsWithACheckpointAndMetrics_AndTheResumeEqualsAnUninterruptedRun(string model)
    {
        string straight = Path.Combine(_dir, "straight"), stopped = Path.Combine(_dir, "stopped");
        Assert.Equal(0, Run([.. Tiny(model), "--epochs", "1", "--out", straight]).Code);

        // A budget far below one step: the run stops after its first step, evaluates, saves and logs.
        var (code, output, err) = Run([.. Tiny(model), "--epochs", "1", "--out", stopped, "--max-minutes", "0.000001"]);
        Assert.True(code == 0, err);
        Assert.Contains("stopped after", output);
        string partial = Path.Combine(stopped, "checkpoints", "epoch-1-step-1.ckpt");
        Assert.Equal(["epoch-1-step-1.ckpt"], Directory.GetFiles(Path.Combine(stopped, "checkpoints")).Select(Path.GetFileName));
        JsonElement line = Assert.Single(Lines(stopped));
        Assert.Equal((1, 1, 1), (line.GetProperty("epoch").GetInt32(), line.GetProperty("epoch_step").GetInt32(), line.GetProperty("step").GetInt32()));
        Assert.True(double.IsFinite(line.GetProperty("val_loss").GetDouble()));
        Assert.True(File.Exists(Path.Combine(stopped, "curves.png")));
        Assert.Contains($"--resume {partial}", output);

        var (resumeCode, resumeOut, resumeErr) = Run([.. Tiny(model), "--epochs", "1", "--resume", partial]);
        Assert.True(resumeCode == 0, resumeErr);
        Assert.Contains("resumed from", resumeOut);
        Assert.Equal(2, Lines(stopped).Length);
        Assert.Equal(ModelWeights(Path.Combine(straight, "checkpoints", "epoch-1.ckpt")), ModelWeights(Path.Combine(stopped, "checkpoints", "epoch-1.ckpt")));
    }

    [Fact]
    public void MaxMinutes_WorksForTheMlpToo()
    {
        string run = Path.Combine(_dir, "mlp");
        var (code, output, err) = Run("train", "--train-limit", "1000", "--batch-size", "100", "--threads", "1", "--epochs", "2",
                                      "--max-minutes", "0.000001", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("stopped after", output);
        Assert.True(Checkpoint.TryLoad(Path.Combine(run, "checkpoints", "epoch-1-step-1.ckpt"), out Checkpoint? c, out string? error), error);
        Assert.Equal("1", c!.Metadata["epoch_step"]);
        JsonElement line = Assert.Single(Lines(run));
        Assert.Equal(["epoch", "epoch_step", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "samples_per_sec", "seconds"],
                     line.EnumerateObject().Select(p => p.Name));
        Assert.True(File.Exists(Path.Combine(run, "curves.png")));

        // The next --resume of the run continues it; a later attempt to resume the partial checkpoint is refused (the run went further).
        Assert.Equal(0, Run("train", "--train-limit", "1000", "--batch-size", "100", "--threads", "1", "--epochs", "1",
                            "--resume", Path.Combine(run, "checkpoints", "epoch-1-step-1.ckpt")).Code);
        var again = Run("train", "--train-limit", "1000", "--batch-size", "100", "--threads", "1", "--epochs", "1",
                        "--resume", Path.Combine(run, "checkpoints", "epoch-1-step-1.ckpt"));
        Assert.Equal(CliApp.Failure, again.Code);
        AssertShortError(again.Err, 1, "epoch 1 step 1", "already goes to epoch 1", "epoch-1.ckpt");
    }

    [Theory]
    [InlineData("nowhere", "text not found")]
    [InlineData("empty.txt", "is empty")]
    [InlineData("garbage.bin", "is not text")]
    [InlineData("binaries", "holds no text files")]
    public void BadText_IsOneLine_NamingThePath_AndCreatesNoRun(string name, string says)
    {
        string path = Path.Combine(_dir, name);
        if (name == "empty.txt") File.WriteAllText(path, "");
        if (name == "garbage.bin")
        {
            var bytes = new byte[5000];
            new Random(4).NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
        }
        if (name == "binaries")
        {
            Directory.CreateDirectory(path);
            File.WriteAllBytes(Path.Combine(path, "x.dat"), [0, 0, 0, 2, 0, 0, 1, 0]);
        }
        string run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("train", "--model", "gpt", "--text", path, "--out", run);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, 1, path, says);
        Assert.DoesNotContain("--verbose", err);
        Assert.False(Directory.Exists(run));
        Assert.Equal("", output);
    }

    [Fact]
    public void TextTooShortForTheBatches_IsOneLine()
    {
        string path = Path.Combine(_dir, "short.txt");
        File.WriteAllText(path, "Only a few words of text here.\n");
        var (code, _, err) = Run("train", "--model", "gpt", "--text", path, "--out", Path.Combine(_dir, "run"));
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, 1, path, "does not fit the batches", "--context");
    }

    [Theory]
    [InlineData("gpt", "--data-dir", "/tmp")]
    [InlineData("lstm", "--train-limit", "10")]
    [InlineData("mlp", "--heads", "2")]
    [InlineData("cnn", "--context", "16")]
    [InlineData("mlp", "--text", "x.txt")]
    [InlineData("lstm", "--heads", "2")]
    public void AFlagOfAnotherModel_IsAUsageError(string model, string flag, string value)
    {
        var (code, output, err) = Run("train", "--model", model, flag, value, "--out", Path.Combine(_dir, "run"));
        Assert.Equal(CliApp.UsageError, code);
        AssertShortError(err, 1, flag, model);
        Assert.Equal("", output);
        Assert.False(Directory.Exists(Path.Combine(_dir, "run")));
    }

    [Theory]
    [InlineData("--max-minutes", "0")]
    [InlineData("--max-minutes", "-1")]
    [InlineData("--max-minutes", "soon")]
    [InlineData("--dropout", "1")]
    [InlineData("--dropout", "-0.1")]
    [InlineData("--context", "0")]
    [InlineData("--warmup", "-1")]
    [InlineData("--steps-per-epoch", "0")]
    public void BadTextFlagValue_IsAUsageError(string flag, string value)
    {
        var (code, _, err) = Run("train", "--model", "gpt", flag, value, "--out", Path.Combine(_dir, "run"));
        Assert.Equal(CliApp.UsageError, code);
        AssertShortError(err, 2, flag, value);
    }

    [Fact]
    public void WidthNotDivisibleByHeads_IsAUsageError()
    {
        var (code, _, err) = Run([.. TinyWith("gpt", "--width", "18", "--heads", "4"), "--out", Path.Combine(_dir, "run")]);
        Assert.Equal(CliApp.UsageError, code);
        AssertShortError(err, 1, "--width 18", "--heads 4");
    }

    [Fact]
    public void ANewRunIntoAFolderHoldingARun_IsRefused_AndTheRunIsUnchanged()
    {
        string run = Path.Combine(_dir, "kept");
        Assert.Equal(0, Run([.. Tiny("lstm"), "--epochs", "1", "--out", run]).Code);
        string[] before = Snapshot(run);
        var (code, _, err) = Run([.. Tiny("lstm"), "--epochs", "1", "--out", run]);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, 1, run, "already holds a run", "--resume", "epoch-1.ckpt");
        Assert.Equal(before, Snapshot(run));
    }

    [Fact]
    public void LstmEpochsLongerThanAPass_AreOneLine()
    {
        var (code, _, err) = Run([.. TinyWith("lstm", "--steps-per-epoch", "100000"), "--out", Path.Combine(_dir, "run")]);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, 1, _text, "100000 batches per epoch is outside [1, ", "--steps-per-epoch");
        Assert.DoesNotContain("Parameter", err);
    }

    [Fact]
    public void ResumeWithAnotherModelShape_IsRefused()
    {
        string run = Path.Combine(_dir, "r");
        Assert.Equal(0, Run([.. Tiny("gpt"), "--epochs", "1", "--out", run]).Code);
        var (code, _, err) = Run([.. TinyWith("gpt", "--layers", "2"), "--epochs", "2", "--resume", Path.Combine(run, "checkpoints", "epoch-1.ckpt")]);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, 1, "1 layers", "2 layers", "same model flags");
    }
}
