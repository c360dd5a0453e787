using System.CommandLine;
using System.Globalization;
using Backprop.Autograd;
using Backprop.Data.Csv;
using Backprop.IO;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Cli.Recipes;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop predict --checkpoint FILE INPUT...</c>: runs a model trained on a CSV file
/// (<c>train --data FILE.csv</c>) on new rows, given as CSV files of feature columns or as one comma-separated row
/// inline, and prints the most likely classes with their probabilities, or the predicted value; or a model trained
/// on an image folder (<c>train --data DIR/</c>) on image files (or folders of them), printing the most likely classes
/// of each. The checkpoint carries the training split's standardization or normalization, the image size, the
/// class values or names and the column names.
/// </summary>
internal static class PredictCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        Option<string?> checkpoint = CliOptions.Path("--checkpoint", "Checkpoint written by `backprop train --data FILE.csv` or `backprop train --data DIR/`.", "file");
        Option<string?> onnx = CliOptions.Path("--model", "An ONNX model (instead of --checkpoint) with one input: [N, F] takes rows of F features as they are, [N, C, H, W] images (pixels in [0, 1]); its output [N, K] is read as class scores.", "file.onnx");
        var inputs = new Argument<string[]>("input")
        {
            Description = "CSV model: CSV files of feature rows (the training file's columns, with or without the target column), or one row of numbers separated by commas, e.g. 5.1,3.5,1.4,0.2. Image model: image files (PNG, JPEG, BMP, WebP), or folders of them.",
            Arity = ArgumentArity.OneOrMore,
        };
        Option<int> top = CliOptions.Count("--top", 3, 1000, "Classes to print per row, most likely first (classification).");
        Option<int?> skipRows = CliOptions.OptionalInt("--skip-rows", 0, 1_000_000, "Lines to skip at the start of every input file (1 for scikit-learn's files).");
        Option<int> threads = CliOptions.Count("--threads", Environment.ProcessorCount, 256, "Compute threads (default: all cores).");
        var command = new Command("predict", "Predict with a model trained on a CSV file or an image folder: the top classes with probabilities, or the value.")
        {
            checkpoint, onnx, inputs, top, skipRows, threads,
        };
        command.Validators.Add(r =>
        {
            if ((r.GetResult(checkpoint) is null) == (r.GetResult(onnx) is null))
                r.AddError("predict takes one model: --checkpoint FILE or --model FILE.onnx");
        });
        command.SetAction(parse => Run(parse.GetValue(checkpoint), parse.GetValue(onnx), parse.GetValue(inputs)!, parse.GetValue(top), parse.GetValue(skipRows),
                                       parse.GetValue(threads), parse.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(string? checkpointPath, string? onnxPath, string[] inputs, int top, int? skipRowsOption, int threads, TextWriter stdout)
    {
        Parallelism.ThreadCount = threads;
        if (onnxPath is not null)
        {
            try
            {
                return OnnxCli.Predict(onnxPath, inputs, top, skipRowsOption ?? 0, stdout);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException or UnauthorizedAccessException)
            {
                throw new CliException(e.Message, inner: e);
            }
        }
        string path = checkpointPath!;
        CsvModelInfo info;
        Module model;
        var batches = new List<(string Label, double[] Rows, int Count)>();
        int skipRows = skipRowsOption ?? 0;
        try
        {
            Checkpoint c = Checkpoint.Load(RunFolder.RequireFile("--checkpoint", path));
            if (c.Metadata.ContainsKey(ImageModelInfo.MetadataKey))
            {
                if (skipRowsOption is not null)
                    throw new CliException("--skip-rows applies to CSV inputs; this checkpoint takes images", CliApp.UsageError);
                return ImagePredict.Run(path, c, inputs, top, stdout);
            }
            if (!c.Metadata.ContainsKey(CsvModelInfo.MetadataKey))
                throw new InvalidDataException(
                    $"{path} holds a '{c.Metadata.GetValueOrDefault("model", "?")}' model that predict cannot feed; it takes checkpoints of `backprop train --data FILE.csv` (rows) or `backprop train --data DIR/` (images)");
            info = CsvModelInfo.FromMetadata(c.Metadata, path);
            model = info.CreateModel();
            model.LoadStateDict(c.WithPrefix("model."));
            model.Eval();
            foreach (string input in inputs)
                batches.Add(Read(input, info, skipRows));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }

        using (GradMode.Disable())
            foreach (var (label, raw, count) in batches)
            {
                Tensor outputs = model.Call(info.Standardize(raw, count));
                if (info.IsClassification)
                {
                    float[] p = outputs.Softmax(1).Contiguous().ToArray<float>();
                    int k = info.Outputs, shown = Math.Min(top, k);
                    for (int i = 0; i < count; i++)
                    {
                        int[] order = [.. Enumerable.Range(0, k).OrderByDescending(j => p[i * k + j]).Take(shown)];
                        string classes = string.Join(", ", order.Select(j => string.Create(CultureInfo.InvariantCulture, $"{info.ClassLabel(j)} {p[i * k + j]:P2}")));
                        stdout.WriteLine($"{RowName(label, i, count)}: {classes}");
                    }
                }
                else
                {
                    float[] y = outputs.Contiguous().ToArray<float>();
                    for (int i = 0; i < count; i++)
                        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{RowName(label, i, count)}: {info.TargetName} = {y[i] * info.TargetStd + info.TargetMean:G6}"));
                }
            }
        return CliApp.Success;
    }

    private static string RowName(string label, int i, int count) => count == 1 && label == "input" ? label : $"{label} row {i + 1}";

    /// <summary>The feature rows of one input (row-major float64): a CSV file, or an inline row of numbers.</summary>
    private static (string Label, double[] Rows, int Count) Read(string input, CsvModelInfo info, int skipRows)
    {
        int f = info.Features;
        if (Directory.Exists(input))
            throw new ArgumentException($"predict: {input} is a folder; this checkpoint takes CSV rows of {f} features (a model trained on images comes from `train --data DIR/`)");
        if (!File.Exists(input))
        {
            double[] row = ParseRow(input);
            if (row.Length != f)
                throw new ArgumentException($"predict: the inline row has {row.Length} values, but the model takes {f} features ({Columns(info)})");
            return ("input", row, 1);
        }
        (Tensor values, IReadOnlyList<string> names) = CsvReader.ReadMatrix(input, new CsvOptions { SkipRows = skipRows });
        int rows = values.Shape[0], cols = values.Shape[1];
        float[] data = values.Contiguous().ToArray<float>();
        int drop = -1; // the target column, when the file still has it
        if (cols == f + 1)
        {
            var targetAt = new List<int>();
            for (int j = 0; j < cols; j++) if (names[j] == info.TargetName) targetAt.Add(j);
            if (targetAt.Count == 1) drop = targetAt[0];
        }
        if (cols != f && drop < 0)
            throw new ArgumentException($"predict: {input} has {cols} columns, but the model takes {f} features ({Columns(info)}), optionally with the target column '{info.TargetName}'");
        var raw = new double[rows * f];
        for (int i = 0; i < rows; i++)
            for (int j = 0, k = 0; j < cols; j++)
                if (j != drop) raw[i * f + k++] = data[i * cols + j];
        return (Path.GetFileName(input), raw, rows);
    }

    /// <summary>An inline row of numbers separated by commas ("5.1,3.5,1.4,0.2").</summary>
    /// <exception cref="ArgumentException">A field is not a finite number (one field: the input is no file either).</exception>
    internal static double[] ParseRow(string input)
    {
        string[] fields = input.Split(',', StringSplitOptions.TrimEntries);
        var row = new double[fields.Length];
        for (int j = 0; j < fields.Length; j++)
            if (!double.TryParse(fields[j], NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]) || !double.IsFinite(row[j]))
                throw new ArgumentException(fields.Length == 1
                    ? $"predict: no such file: {input} (and not a row of numbers)"
                    : $"predict: the inline row '{input}' has '{fields[j]}' at position {j + 1}, not a finite number");
        return row;
    }

    private static string Columns(CsvModelInfo info)
        => info.Features <= 8 ? string.Join(", ", info.FeatureNames) : $"{string.Join(", ", info.FeatureNames.Take(4))}, …, {info.FeatureNames[^1]}";
}
