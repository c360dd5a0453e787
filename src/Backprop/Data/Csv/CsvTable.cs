using Backprop.Tensors;

namespace Backprop.Data.Csv;

/// <summary>
/// A numeric CSV file read by <see cref="CsvReader.Read(string, CsvColumn, CsvOptions?)"/>: the feature columns as
/// float32 [rows, features], and the target column as int64 class indices [rows] (classification) or float32
/// [rows, 1] (regression, the shape of a one-output model's prediction).
/// </summary>
public sealed class CsvTable
{
    internal CsvTable(string source, Tensor features, Tensor targets, string[] featureNames, string targetName, int targetColumn,
        TargetKind kind, double[] classValues, bool hasHeader)
    {
        Source = source;
        Features = features;
        Targets = targets;
        FeatureNames = featureNames;
        TargetName = targetName;
        TargetColumn = targetColumn;
        Kind = kind;
        ClassValues = classValues;
        HasHeader = hasHeader;
    }

    /// <summary>The file read (or the name given for bytes).</summary>
    public string Source { get; }

    /// <summary>The feature columns, float32 [rows, features], in file order.</summary>
    public Tensor Features { get; }

    /// <summary>Class indices int64 [rows] (in [0, <see cref="ClassCount"/>)), or values float32 [rows, 1].</summary>
    public Tensor Targets { get; }

    /// <summary>The features' column names (their positions as text when the file has no header).</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The target column's name (its position as text when the file has no header).</summary>
    public string TargetName { get; }

    /// <summary>The target column's position in the file, from 0.</summary>
    public int TargetColumn { get; }

    /// <summary><see cref="TargetKind.Classification"/> or <see cref="TargetKind.Regression"/>.</summary>
    public TargetKind Kind { get; }

    /// <summary>For classification, the target value of each class index, increasing (e.g. [0, 1, 2]); empty for regression.</summary>
    public IReadOnlyList<double> ClassValues { get; }

    /// <summary>The number of classes (0 for regression).</summary>
    public int ClassCount => ClassValues.Count;

    /// <summary>Whether the file had a header line.</summary>
    public bool HasHeader { get; }

    /// <summary>Rows (examples).</summary>
    public int Count => Features.Shape[0];

    /// <summary>The rows as a data set of (features [F], target) examples.</summary>
    public TensorDataset ToDataset() => new(Features, Targets);
}
