using System.Text;
using System.Text.Json;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Reporting;

/// <summary>
/// metrics.jsonl: one JSON object per epoch with exactly the keys epoch, train_loss,
/// train_accuracy, test_loss, test_accuracy, samples_per_sec, seconds. A resumed run keeps the
/// lines of the epochs it resumed from and appends the rest.
/// </summary>
internal sealed class MetricsLog
{
    private readonly string _path;

    public MetricsLog(string path, int keepEpochsUpTo)
    {
        _path = path;
        if (File.Exists(path))
            foreach (string line in File.ReadAllLines(path))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                EpochMetrics m = Parse(line);
                if (m.Epoch <= keepEpochsUpTo) Entries.Add(m);
            }
        Rewrite();
    }

    /// <summary>Epochs logged so far, in order.</summary>
    public List<EpochMetrics> Entries { get; } = [];

    public void Append(EpochMetrics m)
    {
        Entries.Add(m);
        File.AppendAllText(_path, Format(m) + "\n");
    }

    private void Rewrite()
    {
        var sb = new StringBuilder();
        foreach (EpochMetrics m in Entries) sb.Append(Format(m)).Append('\n');
        File.WriteAllText(_path, sb.ToString());
    }

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
            throw new CliException($"{_path}: cannot read an existing metrics line ({e.Message}): {line}");
        }
    }
}
