namespace Backprop.Data.Csv;

/// <summary>How to read a CSV file (every option has a default that suits plain numeric files).</summary>
public sealed class CsvOptions
{
    /// <summary>
    /// Lines skipped at the start before anything is read (default 0), e.g. 1 for the preamble line of
    /// scikit-learn's files ("150,4,setosa,versicolor,virginica": counts and class names, not data).
    /// </summary>
    public int SkipRows { get; init; }

    /// <summary>
    /// Whether the first line read is a header of column names; null (the default) decides from the line:
    /// a header when a field is not a number.
    /// </summary>
    public bool? HasHeader { get; init; }

    /// <summary>
    /// The field separator; null (the default) picks from the first line read: a comma if it has one, else
    /// a tab, else a semicolon, else runs of spaces. A space means runs of spaces and tabs.
    /// </summary>
    public char? Delimiter { get; init; }

    /// <summary>Whether the target holds class labels or values to regress; <see cref="TargetKind.Auto"/> (the default) decides from the values.</summary>
    public TargetKind TargetKind { get; init; }
}

/// <summary>What a target column holds.</summary>
public enum TargetKind
{
    /// <summary>
    /// Decide from the values: classes when every value is an integer and there are at most
    /// <see cref="CsvReader.MaxAutoClasses"/> distinct values and no more than max(10, rows / 5); otherwise regression.
    /// </summary>
    Auto,
    /// <summary>Class labels: integer values, each distinct value a class (numbered in increasing order of value).</summary>
    Classification,
    /// <summary>Real values to predict.</summary>
    Regression,
}
