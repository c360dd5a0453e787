using Backprop.Cli;
using Backprop.Cli.Reporting;
using Backprop.IO;
using static Backprop.Tests.Cli.CliHarness;

namespace Backprop.Tests.Cli;

/// <summary>
/// Everything a user can get wrong gives one short line naming the flag, file or value, exit 2 for a bad
/// command line and 1 for a failure while running, never a stack trace, and leaves the disk as it was.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class CliErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cli-errors").FullName;

    public void Dispose()
    {
        if (!OperatingSystem.IsWindows())
            foreach (string d in Directory.EnumerateDirectories(_dir, "*", SearchOption.AllDirectories))
                File.SetUnixFileMode(d, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.Delete(_dir, recursive: true);
    }

    private static readonly string[] Quick = ["--train-limit", "100", "--batch-size", "100", "--threads", "1"];

    private (int Code, string Out, string Err) Train(params string[] args) => Run(["train", .. Quick, .. args]);

    [Theory]
    [InlineData("--lr", "abc")]
    [InlineData("--lr", "inf")]
    [InlineData("--lr", "Infinity")]
    [InlineData("--lr", "NaN")]
    [InlineData("--lr", "-1")]
    [InlineData("--lr", "0")]
    [InlineData("--lr-decay", "abc")]
    [InlineData("--train-limit", "abc")]
    [InlineData("--train-limit", "99999999999")]
    [InlineData("--train-limit", "-5")]
    [InlineData("--train-limit", "1.5")]
    [InlineData("--epochs", "0")]
    [InlineData("--epochs", "1e3")]
    [InlineData("--batch-size", "0")]
    [InlineData("--batch-size", "abc")]
    [InlineData("--threads", "0")]
    [InlineData("--seed", "-1")]
    [InlineData("--seed", "abc")]
    [InlineData("--seed", "18446744073709551616")]
    [InlineData("--model", "resnet")]
    [InlineData("--optimizer", "lbfgs")]
    [InlineData("--data-dir", " ")]
    [InlineData("--resume", " ")]
    public void BadFlagValue_IsOneLineUsageError_NamingFlagAndValue_AndCreatesNothing(string flag, string value)
    {
        var (code, output, err) = Run("train", "--out", Path.Combine(_dir, "out"), flag, value);
        Assert.Equal(CliApp.UsageError, code);
        AssertShortError(err, maxLines: 2, flag, value);
        Assert.Contains("Usage: backprop train", err);
        Assert.Equal("", output);
        Assert.Empty(Snapshot(_dir));
    }

    [Fact]
    public void EmptyOut_IsUsageError()
    {
        var (code, _, err) = Run("train", "--out", "");
        Assert.Equal(CliApp.UsageError, code);
        AssertShortError(err, maxLines: 2, "--out");
    }

    [Theory]
    [InlineData("train", "--bogus")]
    [InlineData("eval", "--checkpoint")]
    [InlineData("frobnicate", "frobnicate")]
    [InlineData("bench", "xyz")]
    public void BadCommandLine_IsShortUsageError(string command, string named)
    {
        string[] args = command switch
        {
            "train" => ["train", "--bogus"],
            "eval" => ["eval"],
            "bench" => ["bench", "xyz"],
            _ => [command],
        };
        var (code, _, err) = Run(args);
        Assert.Equal(CliApp.UsageError, code);
        AssertShortError(err, maxLines: 2, named, "--help");
    }

    [Fact]
    public void OutIsAFile_IsRefused_AndTheFileIsUnchanged()
    {
        string file = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(file, "mine");
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--out", file);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "--out", file, "is a file");
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void OutUnderAFile_IsRefused()
    {
        string file = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(file, "mine");
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--out", Path.Combine(file, "run", "deeper"));
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "--out", file);
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void OutThatCannotBeCreated_IsOneLineFailure()
    {
        // A read-only folder stops only an unprivileged user; as root, a regular file in the path stands in.
        string target;
        if (Environment.IsPrivilegedProcess || OperatingSystem.IsWindows())
        {
            File.WriteAllText(Path.Combine(_dir, "blocker"), "");
            target = Path.Combine(_dir, "blocker", "run");
        }
        else
        {
            string locked = Directory.CreateDirectory(Path.Combine(_dir, "locked")).FullName;
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            target = Path.Combine(locked, "run");
        }
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--out", target);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "--out", target);
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void ResumeMissingFile_IsNamed()
    {
        string missing = Path.Combine(_dir, "none.ckpt");
        var (code, _, err) = Train("--resume", missing);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "--resume", missing);
        Assert.Empty(Snapshot(_dir));
    }

    [Fact]
    public void ResumeOfAFolder_SuggestsItsLatestCheckpoint()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Train("--epochs", "2", "--out", run).Code);
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--epochs", "3", "--resume", run);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "--resume", "is a folder", Path.Combine(run, "checkpoints", "epoch-2.ckpt"));
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void ResumeOfAFileOutsideARun_NeverTouchesItsFolder()
    {
        // A checkpoint outside a run's checkpoints/ folder (one directly under / is the extreme case) has no
        // run to continue: the resumed run would get a new folder, but here loading fails first.
        Assert.Null(RunFolder.RunOf("/epoch-1.ckpt"));
        Assert.Null(RunFolder.RunOf(Path.Combine(_dir, "epoch-1.ckpt")));
        string junk = Path.Combine(_dir, "epoch-1.ckpt");
        File.WriteAllText(junk, "not a checkpoint");
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--resume", junk);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, junk);
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void FailedResume_CreatesNothingBesideTheCheckpoint()
    {
        string checkpoints = Directory.CreateDirectory(Path.Combine(_dir, "run", "checkpoints")).FullName;
        string junk = Path.Combine(checkpoints, "epoch-3.ckpt");
        File.WriteAllBytes(junk, new byte[64]);
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--resume", junk);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, junk);
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void ResumeWithOtherSettings_IsRefused_AndTheRunIsUnchanged()
    {
        string run = Path.Combine(_dir, "run");
        Assert.Equal(0, Train("--epochs", "1", "--out", run).Code);
        string[] before = Snapshot(_dir);
        var (code, _, err) = Train("--epochs", "2", "--optimizer", "sgd", "--resume", Path.Combine(run, "checkpoints", "epoch-1.ckpt"));
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "optimizer", "epoch-1.ckpt");
        Assert.Equal(before, Snapshot(_dir));
    }

    [Fact]
    public void MissingDataDirectory_CreatesNoRunFolder()
    {
        var (code, _, err) = Train("--data-dir", Path.Combine(_dir, "nowhere"), "--out", Path.Combine(_dir, "x"));
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "nowhere", "--data-dir");
        Assert.Empty(Snapshot(_dir));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("folder")]
    [InlineData("junk")]
    public void EvalOfABadCheckpoint_IsOneLine(string kind)
    {
        string path = Path.Combine(_dir, kind);
        if (kind == "folder") Directory.CreateDirectory(path);
        if (kind == "junk") File.WriteAllText(path, "BPCKPT01 but nothing after");
        var (code, _, err) = Run("eval", "--checkpoint", path);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, path);
    }

    [Fact]
    public void MetricsThatCannotBeWrittenMidRun_StopWithOneLine()
    {
        // While epoch 1's checkpoint is being saved, metrics.jsonl turns into a folder (as a full disk or a
        // lost permission would stop the write); the checkpoint itself is saved.
        string run = Path.Combine(_dir, "run");
        string metrics = Path.Combine(run, "metrics.jsonl");
        Checkpoint.InterruptSaveForTests = _ =>
        {
            File.Delete(metrics);
            Directory.CreateDirectory(metrics);
        };
        (int Code, string Out, string Err) result;
        try
        {
            result = Train("--epochs", "2", "--out", run);
        }
        finally
        {
            Checkpoint.InterruptSaveForTests = null;
        }
        Assert.Equal(CliApp.Failure, result.Code);
        AssertShortError(result.Err, maxLines: 1, metrics);
        Assert.True(Checkpoint.TryLoad(Path.Combine(run, "checkpoints", "epoch-1.ckpt"), out _, out string? error), error);
    }

    [Fact]
    public void UnexpectedException_IsOneLinePointingToVerbose_AndVerboseShowsTheTrace()
    {
        string[] args = ["train", .. Quick, "--epochs", "1", "--out", Path.Combine(_dir, "a")];
        Checkpoint.InterruptSaveForTests = _ => throw new InvalidOperationException("simulated bug");
        (int Code, string Out, string Err) quiet, verbose;
        try
        {
            quiet = Run(args);
            verbose = Run([.. args[..^1], Path.Combine(_dir, "b"), "--verbose"]);
        }
        finally
        {
            Checkpoint.InterruptSaveForTests = null;
        }
        Assert.Equal(CliApp.Failure, quiet.Code);
        AssertShortError(quiet.Err, maxLines: 2, "simulated bug", "--verbose", CliApp.VerboseVariable);
        Assert.Equal(CliApp.Failure, verbose.Code);
        Assert.Contains("simulated bug", verbose.Err);
        Assert.Contains("   at ", verbose.Err);
    }

    [Fact]
    public void Verbose_ShowsTheCauseOfAnExpectedFailure()
    {
        string junk = Path.Combine(_dir, "junk.ckpt");
        File.WriteAllText(junk, "not a checkpoint");
        var (code, _, err) = Run("eval", "--checkpoint", junk, "--verbose");
        Assert.Equal(CliApp.Failure, code);
        Assert.StartsWith("backprop: error: ", err);
        Assert.Contains("InvalidDataException", err);
        Assert.Contains("   at ", err);
    }

    [Fact]
    public void WeightsThatOverflowInTheLastStep_StopTheRunWithOneLine_AndNoCheckpoint()
    {
        // One step per epoch: the training loss is finite, the update makes the weights infinite, and the
        // evaluation after the epoch sees it.
        string run = Path.Combine(_dir, "run");
        var (code, _, err) = Train("--lr", "1e308", "--optimizer", "sgd", "--epochs", "2", "--out", run);
        Assert.Equal(CliApp.Failure, code);
        AssertShortError(err, maxLines: 1, "epoch 1", "--lr");
        Assert.Empty(Directory.GetFiles(Path.Combine(run, "checkpoints")));
    }

    [Fact]
    public void VerboseEnvironmentVariable_ShowsTheCauseToo()
    {
        // Only CliApp reads the variable, and the CLI tests outside this collection (explain) raise no
        // exception with a cause, so setting it here cannot change another test's output.
        string junk = Path.Combine(_dir, "junk.ckpt");
        File.WriteAllText(junk, "not a checkpoint");
        Environment.SetEnvironmentVariable(CliApp.VerboseVariable, "1");
        (int Code, string Out, string Err) result;
        try
        {
            result = Run("eval", "--checkpoint", junk);
        }
        finally
        {
            Environment.SetEnvironmentVariable(CliApp.VerboseVariable, null);
        }
        Assert.Equal(CliApp.Failure, result.Code);
        Assert.Contains("InvalidDataException", result.Err);
        Assert.Contains("   at ", result.Err);
        AssertShortError(Run("eval", "--checkpoint", junk).Err, maxLines: 1, junk);
    }
}
