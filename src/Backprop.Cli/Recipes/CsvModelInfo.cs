using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Cli.Recipes;

/// <summary>
/// What a model trained on a CSV file needs to be rebuilt and used (`backprop predict`): the task, the
/// feature columns, the training split's standardization, the hidden sizes, the class values and, for
/// regression, the target's standardization. Stored as JSON in the checkpoint's "csv" metadata entry.
/// </summary>
internal sealed record CsvModelInfo
{
    /// <summary>The checkpoint metadata key that holds this record.</summary>
    public const string MetadataKey = "csv";

    /// <summary>"classification" or "regression".</summary>
    public required string Task { get; init; }

    /// <summary>The file trained on.</summary>
    public required string Source { get; init; }

    /// <summary>The target column's name (its position as text without a header).</summary>
    public required string TargetName { get; init; }

    /// <summary>The feature columns' names, in file order.</summary>
    public required string[] FeatureNames { get; init; }

    /// <summary>The training split's mean of every feature.</summary>
    public required double[] Mean { get; init; }

    /// <summary>The training split's standard deviation of every feature (1 where a feature is constant).</summary>
    public required double[] Std { get; init; }

    /// <summary>Hidden layer widths.</summary>
    public required int[] Hidden { get; init; }

    /// <summary>Classification: the target value of each class index, increasing.</summary>
    public double[] ClassValues { get; init; } = [];

    /// <summary>Regression: the training split's target mean (the model predicts the standardized target).</summary>
    public double TargetMean { get; init; }

    /// <summary>Regression: the training split's target standard deviation.</summary>
    public double TargetStd { get; init; } = 1;

    /// <summary>The target column as given to --target (a name, or a position counted from 0 or from the end); null in checkpoints older than this field, where <see cref="TargetName"/> stands for it.</summary>
    public string? Target { get; init; }

    /// <summary>Lines skipped at the start of the file (--skip-rows).</summary>
    public int SkipRows { get; init; }

    /// <summary>The share of rows held out for testing (with the checkpoint's seed, `eval` draws the same split).</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Whether the target holds classes.</summary>
    [JsonIgnore]
    public bool IsClassification => Task == "classification";

    /// <summary>Features per example.</summary>
    [JsonIgnore]
    public int Features => FeatureNames.Length;

    /// <summary>Outputs of the model: one per class, or 1 for regression.</summary>
    [JsonIgnore]
    public int Outputs => IsClassification ? ClassValues.Length : 1;

    /// <summary>The MLP: features → hidden… (ReLU after each) → outputs, with its Linear → ReLU runs fused.</summary>
    public Sequential CreateModel(Generator? generator = null)
    {
        var layers = new List<Backprop.NN.Module>();
        int inputs = Features;
        foreach (int width in Hidden)
        {
            layers.Add(new Linear(inputs, width, generator: generator));
            layers.Add(new Relu());
            inputs = width;
        }
        layers.Add(new Linear(inputs, Outputs, generator: generator));
        return new Sequential([.. layers]).Fuse();
    }

    /// <summary>The class value of index <paramref name="index"/> as text ("3", or "2.5").</summary>
    public string ClassLabel(int index) => ClassValues[index].ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Standardizes raw feature rows [rows, features] (float64, row-major) into a float32 tensor.</summary>
    public Tensor Standardize(double[] raw, int rows)
    {
        var x = new float[raw.Length];
        int f = Features;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < f; j++)
                x[i * f + j] = (float)((raw[i * f + j] - Mean[j]) / Std[j]);
        return Tensor.FromArray(x, new Shape(rows, f));
    }

    /// <summary>The JSON text stored in a checkpoint.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, CsvModelInfoJson.Default.CsvModelInfo);

    /// <summary>Reads the record a CSV run stored in a checkpoint's metadata.</summary>
    /// <exception cref="InvalidDataException">The checkpoint was not trained on a CSV file, or its record is damaged.</exception>
    public static CsvModelInfo FromMetadata(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(MetadataKey, out string? json))
            throw new InvalidDataException($"{path} was not trained on a CSV file (`backprop train --data FILE.csv --target COLUMN`); it has no '{MetadataKey}' entry");
        CsvModelInfo? info;
        try
        {
            info = JsonSerializer.Deserialize(json, CsvModelInfoJson.Default.CsvModelInfo);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the '{MetadataKey}' entry is damaged: {e.Message}", e);
        }
        if (info is null || info.Mean.Length != info.Features || info.Std.Length != info.Features
            || (info.IsClassification ? info.ClassValues.Length < 2 : info.Task != "regression") || info.Hidden.Any(h => h < 1))
            throw new InvalidDataException($"{path}: the '{MetadataKey}' entry is inconsistent (task, feature statistics or class values)");
        return info;
    }
}

/// <summary>Source-generated JSON for <see cref="CsvModelInfo"/> (no reflection, so trimming keeps it working).</summary>
[JsonSerializable(typeof(CsvModelInfo))]
internal sealed partial class CsvModelInfoJson : JsonSerializerContext;
