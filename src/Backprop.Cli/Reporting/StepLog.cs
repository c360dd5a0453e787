using System.Globalization;
using System.Text;

namespace Backprop.Cli.Reporting;

/// <summary>One optimizer step's training loss: step <see cref="Step"/> of <see cref="Steps"/> in epoch <see cref="Epoch"/> (both from 1).</summary>
internal readonly record struct StepLoss(int Epoch, int Step, int Steps, double Loss)
{
    /// <summary>Where the step lies in epochs: epoch − 1 + step / steps (1.0 after the first epoch's last step).</summary>
    public double X => Epoch - 1 + (double)Step / Steps;

    /// <summary>The run position after this step: inside the epoch, or the epoch's end after its last step.</summary>
    public RunPosition Position => Step >= Steps ? new RunPosition(Epoch, 0) : new RunPosition(Epoch - 1, Step);
}

/// <summary>
/// steps.csv: the training loss of every optimizer step ("epoch,step,steps,loss"), for the smoothed per-step loss
/// curve. Steps are kept in memory as they come and appended to the file with each epoch's metrics line; a resumed
/// run keeps the steps up to its checkpoint and drops the rest (the run repeats them).
/// </summary>
internal sealed class StepLog
{
    /// <summary>The header line.</summary>
    public const string Header = "epoch,step,steps,loss";

    private readonly string _path;
    private readonly List<StepLoss> _pending = [];

    /// <summary>Reads the steps an existing file holds (none if there is no file); writes nothing.</summary>
    /// <exception cref="CliException">The file cannot be read or holds a line that is not a step record.</exception>
    public StepLog(string path)
    {
        _path = path;
        try
        {
            if (!File.Exists(path)) return;
            foreach (string line in File.ReadLines(path))
            {
                if (string.IsNullOrWhiteSpace(line) || line == Header) continue;
                string[] f = line.Split(',');
                if (f.Length != 4
                    || !int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out int epoch) || epoch < 1
                    || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int step) || step < 1
                    || !int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out int steps) || steps < step
                    || !double.TryParse(f[3], NumberStyles.Float, CultureInfo.InvariantCulture, out double loss))
                    throw new CliException($"{path}: cannot read an existing step line: {line}");
                Entries.Add(new StepLoss(epoch, step, steps, loss));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read the existing step losses: {e.Message}", inner: e);
        }
    }

    /// <summary>Steps recorded so far (the file's and the pending ones), in order.</summary>
    public List<StepLoss> Entries { get; } = [];

    /// <summary>Records a step (written by the next <see cref="Flush"/>).</summary>
    public void Add(StepLoss step)
    {
        Entries.Add(step);
        _pending.Add(step);
    }

    /// <summary>Forgets the steps after <paramref name="position"/> and rewrites the file without them (through a temporary file and a rename).</summary>
    public void DropAfter(RunPosition position)
    {
        if (Entries.RemoveAll(s => s.Position > position) == 0) return;
        _pending.Clear();
        var sb = new StringBuilder(Header).Append('\n');
        foreach (StepLoss s in Entries) sb.Append(Format(s)).Append('\n');
        string temp = _path + ".tmp";
        try
        {
            File.WriteAllText(temp, sb.ToString());
            File.Move(temp, _path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot rewrite {_path}: {e.Message}", inner: e);
        }
    }

    /// <summary>Appends the steps recorded since the last flush to the file (creating it with its header).</summary>
    /// <exception cref="CliException">The file cannot be written.</exception>
    public void Flush()
    {
        var sb = new StringBuilder();
        if (!File.Exists(_path)) sb.Append(Header).Append('\n');
        foreach (StepLoss s in _pending) sb.Append(Format(s)).Append('\n');
        try
        {
            File.AppendAllText(_path, sb.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {_path}: {e.Message}", inner: e);
        }
        _pending.Clear();
    }

    private static string Format(StepLoss s)
        => string.Create(CultureInfo.InvariantCulture, $"{s.Epoch},{s.Step},{s.Steps},{s.Loss:R}");
}
