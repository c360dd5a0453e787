using System.Text;
using System.Text.Json;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Reporting;

/// <summary>
/// metrics.jsonl: one JSON object per epoch with exactly the keys epoch, train_loss,
/// train_accuracy, test_loss, test_accuracy, samples_per_sec, seconds. A resumed run keeps the
/// lines already there and appends its own; the file is rewritten (atomically) only when an
/// explicit --overwrite drops the epochs after the resumed one.
/// </summary>
internal sealed class MetricsLog
{
    private readonly string _path;

    /// <summary>Reads the epochs an existing file holds (none if there is no file); writes nothing.</summary>
    /// <exception cref="CliException">The file cannot be read or holds a line that is not a metrics record.</exception>
    public MetricsLog(string path)
    {
        _path = path;
        try
        {
            if (File.Exists(path))
                foreach (string line in File.ReadAllLines(path))
                    if (!string.IsNullOrWhiteSpace(line))
                        Entries.Add(Parse(line));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read the existing metrics: {e.Message}", inner: e);
        }
    }

    /// <summary>Epochs logged so far, in order.</summary>
    public List<EpochMetrics> Entries { get; } = [];

    /// <summary>The highest epoch logged, 0 if none.</summary>
    public int LastEpoch => Entries.Count == 0 ? 0 : Entries.Max(m => m.Epoch);

    /// <summary>Creates the file empty if it does not exist yet, so a run folder that cannot be written fails before training.</summary>
    public void Touch()
    {
        try
        {
            if (!File.Exists(_path))
                File.WriteAllText(_path, "");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {_path}: {e.Message}", inner: e);
        }
    }

    /// <summary>Drops the lines of epochs after <paramref name="epoch"/>, rewriting the file through a temporary file and a rename.</summary>
    public void DropAfter(int epoch)
    {
        if (Entries.RemoveAll(m => m.Epoch > epoch) == 0) return;
        var sb = new StringBuilder();
        foreach (EpochMetrics m in Entries) sb.Append(Format(m)).Append('\n');
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

    /// <summary>Adds one epoch's line at the end of the file.</summary>
    /// <exception cref="CliException">The file cannot be written (permissions, a full disk).</exception>
    public void Append(EpochMetrics m)
    {
        try
        {
            File.AppendAllText(_path, Format(m) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {_path}: {e.Message}; the checkpoint of epoch {m.Epoch} was saved", inner: e);
        }
        Entries.Add(m);
    }

    /// <summary>One epoch as a JSON line (without the line break).</summary>
    public static string Format(EpochMetrics m)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", m.Epoch);
            w.WriteNumber("train_loss", m.TrainLoss);
            w.WriteNumber("train_accuracy", m.TrainAccuracy);
            w.WriteNumber("test_loss", m.TestLoss);
            w.WriteNumber("test_accuracy", m.TestAccuracy);
            w.WriteNumber("samples_per_sec", Math.Round(m.SamplesPerSec, 1));
            w.WriteNumber("seconds", Math.Round(m.Seconds, 3));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private EpochMetrics Parse(string line)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement r = doc.RootElement;
            return new EpochMetrics(r.GetProperty("epoch").GetInt32(), r.GetProperty("train_loss").GetDouble(), r.GetProperty("train_accuracy").GetDouble(),
                r.GetProperty("test_loss").GetDouble(), r.GetProperty("test_accuracy").GetDouble(), r.GetProperty("samples_per_sec").GetDouble(),
                r.GetProperty("seconds").GetDouble());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CliException($"{_path}: cannot read an existing metrics line ({e.Message}): {line}", inner: e);
        }
    }
}
