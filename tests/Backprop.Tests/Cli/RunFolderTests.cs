using Backprop.Cli;
using Backprop.Cli.Reporting;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>A run folder is never overwritten or mixed with another run: refusals, --overwrite, resume appends, default names.</summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class RunFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("run-folder").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Quick = ["--train-limit", "100", "--batch-size", "100", "--threads", "1"];

    private (int Code, string Out, string Err) Train(params string[] args) => Run(["train", .. Quick, .. args]);

    private string Checkpoint(string run, int epoch) => Path.Combine(run, "checkpoints", $"epoch-{epoch}.ckpt");

    [Fact]
    public void OutHoldingARun_IsRefused_OfferingResumeOfTheLatest_AndNothingChanges()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Train("--epochs", "2", "--out", run).Code);
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--epochs", "1", "--out", run);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "--out", "already holds a run", $"--resume {Checkpoint(run, 2)}", "--overwrite");
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void OutHoldingOnlyMetrics_IsRefusedToo()
    {
        string run = Directory.CreateDirectory(Path.Combine(_dir, "run")).FullName;
        File.WriteAllText(Path.Combine(run, "metrics.jsonl"), "");
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--out", run);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "metrics.jsonl");
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void Overwrite_ReplacesTheOldRunEntirely()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Train("--epochs", "2", "--out", run).Code);
        File.WriteAllText(Path.Combine(run, "mine.txt"), "kept");
        var (code, _, err) = Train("--epochs", "1", "--out", run, "--overwrite");
        Assert.True(code == 0, err);
        Assert.Equal(["epoch-1.ckpt"], Directory.GetFiles(Path.Combine(run, "checkpoints")).Select(Path.GetFileName));
        Assert.Single(File.ReadAllLines(Path.Combine(run, "metrics.jsonl")));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(run, "mine.txt"))); // only the run's own files go
    }

    [Fact]
    public void ResumeIntoItsOwnRun_AppendsToMetrics()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Train("--epochs", "1", "--out", run).Code);
        string metrics = Path.Combine(run, "metrics.jsonl");
        byte[] first = File.ReadAllBytes(metrics);
        var (code, output, err) = Train("--epochs", "2", "--resume", Checkpoint(run, 1));
        Assert.True(code == 0, err);
        Assert.Contains("resumed", output);
        byte[] after = File.ReadAllBytes(metrics);
        Assert.Equal(first, after[..first.Length]);
        Assert.Equal(2, File.ReadAllLines(metrics).Length);
        Assert.True(File.Exists(Checkpoint(run, 2)));
    }

    [Fact]
    public void ResumeOfAnEarlierEpochIntoItsOwnRun_IsRefused_OverwriteRewinds_AndRetrainsBitIdentically()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Train("--epochs", "3", "--out", run).Code);
        string[] lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        string[] before = Snapshot(_dir);

        var (code, _, err) = Train("--epochs", "2", "--resume", Checkpoint(run, 1));
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "epoch 3", $"--resume {Checkpoint(run, 3)}", "--out", "--overwrite");
        Assert.Equal(before, Snapshot(_dir));

        (code, _, err) = Train("--epochs", "2", "--resume", Checkpoint(run, 1), "--overwrite");
        Assert.True(code == 0, err);
        Assert.Equal(["epoch-1.ckpt", "epoch-2.ckpt"], Directory.GetFiles(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order());
        string[] rewound = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(2, rewound.Length);
        Assert.Equal(lines[0], rewound[0]);
        // Same losses as the first time through epoch 2 (timings differ).
        Assert.Equal(lines[1].Split("\"samples_per_sec\"")[0], rewound[1].Split("\"samples_per_sec\"")[0]);
    }

    [Fact]
    public void ResumeIntoANewOut_StartsAFreshFolder_AndLeavesTheOldRunAlone()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Train("--epochs", "1", "--out", run).Code);
        string[] before = Snapshot(run);
        string branch = Path.Combine(_dir, "branch");
        var (code, _, err) = Train("--epochs", "2", "--resume", Checkpoint(run, 1), "--out", branch);
        Assert.True(code == 0, err);
        Assert.Equal(before, Snapshot(run));
        Assert.Equal(["epoch-2.ckpt"], Directory.GetFiles(Path.Combine(branch, "checkpoints")).Select(Path.GetFileName));
    }

    [Fact]
    public void DefaultFolder_GetsASuffixInsteadOfColliding()
    {
        var now = new DateTime(2026, 1, 2, 3, 4, 5);
        string first = RunFolder.NewDefault(_dir, now);
        Assert.Equal(Path.Combine(_dir, "20260102-030405"), first);
        Directory.CreateDirectory(first);
        string second = RunFolder.NewDefault(_dir, now);
        Assert.Equal(first + "-2", second);
        File.WriteAllText(second, ""); // a file of that name counts as taken too
        Assert.Equal(first + "-3", RunFolder.NewDefault(_dir, now));
    }

    [Fact]
    public void Same_FollowsSymbolicLinks()
    {
        string real = Path.Combine(_dir, "real-run");
        Directory.CreateDirectory(Path.Combine(real, "checkpoints"));
        string link = Path.Combine(_dir, "link-to-run");
        Directory.CreateSymbolicLink(link, real);
        Assert.True(RunFolder.Same(link, real));
        Assert.True(RunFolder.Same(Path.Combine(link, "checkpoints", ".."), real + "/"));
        Assert.False(RunFolder.Same(link, Path.Combine(_dir, "other")));
        Assert.Equal(RunFolder.RealPath(real), RunFolder.RealPath(RunFolder.RunOf(Path.Combine(link, "checkpoints", "epoch-1.ckpt"))!));
    }

    [Fact]
    public void ResumeAfterACrash_DeletesTheTemporaryFileTheCrashLeft()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Train("--epochs", "1", "--out", run).Code);
        // What a kill -9 in the middle of saving epoch 2 leaves behind: a temporary file of a process that is gone.
        // Process ids are at most 2^22 on Linux, so this one never runs.
        string stale = Path.Combine(run, "checkpoints", ".epoch-2.ckpt.99999999.tmp");
        byte[] torn = new byte[1000];                                   // a checkpoint cut off after its header
        System.Text.Encoding.ASCII.GetBytes("BPCKPT01").CopyTo(torn, 0);
        File.WriteAllBytes(stale, torn);
        var (code, _, err) = Train("--epochs", "2", "--resume", Checkpoint(run, 1));
        Assert.True(code == 0, err);
        Assert.False(File.Exists(stale));
        Assert.Equal(["epoch-1.ckpt", "epoch-2.ckpt"], Directory.GetFiles(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order());
    }
}
