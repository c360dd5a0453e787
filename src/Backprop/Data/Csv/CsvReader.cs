using System.Globalization;
using System.IO.Compression;
using System.Text;
using Backprop.IO;
using Backprop.Tensors;

namespace Backprop.Data.Csv;

/// <summary>
/// Reads a CSV file of numbers into features and a target (<see cref="CsvTable"/>): plain or gzip-compressed
/// (known by the gzip magic bytes; a name ending in .gz must hold them), comma, tab, semicolon or
/// space separated (detected), with or without a header (detected), after <see cref="CsvOptions.SkipRows"/>
/// preamble lines. The target is a column by name or position (negative from the end); classification or
/// regression is decided from its values unless <see cref="CsvOptions.TargetKind"/> says.
/// </summary>
/// <remarks>
/// The file is read twice: the first pass checks every line (field count, numbers, quoting) and keeps only
/// the target values, so a bad file is refused, with its line and column, before the feature matrix is
/// allocated; the second fills it. Blank lines are skipped. Values must be finite numbers within float32's
/// range: missing values (empty fields, NaN) are refused, not guessed.
/// </remarks>
/// <example>
/// <code>
/// CsvTable iris = CsvReader.Read("iris.csv", target: -1, new CsvOptions { SkipRows = 1 });
/// // iris.Features: float32 [150, 4]; iris.Targets: int64 [150]; iris.ClassCount: 3
/// Subset&lt;(Tensor Input, Tensor Target)&gt;[] parts = Dataset.RandomSplit(iris.ToDataset(), [0.8, 0.2], new Generator(0)); // 120 and 30 rows
/// </code>
/// </example>
public static class CsvReader
{
    /// <summary>
    /// The most distinct values an automatically detected class target may have: scikit-learn's data sets have 2 to 10
    /// classes, while integer measurements (diabetes' glucose levels: 56 values in 442 rows; ages) have dozens.
    /// </summary>
    public const int MaxAutoClasses = 20;

    /// <summary>The longest line read, in characters.</summary>
    public const int MaxLineChars = 1 << 24;

    /// <summary>The most columns a file may have.</summary>
    public const int MaxColumns = 1 << 20;

    /// <summary>Reads the CSV file at <paramref name="path"/>, taking column <paramref name="target"/> as the target.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a readable table of numbers: a directory, empty or not a regular file, broken gzip data,
    /// no data rows, a row with another number of fields than the first, a field that is not a finite number
    /// (the message names the file, the line and the column), fewer than two columns, or (classification asked
    /// for) a target that is not an integer.
    /// </exception>
    /// <exception cref="ArgumentException">The target column is not in the file (the message lists the columns).</exception>
    public static CsvTable Read(string path, CsvColumn target, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        InputFile.CheckRegular(path, "CSV");
        return Read(() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), path, target, options ?? new CsvOptions());
    }

    /// <summary>Reads CSV <paramref name="content"/> (plain or gzip bytes); <paramref name="name"/> stands for the file in messages.</summary>
    /// <inheritdoc cref="Read(string, CsvColumn, CsvOptions?)"/>
    public static CsvTable Read(byte[] content, string name, CsvColumn target, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(name);
        return Read(() => new MemoryStream(content, writable: false), name, target, options ?? new CsvOptions());
    }

    /// <summary>
    /// Reads every column of a CSV file of numbers, without a target (e.g. rows to predict): float32
    /// [rows, columns] and the column names (their positions as text when the file has no header).
    /// </summary>
    /// <inheritdoc cref="Read(string, CsvColumn, CsvOptions?)"/>
    public static (Tensor Values, IReadOnlyList<string> ColumnNames) ReadMatrix(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        InputFile.CheckRegular(path, "CSV");
        return ReadMatrix(() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), path, options ?? new CsvOptions());
    }

    /// <summary>Reads every column of CSV <paramref name="content"/>; <paramref name="name"/> stands for the file in messages.</summary>
    /// <inheritdoc cref="ReadMatrix(string, CsvOptions?)"/>
    public static (Tensor Values, IReadOnlyList<string> ColumnNames) ReadMatrix(byte[] content, string name, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(name);
        return ReadMatrix(() => new MemoryStream(content, writable: false), name, options ?? new CsvOptions());
    }

    private static (Tensor, IReadOnlyList<string>) ReadMatrix(Func<Stream> open, string name, CsvOptions options)
    {
        CheckOptions(options);
        Scan scan = ScanFile(open, name, null, options);
        float[] x = Allocate(scan, scan.Columns, name);
        FillFeatures(open, name, scan, options, x);
        return (Tensor.WrapArray(x, [scan.Rows, scan.Columns]), scan.Names);
    }

    private static void CheckOptions(CsvOptions options)
    {
        if (options.SkipRows < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.SkipRows, "CsvReader: SkipRows must be 0 or more");
        if (options.Delimiter is '"' or '\r' or '\n')
            throw new ArgumentException($"CsvReader: {Show(options.Delimiter.ToString())} cannot be a delimiter", nameof(options));
    }

    private static float[] Allocate(Scan scan, int columns, string name)
    {
        long total = (long)scan.Rows * columns;
        if (total > Array.MaxLength)
            throw new InvalidDataException($"{name}: {scan.Rows} rows of {columns} numbers are more than one tensor holds ({Array.MaxLength})");
        return new float[total];
    }

    private static CsvTable Read(Func<Stream> open, string name, CsvColumn target, CsvOptions options)
    {
        CheckOptions(options);
        Scan scan = ScanFile(open, name, target, options);
        TargetKind kind = options.TargetKind;
        double[] classValues = [];
        if (kind != TargetKind.Regression)
        {
            double[]? classes = Classes(scan, kind == TargetKind.Classification ? int.MaxValue : AutoLimit(scan.Rows));
            if (classes is null && kind == TargetKind.Classification)
            {
                int row = Array.FindIndex(scan.Targets, v => v != Math.Floor(v) || Math.Abs(v) > 1L << 53);
                throw new InvalidDataException(
                    $"{name}: the target column \"{scan.Names[scan.Target]}\" holds {scan.Targets[row].ToString(CultureInfo.InvariantCulture)} " +
                    $"(data row {row + 1}), not an integer class label; classification needs integer labels (read it as regression instead)");
            }
            kind = classes is null ? TargetKind.Regression : TargetKind.Classification;
            classValues = classes ?? [];
        }

        int features = scan.Columns - 1;
        float[] x = Allocate(scan, features, name);
        FillFeatures(open, name, scan, options, x);

        Tensor targets;
        if (kind == TargetKind.Classification)
        {
            var labels = new long[scan.Rows];
            for (int r = 0; r < labels.Length; r++) labels[r] = Array.BinarySearch(classValues, scan.Targets[r]);
            targets = Tensor.WrapArray(labels, [scan.Rows]);
        }
        else
        {
            var values = new float[scan.Rows];
            for (int r = 0; r < values.Length; r++) values[r] = (float)scan.Targets[r];
            targets = Tensor.WrapArray(values, [scan.Rows, 1]);
        }
        var featureNames = new string[features];
        for (int c = 0, f = 0; c < scan.Columns; c++)
            if (c != scan.Target) featureNames[f++] = scan.Names[c];
        return new CsvTable(name, Tensor.WrapArray(x, [scan.Rows, features]), targets, featureNames, scan.Names[scan.Target], scan.Target,
            kind, classValues, scan.HasHeader);
    }

    /// <summary>At most this many distinct integer values make an automatically detected class target.</summary>
    private static int AutoLimit(int rows) => Math.Min(MaxAutoClasses, Math.Max(10, rows / 5));

    /// <summary>The distinct target values in increasing order when all are integers and there are at most <paramref name="limit"/>; else null.</summary>
    private static double[]? Classes(Scan scan, int limit)
    {
        var distinct = new HashSet<double>();
        foreach (double v in scan.Targets)
        {
            if (v != Math.Floor(v) || Math.Abs(v) > 1L << 53) return null;
            if (distinct.Add(v) && distinct.Count > limit) return null;
        }
        double[] classes = [.. distinct];
        Array.Sort(classes);
        return classes;
    }

    /// <summary>What the first pass learns: the layout, the row count and the target values.</summary>
    private sealed class Scan
    {
        public char Delimiter;
        public bool HasHeader;
        public string[] Names = [];
        public int Columns, Target, Rows;
        public double[] Targets = [];
    }

    private static TextReader OpenText(Func<Stream> open, string name)
    {
        Stream raw;
        try
        {
            raw = open();
        }
        catch (IOException e)
        {
            throw new InvalidDataException($"{name}: the file could not be opened ({e.Message})", e);
        }
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int got = raw.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            raw.Position = 0;
            bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            if (!gzip && name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{name}: the name ends in .gz but the file is not gzip-compressed (it does not start with the gzip bytes 1f 8b)");
            Stream data = gzip ? new GZipStream(raw, CompressionMode.Decompress) : raw;
            return new StreamReader(data, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 14);
        }
        catch (IOException e)
        {
            raw.Dispose();
            throw new InvalidDataException($"{name}: the file could not be read ({e.Message})", e);
        }
        catch
        {
            raw.Dispose();
            throw;
        }
    }

    private static void SkipPreamble(CsvLines lines, string name, int skipRows)
    {
        for (int s = 0; s < skipRows; s++)
            if (!lines.TryRead(out _))
                throw new InvalidDataException($"{name}: the file ends after {s} lines, before the {skipRows} lines to skip (skipRows)");
    }

    private static bool NextContent(CsvLines lines, out ReadOnlySpan<char> line)
    {
        while (lines.TryRead(out line))
            if (!CsvSplit.IsBlankLine(line)) return true;
        return false;
    }

    private static Scan ScanFile(Func<Stream> open, string name, CsvColumn? target, CsvOptions options)
    {
        using TextReader text = OpenText(open, name);
        var lines = new CsvLines(text, name);
        var fields = new List<CsvField>();
        SkipPreamble(lines, name, options.SkipRows);
        string skipped = options.SkipRows > 0 ? $" after the {options.SkipRows} skipped lines" : "";
        if (!NextContent(lines, out ReadOnlySpan<char> line))
            throw new InvalidDataException($"{name}: no data{skipped}: the file holds no lines that are not blank");

        var scan = new Scan { Delimiter = options.Delimiter ?? CsvSplit.Detect(line) };
        int firstLine = lines.LineNumber;
        SplitChecked(line, scan.Delimiter, fields, MaxColumns, name, firstLine);
        if (fields.Count > MaxColumns)
            throw new InvalidDataException($"{name}, line {firstLine}: more than {MaxColumns} columns; this does not look like a CSV file of numbers");
        scan.Columns = fields.Count;
        scan.HasHeader = options.HasHeader ?? LooksLikeHeader(line, fields);
        scan.Names = new string[scan.Columns];
        for (int c = 0; c < scan.Columns; c++)
            scan.Names[c] = scan.HasHeader ? Unquote(fields[c], line) : c.ToString(CultureInfo.InvariantCulture);
        scan.Target = target is { } t ? Resolve(t, scan, name) : -1;
        if (target is not null && scan.Columns < 2)
            throw new InvalidDataException(
                $"{name}, line {firstLine}: one column found ({Describe(scan.Delimiter)}); a table needs a target column and at least one feature column" +
                (options.Delimiter is null ? " (set CsvOptions.Delimiter if the fields are separated by something else)" : ""));

        var targets = new List<double>();
        int rows = 0;
        string firstWhat = scan.HasHeader ? "the header" : "the first row";
        if (!scan.HasHeader)
        {
            try
            {
                CheckRow(line, fields, scan, name, firstLine, targets);
            }
            catch (InvalidDataException e) when (options.HasHeader is null)
            {
                throw new InvalidDataException(
                    $"{e.Message}. If line {firstLine} is a preamble rather than data (scikit-learn's CSV files start with one: the counts " +
                    $"and the class names), skip it with skipRows: {options.SkipRows + 1}", e);
            }
            rows++;
        }
        bool firstData = true;
        while (NextContent(lines, out line))
        {
            SplitChecked(line, scan.Delimiter, fields, scan.Columns, name, lines.LineNumber);
            if (fields.Count != scan.Columns)
            {
                if (fields.Count > scan.Columns) CsvSplit.Split(line, scan.Delimiter, fields, MaxColumns); // count them all for the message
                string count = fields.Count > MaxColumns ? $"more than {MaxColumns} fields" : fields.Count == 1 ? "1 field" : $"{fields.Count} fields";
                string hint = firstData
                    ? $". If line {firstLine} is a preamble rather than {(scan.HasHeader ? "a header" : "data")} (scikit-learn's CSV files start with one: " +
                      $"the counts and the class names), skip it with skipRows: {options.SkipRows + 1}"
                    : "";
                throw new InvalidDataException(
                    $"{name}, line {lines.LineNumber}: {count}, but {firstWhat} (line {firstLine}) has {scan.Columns} ({Describe(scan.Delimiter)}){hint}");
            }
            CheckRow(line, fields, scan, name, lines.LineNumber, targets);
            rows++;
            firstData = false;
        }
        if (rows == 0)
            throw new InvalidDataException($"{name}: no data rows after the header on line {firstLine}");
        scan.Rows = rows;
        scan.Targets = [.. targets];
        return scan;
    }

    private static void SplitChecked(ReadOnlySpan<char> line, char delimiter, List<CsvField> fields, int maxFields, string name, int lineNumber)
    {
        if (CsvSplit.Split(line, delimiter, fields, maxFields) is string problem)
            throw new InvalidDataException($"{name}, line {lineNumber}: {problem}");
    }

    /// <summary>A first line is a header when one of its fields is neither empty nor a number.</summary>
    private static bool LooksLikeHeader(ReadOnlySpan<char> line, List<CsvField> fields)
    {
        foreach (CsvField f in fields)
        {
            ReadOnlySpan<char> text = f.In(line);
            if (!text.IsEmpty && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return true;
        }
        return false;
    }

    private static string Unquote(CsvField field, ReadOnlySpan<char> line)
    {
        string text = field.In(line).ToString();
        return field.Quoted ? text.Replace("\"\"", "\"", StringComparison.Ordinal) : text;
    }

    private static int Resolve(CsvColumn target, Scan scan, string name)
    {
        int columns = scan.Columns;
        if (target.Name is string wanted)
        {
            int found = -1, count = 0;
            for (int pass = 0; pass < 2 && count == 0; pass++) // exact names first, then ignoring case
            {
                StringComparison comparison = pass == 0 ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
                for (int c = 0; c < columns; c++)
                    if (scan.HasHeader && string.Equals(scan.Names[c], wanted, comparison)) { found = c; count++; }
            }
            if (count == 1) return found;
            if (count > 1) throw new ArgumentException($"{name}: {count} columns are named \"{wanted}\"; give the target by position instead");
            throw new ArgumentException(scan.HasHeader
                ? $"{name}: no column named \"{wanted}\"; the columns are {ListNames(scan.Names)}"
                : $"{name}: no column named \"{wanted}\": the file has no header line, so give the target by position (0 to {columns - 1}, or -1 for the last)");
        }
        int index = target.Index;
        if (index < -columns || index >= columns)
            throw new ArgumentException(
                $"{name}: target column {index} is outside the file's {columns} columns (0 to {columns - 1}, or -{columns} to -1 from the end)");
        return index < 0 ? index + columns : index;
    }

    private static string ListNames(string[] names)
    {
        const int shown = 12;
        IEnumerable<string> quoted = names.Take(shown).Select(n => $"\"{n}\"");
        return string.Join(", ", quoted) + (names.Length > shown ? $", … ({names.Length} in all)" : "");
    }

    private static string Describe(char delimiter) => delimiter switch
    {
        ',' => "separated by commas",
        '\t' => "separated by tabs",
        ';' => "separated by semicolons",
        CsvSplit.Whitespace => "separated by spaces",
        _ => $"separated by {Show(delimiter.ToString())}",
    };

    /// <summary>Checks that every field is a finite number in float32's range; adds the target's value to <paramref name="targets"/>.</summary>
    private static void CheckRow(ReadOnlySpan<char> line, List<CsvField> fields, Scan scan, string name, int lineNumber, List<double> targets)
    {
        for (int c = 0; c < fields.Count; c++)
        {
            ReadOnlySpan<char> text = fields[c].In(line);
            if (!TryNumber(text, out double v))
                throw new InvalidDataException($"{name}, line {lineNumber}, {Column(scan, c)}: {NotANumber(text)}");
            if (c == scan.Target) targets.Add(v);
        }
    }

    private static bool TryNumber(ReadOnlySpan<char> text, out double value)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && Math.Abs(value) <= float.MaxValue;

    private static string NotANumber(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return "an empty field (a missing value); fill in or drop missing values before reading";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            return double.IsFinite(v)
                ? $"{Show(text)} is outside the range of float32 (±{float.MaxValue:G3})"
                : $"{Show(text)} is not a finite number; fill in or drop missing values before reading";
        return $"{Show(text)} is not a number";
    }

    private static string Column(Scan scan, int c)
        => scan.HasHeader ? $"column \"{Show(scan.Names[c], quote: false)}\" (index {c})" : $"column index {c}";

    /// <summary>The text in quotes, at most 40 characters, control characters escaped.</summary>
    private static string Show(ReadOnlySpan<char> text, bool quote = true)
    {
        const int max = 40;
        var sb = new StringBuilder(quote ? "\"" : "");
        foreach (char ch in text.Length > max ? text[..max] : text)
        {
            if (char.IsControl(ch) || ch == '\uFFFD') sb.Append($"\\u{(int)ch:X4}");
            else sb.Append(ch);
        }
        if (text.Length > max) sb.Append('…');
        if (quote) sb.Append('"');
        return sb.ToString();
    }

    private static void FillFeatures(Func<Stream> open, string name, Scan scan, CsvOptions options, float[] x)
    {
        using TextReader text = OpenText(open, name);
        var lines = new CsvLines(text, name);
        var fields = new List<CsvField>();
        SkipPreamble(lines, name, options.SkipRows);
        bool header = scan.HasHeader;
        int features = scan.Target < 0 ? scan.Columns : scan.Columns - 1, row = 0;
        while (NextContent(lines, out ReadOnlySpan<char> line))
        {
            if (header) { header = false; continue; }
            if (row == scan.Rows || CsvSplit.Split(line, scan.Delimiter, fields, scan.Columns) is not null || fields.Count != scan.Columns)
                throw Changed(name);
            Span<float> dst = x.AsSpan(row * features, features);
            for (int c = 0, f = 0; c < scan.Columns; c++)
            {
                if (!TryNumber(fields[c].In(line), out double v)) throw Changed(name);
                if (c != scan.Target) dst[f++] = (float)v;
            }
            row++;
        }
        if (row != scan.Rows) throw Changed(name);
    }

    private static InvalidDataException Changed(string name) => new($"{name}: the file changed while it was being read; read it again");
}
