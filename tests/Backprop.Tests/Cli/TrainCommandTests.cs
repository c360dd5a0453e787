using System.Text.Json;
using Backprop.IO;
using Backprop.Cli;

namespace Backprop.Tests.Cli;

[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("train-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public void Train_WritesMetricsCurvesAndCheckpoints()
    {
        string run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("train", "--epochs", "2", "--train-limit", "1500", "--batch-size", "100", "--out", run, "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("epoch 2/2", output);
        // The SIMD width the kernels run at (tools/check-arm64-run.sh reads it from an ARM64 run: 128 there, never scalar).
        string simd = Backprop.Kernels.VectorWidth.Bits == 0 ? "scalar kernels" : $"{Backprop.Kernels.VectorWidth.Name}-bit SIMD";
        Assert.Contains($"parameters, {simd}; writing to", output);
        string[] lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(2, lines.Length);
        using JsonDocument doc = JsonDocument.Parse(lines[1]);
        string[] keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "samples_per_sec", "seconds"], keys);
        Assert.Equal(2, doc.RootElement.GetProperty("epoch").GetInt32());
        Assert.True(new FileInfo(Path.Combine(run, "curves.png")).Length > 5000);
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "epoch-1.ckpt")));
        Assert.Equal("2", Checkpoint.Load(Path.Combine(run, "checkpoints", "epoch-2.ckpt")).Metadata["epoch"]);

        var (evalCode, evalOut, evalErr) = Run("eval", "--checkpoint", Path.Combine(run, "checkpoints", "epoch-2.ckpt"));
        Assert.True(evalCode == 0, evalErr);
        Assert.Contains("test accuracy", evalOut);
        Assert.Contains("Ankle boot", evalOut);
    }

    [Fact]
    public void Resume_ContinuesTheRunAndKeepsEarlierMetrics()
    {
        string run = Path.Combine(_dir, "r");
        Assert.Equal(0, Run("train", "--epochs", "1", "--train-limit", "1000", "--out", run).Code);
        var (code, output, err) = Run("train", "--epochs", "2", "--train-limit", "1000", "--resume", Path.Combine(run, "checkpoints", "epoch-1.ckpt"));
        Assert.True(code == 0, err);
        Assert.Contains("resumed", output);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
    }

    [Theory]
    [InlineData("--model", "resnet")]
    [InlineData("--epochs", "0")]
    [InlineData("--batch-size", "abc")]
    [InlineData("--lr", "-1")]
    [InlineData("--optimizer", "lbfgs")]
    [InlineData("--threads", "0")]
    [InlineData("--train-limit", "0")]
    [InlineData("--bogus", "1")]
    public void BadFlags_AreUsageErrors(string flag, string value)
    {
        var (code, output, err) = Run("train", flag, value);
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains(flag, err);
        Assert.Contains("Usage", err);
        Assert.Equal("", output);
    }

    [Fact]
    public void MissingDataDirectory_SaysHowToGetTheData()
    {
        var (code, _, err) = Run("train", "--data-dir", Path.Combine(_dir, "nowhere"), "--out", Path.Combine(_dir, "x"));
        Assert.Equal(CliApp.Failure, code);
        Assert.Contains("nowhere", err);
        Assert.Contains("apt-get install dataset-fashion-mnist", err);
        Assert.Contains("--data-dir", err); // the CLI names its flag; the library's message does not
    }

    [Fact]
    public void MissingResumeCheckpoint_IsNamed()
    {
        var (code, _, err) = Run("train", "--resume", Path.Combine(_dir, "none.ckpt"));
        Assert.NotEqual(0, code);
        Assert.Contains("none.ckpt", err);
    }

    [Fact]
    public void Divergence_NamesTheStep_AndKeepsTheLastGoodCheckpoint()
    {
        // Epoch 1 trains normally; the learning rate then jumps by 1e12 and epoch 2 blows up.
        string run = Path.Combine(_dir, "nan");
        var (code, _, err) = Run("train", "--optimizer", "sgd", "--lr", "0.01", "--lr-decay", "1e12", "--epochs", "3",
                                 "--train-limit", "1000", "--out", run);
        Assert.Equal(CliApp.Failure, code);
        Assert.Contains("epoch 2, step", err);
        Assert.Contains("epoch-1.ckpt", err);
        Assert.True(Checkpoint.TryLoad(Path.Combine(run, "checkpoints", "epoch-1.ckpt"), out _, out _));
        Assert.False(File.Exists(Path.Combine(run, "checkpoints", "epoch-2.ckpt")));
    }

    [Fact]
    public void CrashWhileCheckpointing_EveryCheckpointLeftBehindLoads_AndTheRunResumes()
    {
        // The second checkpoint's save fails half-written, at a known point inside Checkpoint.Save
        // (after the tensors, before the checksum and the rename).
        string run = Path.Combine(_dir, "crash");
        string checkpoints = Path.Combine(run, "checkpoints");
        string first = Path.Combine(checkpoints, "epoch-1.ckpt");
        int saves = 0;
        bool firstLoadedMidSave = false;
        string[] args = ["train", "--epochs", "3", "--train-limit", "128", "--batch-size", "64", "--threads", "1", "--out", run];
        (int Code, string Out, string Err) result = default;
        Exception? thrown;
        Checkpoint.InterruptSaveForTests = temp =>
        {
            if (++saves < 2) return;
            firstLoadedMidSave = Checkpoint.TryLoad(first, out _, out _);
            throw new IOException("simulated disk failure");
        };
        try
        {
            thrown = Record.Exception(() => result = Run(args));
        }
        finally
        {
            Checkpoint.InterruptSaveForTests = null;
        }

        Assert.Equal(2, saves);
        Assert.True(firstLoadedMidSave);
        // The run stops with one line naming the checkpoint it could not write.
        Assert.Null(thrown);
        Assert.Equal(CliApp.Failure, result.Code);
        CliHarness.AssertShortError(result.Err ?? "", maxLines: 1, "epoch-2.ckpt", "simulated disk failure");
        Assert.Equal(["epoch-1.ckpt"], Directory.GetFiles(checkpoints).Select(Path.GetFileName));
        Assert.True(Checkpoint.TryLoad(first, out _, out string? error), error);

        var (code, output, err) = Run("train", "--epochs", "2", "--train-limit", "128", "--batch-size", "64", "--threads", "1", "--resume", first);
        Assert.True(code == 0, err);
        Assert.Contains("resumed", output);
        Assert.Equal("2", Checkpoint.Load(Path.Combine(checkpoints, "epoch-2.ckpt")).Metadata["epoch"]);
    }
}
