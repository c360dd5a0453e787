using System.Text;
using System.Text.Json;

namespace Backprop.Cli.Reporting;

/// <summary>
/// metrics.jsonl: one JSON object per evaluation: "epoch", then "epoch_step" when a stop (--max-minutes)
/// ended the epoch early, then the recipe's values (Fashion-MNIST: train_loss, train_accuracy, test_loss,
/// test_accuracy, samples_per_sec, seconds; text: step, train_loss, val_loss, tokens_per_sec, seconds). A
/// resumed run keeps the lines already there and appends its own; the file is rewritten (atomically) only
/// when an explicit --overwrite drops the lines after the resumed position.
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

    /// <summary>Lines logged so far, in order.</summary>
    public List<MetricsLine> Entries { get; } = [];

    /// <summary>The furthest position logged, epoch 0 if none.</summary>
    public RunPosition LastPosition => Entries.Count == 0 ? default : Entries.Max(m => m.Position);

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

    /// <summary>Drops the lines after <paramref name="position"/>, rewriting the file through a temporary file and a rename.</summary>
    public void DropAfter(RunPosition position)
    {
        if (Entries.RemoveAll(m => m.Position > position) == 0) return;
        var sb = new StringBuilder();
        foreach (MetricsLine m in Entries) sb.Append(Format(m)).Append('\n');
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

    /// <summary>Adds one line at the end of the file.</summary>
    /// <exception cref="CliException">The file cannot be written (permissions, a full disk).</exception>
    public void Append(MetricsLine m)
    {
        try
        {
            File.AppendAllText(_path, Format(m) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {_path}: {e.Message}; the checkpoint of {m.Position} was saved", inner: e);
        }
        Entries.Add(m);
    }

    /// <summary>One line as JSON (without the line break): "epoch", "epoch_step" if partial, then the values in order.</summary>
    public static string Format(MetricsLine m)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", m.Epoch);
            if (m.Partial) w.WriteNumber("epoch_step", m.EpochStep);
            foreach (var (key, value) in m.Values)
            {
                if (double.IsFinite(value)) w.WriteNumber(key, value);
                else w.WriteString(key, value.ToString(System.Globalization.CultureInfo.InvariantCulture)); // JSON has no NaN
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private MetricsLine Parse(string line)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement r = doc.RootElement;
            int epoch = r.GetProperty("epoch").GetInt32();
            int epochStep = r.TryGetProperty("epoch_step", out JsonElement s) ? s.GetInt32() : 0;
            if (epoch < 0 || epochStep < 0 || epoch == 0 && epochStep == 0)
                throw new FormatException($"epoch {epoch}, epoch_step {epochStep} is not a position in a run");
            var values = new List<KeyValuePair<string, double>>();
            foreach (JsonProperty p in r.EnumerateObject())
            {
                if (p.Name is "epoch" or "epoch_step") continue;
                double value = p.Value.ValueKind == JsonValueKind.String
                    ? double.Parse(p.Value.GetString()!, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)
                    : p.Value.GetDouble();
                values.Add(new(p.Name, value));
            }
            return new MetricsLine(epoch, epochStep, values);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CliException($"{_path}: cannot read an existing metrics line ({e.Message}): {line}", inner: e);
        }
    }
}
