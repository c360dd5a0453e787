using Backprop.IO;
using Backprop.Tensors;
using static Backprop.IO.Checkpoint;

namespace Backprop.Tests.IO;

/// <summary>
/// Crash safety without timing luck: a save is failed (an exception) or frozen (a look at the disk,
/// which is what a kill leaves) at each known point inside Checkpoint.Save, and the file at the
/// target path must always load; temporary files a killed save left behind are removed by the next save.
/// </summary>
public class CheckpointCrashTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ckpt-crash").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A pid no process has: IsTempName accepts at most 9 digits, Linux pids stay below 2^22.
    private const int DeadPid = 999_999_999;

    private static Checkpoint Sample(float first) => new(
        [new("model.weight", Tensor.FromArray(new[] { first, 2f, 3f }, [3])), new("step", Tensor.Scalar(5, DType.Int64))],
        new() { ["epoch"] = first.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    private static float FirstWeight(string path) => Load(path).Get("model.weight").ToArray<float>()[0];

    private static void WithFault(Action<SavePoint, string> fault, Action save)
    {
        SaveFaultForTests = fault;
        try { save(); }
        finally { SaveFaultForTests = null; }
    }

    // SavePoint is internal, so the theories take its name.
    public static TheoryData<string> Points => [.. Enum.GetNames<SavePoint>()];

    [Theory]
    [MemberData(nameof(Points))]
    public void FailureAtEachPoint_LeavesALoadableCheckpoint_AndNoTempFile(string pointName)
    {
        var point = Enum.Parse<SavePoint>(pointName);
        string path = Path.Combine(_dir, "epoch-1.ckpt");
        Sample(1).Save(path);
        var seen = new List<SavePoint>();
        WithFault((p, _) =>
        {
            seen.Add(p);
            if (p == point) throw new InvalidOperationException($"simulated crash at {p}");
        }, () => Assert.Throws<InvalidOperationException>(() => Sample(2).Save(path)));

        Assert.Equal(point, seen[^1]);
        // Before the rename the previous checkpoint is untouched; after it the new one is complete.
        Assert.Equal(point == SavePoint.AfterRename ? 2f : 1f, FirstWeight(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Theory]
    [MemberData(nameof(Points))]
    public void DiskErrorAtEachPoint_IsAnIOException_AndTheCheckpointStillLoads(string pointName)
    {
        var point = Enum.Parse<SavePoint>(pointName);
        string path = Path.Combine(_dir, "epoch-1.ckpt");
        Sample(1).Save(path);
        WithFault((p, _) => { if (p == point) throw new IOException("no space left on device"); },
            () => Assert.Throws<IOException>(() => Sample(2).Save(path)));
        Assert.True(TryLoad(path, out _, out string? error), error);
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Theory]
    [MemberData(nameof(Points))]
    public void KillAtEachPoint_WouldLeaveTheTargetLoadable_AndTheNextSaveRemovesTheTempFile(string pointName)
    {
        var point = Enum.Parse<SavePoint>(pointName);
        string path = Path.Combine(_dir, "epoch-3.ckpt");
        Sample(1).Save(path);
        string stale = Path.Combine(_dir, $".epoch-3.ckpt.{DeadPid}.tmp");
        bool targetLoaded = false;
        WithFault((p, temp) =>
        {
            if (p != point) return;
            // The disk as a kill -9 now would leave it: the target loads (old or new), and the temp file,
            // if still there, holds a prefix of the new checkpoint. Keep that prefix as a dead process's leftover.
            targetLoaded = TryLoad(path, out _, out _);
            long written = p == SavePoint.AfterRename ? -1 : new FileInfo(temp).Length;
            if (written >= 0) File.WriteAllBytes(stale, written == 0 ? [] : Prefix(p == SavePoint.BeforeRename ? temp : null, written));
        }, () => Sample(2).Save(path));
        Assert.True(targetLoaded);
        Assert.Equal(2f, FirstWeight(path));
        Assert.Equal(point != SavePoint.AfterRename, File.Exists(stale));

        Sample(3).Save(Path.Combine(_dir, "epoch-4.ckpt")); // the next save into the folder
        Assert.False(File.Exists(stale));
        Assert.Equal(3f, FirstWeight(Path.Combine(_dir, "epoch-4.ckpt")));
    }

    // The temp file is locked while it is written; before the rename it is closed and can be copied.
    private static byte[] Prefix(string? readable, long length) =>
        readable is null ? [.. "BPCKPT01"u8.ToArray(), .. new byte[length - 8]] : File.ReadAllBytes(readable)[..(int)length];

    [Fact]
    public void NextSave_RemovesOnlyTheLibrarysOwnStaleTempFiles()
    {
        byte[] torn = [.. "BPCKPT01"u8.ToArray(), 1, 2, 3];
        string[] removed =
        [
            $".epoch-1.ckpt.{DeadPid}.tmp",                  // a killed process's torn save
            $".epoch-2.ckpt.{DeadPid}.tmp",                  // killed before writing anything (empty)
            $".epoch-9.ckpt.{Environment.ProcessId}.tmp",    // this pid, not being written (a reused pid after a restart)
            $".weights.bin.{DeadPid}.tmp",                   // any name, when it is the file being saved now
        ];
        string[] kept =
        [
            $".notes.txt.{DeadPid}.tmp",                     // not a checkpoint name
            $".other.ckpt.{DeadPid}.tmp.bak",
            $"epoch-1.ckpt.{DeadPid}.tmp",                   // not hidden: not our pattern
            ".epoch-1.ckpt.12ab.tmp",                        // not a pid
            $".epoch-5.ckpt.{DeadPid}.tmp",                  // our pattern, but not checkpoint content
            "epoch-1.ckpt",
        ];
        foreach (string name in removed)
            File.WriteAllBytes(Path.Combine(_dir, name), name.Contains("epoch-2") ? [] : torn);
        foreach (string name in kept)
            File.WriteAllBytes(Path.Combine(_dir, name), name.Contains("epoch-5") ? "someone else's data"u8.ToArray() : torn);

        Sample(1).Save(Path.Combine(_dir, "weights.bin"));

        foreach (string name in removed) Assert.False(File.Exists(Path.Combine(_dir, name)), name);
        foreach (string name in kept) Assert.True(File.Exists(Path.Combine(_dir, name)), name);
    }

    [Fact]
    public void TempFileHeldOpenByAWriter_IsKept_AndTheOthersAreStillRemoved()
    {
        string locked = Path.Combine(_dir, $".a.ckpt.{DeadPid}.tmp");
        string[] stale = [Path.Combine(_dir, $".b.ckpt.{DeadPid}.tmp"), Path.Combine(_dir, $".c.ckpt.{DeadPid}.tmp")];
        foreach (string p in stale.Append(locked)) File.WriteAllBytes(p, "BPCKPT01"u8.ToArray());
        using (new FileStream(locked, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) // a writer on another pid namespace, say
            Sample(1).Save(Path.Combine(_dir, "epoch-1.ckpt"));
        Assert.True(File.Exists(locked));
        foreach (string p in stale) Assert.False(File.Exists(p), p);
    }

    [Fact]
    public void StaleTempOfARunningProcess_IsKept()
    {
        // pid 1 always runs; if this test host is pid 1, the own-pid rule applies instead.
        if (Environment.ProcessId == 1) return;
        string live = Path.Combine(_dir, ".epoch-1.ckpt.1.tmp");
        File.WriteAllBytes(live, "BPCKPT01"u8.ToArray());
        Sample(1).Save(Path.Combine(_dir, "epoch-2.ckpt"));
        Assert.True(File.Exists(live));
    }

    [Fact]
    public void ASaveStartedWhileAnotherIsWriting_DoesNotTakeItsTempFile()
    {
        string first = Path.Combine(_dir, "epoch-1.ckpt");
        string second = Path.Combine(_dir, "epoch-2.ckpt");
        bool nested = false;
        WithFault((p, temp) =>
        {
            if (p != SavePoint.MidWrite || nested) return;
            nested = true;
            Sample(7).Save(second); // same process, same folder, while `temp` is half written
            Assert.True(File.Exists(temp));
        }, () => Sample(1).Save(first));
        Assert.True(nested);
        Assert.Equal(1f, FirstWeight(first));
        Assert.Equal(7f, FirstWeight(second));
    }

    [Theory]
    [InlineData(".epoch-1.ckpt.123.tmp", "x", true, 123)]
    [InlineData(".model.bin.42.tmp", "model.bin", true, 42)]
    [InlineData(".model.bin.42.tmp", "epoch-1.ckpt", false, 0)]
    [InlineData(".ckpt.1.tmp", "x", false, 0)]
    [InlineData(".a.ckpt.1234567890.tmp", "x", false, 0)]
    [InlineData(".a.ckpt..tmp", "x", false, 0)]
    public void IsTempName_MatchesOnlyTheSavePattern(string name, string fileName, bool expected, int pid)
    {
        Assert.Equal(expected, IsTempName(name, fileName, out int got));
        Assert.Equal(pid, got);
    }
}
