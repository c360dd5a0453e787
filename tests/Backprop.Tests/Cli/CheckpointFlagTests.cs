using Backprop.Cli;
using Backprop.Cli.Bench;
using Backprop.IO;
using Backprop.Memory;
using Backprop.NN;
using Backprop.Tensors;
using Xunit.Abstractions;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// `train --model gpt --checkpoint` and `bench transformer --checkpoint`: the checkpointed GPT trains to the
/// same weights bit for bit, the flag is refused where it does not apply, and the bench workload's model keeps
/// far less memory with every block checkpointed.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class CheckpointFlagTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ckpt-flag").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] TinyGpt(string run) =>
        ["train", "--model", "gpt", "--text", TextCorpusFiles.Write(Path.Combine(_dir, "corpus.txt")), "--context", "16", "--width", "16", "--heads", "2",
         "--layers", "2", "--dropout", "0.2", "--batch-size", "4", "--steps-per-epoch", "5", "--warmup", "2", "--lr", "0.01", "--threads", "1",
         "--epochs", "1", "--out", Path.Combine(_dir, run)];

    private double[][] Weights(string run)
        => [.. Checkpoint.Load(Path.Combine(_dir, run, "checkpoints", "epoch-1.ckpt")).Tensors.Select(kv => kv.Value.ToDoubleArray())];

    [Fact]
    public void TrainGptWithCheckpoint_GivesTheSameWeightsBitForBit()
    {
        var (plainCode, _, plainErr) = Run(TinyGpt("plain"));
        Assert.True(plainCode == 0, plainErr);
        var (code, stdout, err) = Run([.. TinyGpt("ckpt"), "--checkpoint"]);
        Assert.True(code == 0, err);
        Assert.Contains("every block checkpointed", stdout);
        double[][] a = Weights("plain"), b = Weights("ckpt");
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);
    }

    [Theory]
    [InlineData("train", "lstm")]
    [InlineData("train", "mlp")]
    [InlineData("bench", "lstm")]
    [InlineData("bench", "gemm")]
    public void CheckpointFlag_ElsewhereIsAUsageError(string command, string model)
    {
        string[] args = command == "train" ? ["train", "--model", model, "--checkpoint", "--out", Path.Combine(_dir, "run")] : ["bench", model, "--checkpoint"];
        var (code, stdout, err) = Run(args);
        Assert.Equal(CliApp.UsageError, code);
        AssertShortError(err, 1, "--checkpoint", model);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void TransformerWorkload_CheckpointedBlocks_SameLossAndGradients_FarLessHeldForBackward()
    {
        var plain = new TextWorkloads.WorkloadGpt(new Generator(0));
        var checkpointed = new TextWorkloads.WorkloadGpt(new Generator(0)) { CheckpointBlocks = true };
        var g = new Generator(1);
        Tensor x = Tensor.RandInt([32, 64], 0, 128, g), y = Tensor.RandInt([32, 64], 0, 128, g);

        (double Loss, long Held, long Peak, double[][] Grads) Step(Module model)
        {
            using var scope = TensorScope.Begin();
            MemoryStats.ResetPeak();
            long start = MemoryStats.ScopedBytes;
            model.ZeroGrad();
            Tensor loss = Functional.CrossEntropy(model.Forward(x).Reshape(32 * 64, 128), y.Reshape(32 * 64));
            long held = MemoryStats.ScopedBytes - start;
            loss.Backward();
            return (loss.Item(), held, MemoryStats.PeakScopedBytes - start, [.. model.Parameters().Select(p => p.Grad!.ToDoubleArray())]);
        }
        var p = Step(plain);
        var c = Step(checkpointed);
        output.WriteLine($"held for backward: plain {p.Held / 1048576.0:F2} MiB, checkpointed {c.Held / 1048576.0:F2} MiB; " +
                         $"peak: plain {p.Peak / 1048576.0:F2} MiB, checkpointed {c.Peak / 1048576.0:F2} MiB");
        Assert.Equal(p.Loss, c.Loss);
        for (int i = 0; i < p.Grads.Length; i++) Assert.Equal(p.Grads[i], c.Grads[i]);
        Assert.True(c.Held < 0.35 * p.Held, $"held {c.Held} vs {p.Held}");
        Assert.True(c.Peak < p.Peak, $"peak {c.Peak} vs {p.Peak}");
    }
}
