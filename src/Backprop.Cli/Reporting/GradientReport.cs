using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Training;

namespace Backprop.Cli.Reporting;

/// <summary>
/// The files of <c>train --grad-report</c>: grad_norms.jsonl, one JSON object per layer and recorded step
/// ("step", "layer", "grad_norm", "weight_norm", "update_ratio", "dead_fraction"; null where a value does not
/// apply), appended as the monitor records; and grad_norms.png, redrawn from all of them. A resumed run keeps
/// the lines up to its starting step and appends its own.
/// </summary>
internal sealed class GradientReport
{
    /// <summary>The records file in a run folder.</summary>
    public const string JsonFile = "grad_norms.jsonl";

    /// <summary>The plot in a run folder.</summary>
    public const string PlotFile = "grad_norms.png";

    private readonly string _jsonPath, _plotPath, _title;
    private readonly List<(string Layer, List<(long Step, double Norm)> Points)> _layers = [];

    /// <summary>Opens the report in <paramref name="runDir"/>, keeping earlier lines up to <paramref name="startStep"/>, and subscribes to the monitor.</summary>
    /// <exception cref="CliException">The file cannot be read or written.</exception>
    public GradientReport(string runDir, string title, GradientMonitor monitor, long startStep)
    {
        _jsonPath = Path.Combine(runDir, JsonFile);
        _plotPath = Path.Combine(runDir, PlotFile);
        _title = title;
        var kept = new StringBuilder();
        try
        {
            if (File.Exists(_jsonPath))
                foreach (string line in File.ReadAllLines(_jsonPath))
                {
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    using JsonDocument doc = JsonDocument.Parse(line);
                    JsonElement r = doc.RootElement;
                    long step = r.GetProperty("step").GetInt64();
                    if (step > startStep) continue; // after the checkpoint this run continues from
                    kept.Append(line).Append('\n');
                    double norm = r.GetProperty("grad_norm").ValueKind == JsonValueKind.Number ? r.GetProperty("grad_norm").GetDouble() : double.NaN;
                    Points(r.GetProperty("layer").GetString() ?? "").Add((step, norm));
                }
            File.WriteAllText(_jsonPath + ".tmp", kept.ToString());
            File.Move(_jsonPath + ".tmp", _jsonPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CliException($"{_jsonPath}: cannot read or rewrite the gradient records: {e.Message}", inner: e);
        }
        monitor.Recorded += Append;
    }

    /// <summary>One record as a JSON line (without the line break); NaN values are null.</summary>
    public static string Format(GradientRecord r)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("step", r.Step);
            w.WriteString("layer", r.Layer);
            Number(w, "grad_norm", r.GradNorm);
            Number(w, "weight_norm", r.WeightNorm);
            Number(w, "update_ratio", r.UpdateRatio);
            Number(w, "dead_fraction", r.DeadFraction);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else if (double.IsNaN(value)) w.WriteNull(name);
        else w.WriteString(name, value.ToString(CultureInfo.InvariantCulture)); // JSON has no infinity
    }

    private void Append(IReadOnlyList<GradientRecord> records)
    {
        var sb = new StringBuilder();
        foreach (GradientRecord r in records)
        {
            sb.Append(Format(r)).Append('\n');
            Points(r.Layer).Add((r.Step, r.GradNorm));
        }
        try
        {
            File.AppendAllText(_jsonPath, sb.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {_jsonPath}: {e.Message}", inner: e);
        }
    }

    private List<(long Step, double Norm)> Points(string layer)
    {
        foreach (var (name, points) in _layers)
            if (name == layer) return points;
        var added = new List<(long, double)>();
        _layers.Add((layer, added));
        return added;
    }

    /// <summary>Redraws grad_norms.png from every record so far (nothing when there is none).</summary>
    /// <exception cref="CliException">The plot cannot be written.</exception>
    public void SavePlot()
    {
        if (_layers.Count == 0) return;
        try
        {
            GradNormsPlot.Save(_plotPath, _title, _layers);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {_plotPath}: {e.Message}", inner: e);
        }
    }

    /// <summary>The console warning: what happened and what to try with this command's flags.</summary>
    public static string WarningText(GradientWarning w, bool clipsAlready) => w.Problem == GradientProblem.Vanishing
        ? $"warning: {w.Description} Remedies: ReLU activations with He (Kaiming) initialisation, batch or layer normalisation, residual connections; " +
          $"see {JsonFile} and {PlotFile}."
        : $"warning: {w.Description} Remedies: a smaller --lr{(clipsAlready ? " (this model already clips the global gradient norm at 1, so the update stays bounded)" : ", or clipping the gradient norm (Trainer.MaxGradNorm in the library)")}; " +
          $"see {JsonFile} and {PlotFile}.";
}
