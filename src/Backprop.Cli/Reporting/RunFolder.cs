using System.Globalization;

namespace Backprop.Cli.Reporting;

/// <summary>
/// The folder of a training run (metrics.jsonl, curves.png, checkpoints/epoch-N.ckpt and, after a stop
/// inside epoch N, checkpoints/epoch-N-step-K.ckpt): finding the
/// checkpoints a folder holds, choosing a fresh default folder, and checking paths before anything is
/// created, so that an earlier run is never overwritten or mixed with a new one by accident.
/// </summary>
internal static class RunFolder
{
    /// <summary>The per-epoch metrics file in a run folder.</summary>
    public const string MetricsFile = "metrics.jsonl";

    /// <summary>The loss and accuracy plot in a run folder.</summary>
    public const string CurvesFile = "curves.png";

    /// <summary>Every optimizer step's training loss (<see cref="StepLog"/>), for the per-step curve.</summary>
    public const string StepsFile = "steps.csv";

    /// <summary>The sub-folder that holds the checkpoints.</summary>
    public const string CheckpointsFolder = "checkpoints";

    /// <summary>The checkpoint of <paramref name="epoch"/> in the run folder <paramref name="dir"/>.</summary>
    public static string CheckpointPath(string dir, int epoch) => CheckpointPath(dir, new RunPosition(epoch, 0));

    /// <summary>The checkpoint of a position: epoch-N.ckpt after N epochs, epoch-N-step-K.ckpt K steps into epoch N.</summary>
    public static string CheckpointPath(string dir, RunPosition at)
        => Path.Combine(dir, CheckpointsFolder, at.Step == 0
            ? string.Create(CultureInfo.InvariantCulture, $"epoch-{at.Epochs}.ckpt")
            : string.Create(CultureInfo.InvariantCulture, $"epoch-{at.Epochs + 1}-step-{at.Step}.ckpt"));

    /// <summary>The position a checkpoint file name stands for (see <see cref="CheckpointPath(string, RunPosition)"/>), or null for another name.</summary>
    public static RunPosition? PositionOf(string fileName)
    {
        string name = Path.GetFileName(fileName);
        if (!name.StartsWith("epoch-", StringComparison.Ordinal) || !name.EndsWith(".ckpt", StringComparison.Ordinal)) return null;
        string[] parts = name["epoch-".Length..^".ckpt".Length].Split("-step-");
        const NumberStyles digits = NumberStyles.None;
        if (parts.Length == 1 && int.TryParse(parts[0], digits, CultureInfo.InvariantCulture, out int epoch))
            return new RunPosition(epoch, 0);
        if (parts.Length == 2 && int.TryParse(parts[0], digits, CultureInfo.InvariantCulture, out int inEpoch) && inEpoch >= 1
            && int.TryParse(parts[1], digits, CultureInfo.InvariantCulture, out int step) && step >= 1)
            return new RunPosition(inEpoch - 1, step);
        return null;
    }

    /// <summary>A new folder &lt;timestamp&gt; under <paramref name="parent"/> (absolute), with a -2, -3, … suffix if that name is taken.</summary>
    public static string NewDefault(string parent, DateTime now)
    {
        string stem = Path.Combine(parent, now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        string path = stem;
        for (int i = 2; Path.Exists(path); i++)
            path = $"{stem}-{i.ToString(CultureInfo.InvariantCulture)}";
        return Path.GetFullPath(path);
    }

    /// <summary>The run folder a checkpoint belongs to (the parent of its checkpoints/ folder), or null if it lies elsewhere.</summary>
    public static string? RunOf(string checkpoint)
    {
        string? parent = Path.GetDirectoryName(Path.GetFullPath(checkpoint));
        if (parent is null || Path.GetFileName(parent) != CheckpointsFolder)
            return null;
        return Path.GetDirectoryName(parent);
    }

    /// <summary>Whether two folder paths name the same folder (absolute, with symbolic links followed, so --overwrite never mistakes a run for another).</summary>
    public static bool Same(string a, string b)
        => string.Equals(Path.TrimEndingDirectorySeparator(RealPath(a)), Path.TrimEndingDirectorySeparator(RealPath(b)),
                         OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>The absolute path with every symbolic link along it followed (parts that do not exist are kept as written).</summary>
    internal static string RealPath(string path, int depth = 0)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        string? parent = Path.GetDirectoryName(full);
        if (parent is null || depth > 40) return full; // the root, or a link cycle: give up following
        string here = Path.Combine(RealPath(parent, depth + 1), Path.GetFileName(full));
        try
        {
            if (new FileInfo(here).ResolveLinkTarget(returnFinalTarget: true) is { } target)
                return RealPath(target.FullName, depth + 1);
        }
        catch (IOException)
        {
            // a broken or looping link: compare it as written
        }
        return here;
    }

    /// <summary>What of a run <paramref name="dir"/> already holds ("metrics.jsonl, checkpoints/"), or null if nothing.</summary>
    public static string? ExistingRun(string dir)
    {
        var found = new List<string>();
        if (Path.Exists(Path.Combine(dir, MetricsFile))) found.Add(MetricsFile);
        if (Path.Exists(Path.Combine(dir, CheckpointsFolder))) found.Add(CheckpointsFolder + "/");
        return found.Count == 0 ? null : string.Join(", ", found);
    }

    /// <summary>The positions of the checkpoints (epoch-N.ckpt, epoch-N-step-K.ckpt) in <paramref name="dir"/>, ascending.</summary>
    public static List<RunPosition> CheckpointPositions(string dir)
    {
        var positions = new List<RunPosition>();
        string folder = Path.Combine(dir, CheckpointsFolder);
        if (!Directory.Exists(folder)) return positions;
        try
        {
            foreach (string file in Directory.EnumerateFiles(folder, "epoch-*.ckpt"))
                if (PositionOf(file) is RunPosition at) positions.Add(at);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot list {folder}: {e.Message}", inner: e);
        }
        positions.Sort();
        return positions;
    }

    /// <summary>The newest checkpoint in <paramref name="dir"/>, or null if it holds none.</summary>
    public static string? LatestCheckpoint(string dir)
        => CheckpointPositions(dir) is [.., RunPosition last] ? CheckpointPath(dir, last) : null;

    /// <summary>
    /// Refuses a run folder that cannot be a folder: an existing file, or a path under a file.
    /// Creates nothing; permissions are checked when the folder is created.
    /// </summary>
    /// <exception cref="CliException">The path names a file or lies under one.</exception>
    public static void CheckCanBeFolder(string dir, string flag)
    {
        if (File.Exists(dir))
            throw new CliException($"{flag} {dir} is a file, not a folder; choose a folder for the run's outputs");
        for (string? ancestor = Path.GetDirectoryName(Path.GetFullPath(dir)); ancestor is not null; ancestor = Path.GetDirectoryName(ancestor))
        {
            if (Directory.Exists(ancestor)) return;
            if (File.Exists(ancestor))
                throw new CliException($"{flag} {dir} cannot be created: {ancestor} is a file; choose a folder that is not under a file");
        }
    }

    /// <summary>Checks that <paramref name="path"/> given for <paramref name="flag"/> is an existing file, not a folder.</summary>
    /// <exception cref="CliException">No such file, or a folder (the message suggests the newest checkpoint in it).</exception>
    public static string RequireFile(string flag, string path)
    {
        if (File.Exists(path))
            return path;
        if (!Directory.Exists(path))
            throw new CliException($"{flag}: no such file: {path}");
        string? latest = LatestCheckpoint(path);
        throw new CliException(latest is null
            ? $"{flag}: {path} is a folder; pass a checkpoint file (a run's checkpoints/epoch-N.ckpt)"
            : $"{flag}: {path} is a folder; pass a checkpoint file, e.g. {flag} {latest}");
    }

    /// <summary>Creates the run folder and its checkpoints/ sub-folder.</summary>
    /// <exception cref="CliException">The folder cannot be created (permissions, a file in the way, a full disk).</exception>
    public static void Create(string dir, string flag)
    {
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, CheckpointsFolder));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{flag} {dir}: cannot create the run folder: {e.Message}", inner: e);
        }
    }

    /// <summary>Deletes the files a run writes (metrics, plot, epoch checkpoints) from <paramref name="dir"/>; other files stay.</summary>
    public static void Clear(string dir) => DropAfter(dir, default, deleteLogs: true);

    /// <summary>Deletes the checkpoints after <paramref name="position"/>, and with <paramref name="deleteLogs"/> the metrics and plot.</summary>
    /// <exception cref="CliException">A file could not be deleted.</exception>
    public static void DropAfter(string dir, RunPosition position, bool deleteLogs = false)
    {
        try
        {
            if (deleteLogs)
            {
                File.Delete(Path.Combine(dir, MetricsFile));
                File.Delete(Path.Combine(dir, CurvesFile));
                File.Delete(Path.Combine(dir, StepsFile));
                File.Delete(Path.Combine(dir, GradientReport.JsonFile));
                File.Delete(Path.Combine(dir, GradientReport.PlotFile));
            }
            string folder = Path.Combine(dir, CheckpointsFolder);
            if (!Directory.Exists(folder)) return;
            foreach (RunPosition at in CheckpointPositions(dir))
                if (at > position) File.Delete(CheckpointPath(dir, at));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--overwrite: cannot delete the earlier run's files in {dir}: {e.Message}", inner: e);
        }
    }
}
