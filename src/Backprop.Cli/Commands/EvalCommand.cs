using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Backprop.Data;
using Backprop.IO;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Cli.Recipes;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop eval</c>: loss, accuracy, per-class precision, recall and F1 and the confusion matrix of a training
/// checkpoint: on the Fashion-MNIST test set for mlp and cnn; for `train --data` checkpoints on the held-out split
/// the run made (drawn again from the stored seed) or on a <c>--data</c> the user gives (a regression model reports
/// RMSE, MAE and R² instead).
/// </summary>
internal static class EvalCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        Option<string?> checkpoint = CliOptions.Path("--checkpoint", "Checkpoint written by `backprop train`.", "file");
        Option<string?> onnx = CliOptions.Path("--model", "An ONNX model (instead of --checkpoint) taking [N, 784] or [N, 1, 28, 28] inputs, evaluated on the Fashion-MNIST test set (--data fashion-mnist, the default), normalized as `train` normalizes it.", "file.onnx");
        Option<string?> dataDir = CliOptions.Path("--data-dir", "mlp, cnn: directory with the Fashion-MNIST IDX files.", "dir", FashionMnist.DefaultDirectory);
        Option<string?> data = CliOptions.Path("--data", "Checkpoints of `train --data`: a CSV file (with the target column) or a folder of images (one subfolder per class) to evaluate on, all of it; default: the held-out split of the training data, drawn again with the checkpoint's seed.", "file|dir");
        Option<int?> skipRows = CliOptions.OptionalInt("--skip-rows", 0, 1_000_000, "--data FILE.csv: lines to skip at the start of the file (1 for scikit-learn's CSV files).");
        Option<int> threads = CliOptions.Count("--threads", Environment.ProcessorCount, 256, "Compute threads (default: all cores).");
        Option<int?> testLimit = CliOptions.OptionalCount("--test-limit", int.MaxValue, "Evaluate only the first N test examples (quick checks).");
        var json = new Option<bool>("--json") { Description = "Print one JSON object (loss, accuracy, per-class precision, recall, F1 and support, confusion matrix; for regression RMSE, MAE and R²) instead of the tables." };
        var command = new Command("eval", "Evaluate a checkpoint: loss, accuracy, per-class precision, recall and F1, and the confusion matrix (Fashion-MNIST test set, or the held-out split of `train --data`).")
        {
            checkpoint, onnx, dataDir, data, skipRows, threads, testLimit, json,
        };
        command.Validators.Add(r =>
        {
            if ((r.GetResult(checkpoint) is null) == (r.GetResult(onnx) is null))
                r.AddError("eval takes one model: --checkpoint FILE or --model FILE.onnx");
        });
        command.SetAction(parse =>
        {
            if (parse.GetValue(onnx) is { } model)
                return RunOnnx(model, parse.GetValue(dataDir)!, parse.GetValue(data), parse.GetValue(skipRows), parse.GetValue(threads),
                               parse.InvocationConfiguration.Output, parse.GetValue(testLimit), parse.GetValue(json));
            return Run(parse.GetValue(checkpoint)!, parse.GetValue(dataDir)!, parse.GetResult(dataDir) is { Implicit: false }, parse.GetValue(data),
                       parse.GetValue(skipRows), parse.GetValue(threads), parse.InvocationConfiguration.Output, parse.GetValue(testLimit), parse.GetValue(json));
        });
        return command;
    }

    private static int RunOnnx(string path, string dataDir, string? data, int? skipRows, int threads, TextWriter stdout, int? testLimit, bool json)
    {
        Parallelism.ThreadCount = threads;
        if (data is not (null or "fashion-mnist"))
            throw new CliException($"--model FILE.onnx is evaluated on --data fashion-mnist (the Fashion-MNIST test set); '{data}' is not supported for ONNX models", CliApp.UsageError);
        if (skipRows is not null)
            throw new CliException("--skip-rows applies only with --data FILE.csv and a checkpoint trained on a CSV file", CliApp.UsageError);
        ClassEvaluation result;
        try
        {
            result = OnnxCli.EvaluateFashionMnist(path, dataDir, testLimit);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }
        return Print(stdout, path, "onnx", null, result, json);
    }

    private static int Run(string path, string dataDir, bool dataDirGiven, string? data, int? skipRows, int threads, TextWriter stdout, int? testLimit, bool json)
    {
        Parallelism.ThreadCount = threads;
        Checkpoint c;
        string name;
        ClassEvaluation result;
        try
        {
            c = Checkpoint.Load(RunFolder.RequireFile("--checkpoint", path));
            name = c.Metadata.GetValueOrDefault("model") ?? throw new InvalidDataException($"{path} has no model name; it was not written by `backprop train`");
            bool images = c.Metadata.ContainsKey(ImageModelInfo.MetadataKey), csv = c.Metadata.ContainsKey(CsvModelInfo.MetadataKey);
            if ((images || csv) && dataDirGiven)
                throw new CliException($"--data-dir is for Fashion-MNIST checkpoints; {path} was trained with `train --data` (pass --data to evaluate on other data)", CliApp.UsageError);
            if (!(images || csv) && data is not null)
                throw new CliException($"--data applies to checkpoints of `train --data`; {path} holds a '{name}' model (Fashion-MNIST: use --data-dir)", CliApp.UsageError);
            if (skipRows is not null && !(csv && data is not null))
                throw new CliException("--skip-rows applies only with --data FILE.csv and a checkpoint trained on a CSV file", CliApp.UsageError);
            if (images)
                result = DataEvaluation.Images(path, c, data, testLimit);
            else if (csv)
            {
                object outcome = DataEvaluation.Csv(path, c, data, skipRows, testLimit);
                if (outcome is RegressionEvaluation regression)
                    return PrintRegression(stdout, path, name, c.Metadata.GetValueOrDefault("epoch"), regression, json);
                result = (ClassEvaluation)outcome;
            }
            else
            {
                Module model = Models.Create(name);
                model.LoadStateDict(c.WithPrefix("model."));
                var test = FashionMnistRecipe.LoadTestSet(dataDir);
                if (testLimit is int limit && limit < test.Labels.Numel)
                    test = (test.Images.Narrow(0, 0, limit).Contiguous(), test.Labels.Narrow(0, 0, limit).Contiguous());
                var (loss, accuracy, confusion) = FashionMnistRecipe.Evaluate(model, name, test.Images, test.Labels);
                result = new ClassEvaluation(string.Create(CultureInfo.InvariantCulture, $"the Fashion-MNIST test set ({test.Labels.Numel:N0} images)"),
                                             [.. FashionMnist.ClassNames], test.Labels.Numel, loss, accuracy, confusion);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }
        return Print(stdout, path, name, c.Metadata.GetValueOrDefault("epoch"), result, json);
    }

    private static int Print(TextWriter stdout, string path, string name, string? epoch, ClassEvaluation result, bool json)
    {
        ClassScores[] scores = ClassScores.Of(result.Confusion);
        if (json)
        {
            stdout.WriteLine(Json(path, name, epoch, result, scores));
            return CliApp.Success;
        }

        IAnsiConsole console = TrainCommand.ConsoleFor(stdout);
        if (epoch is null && name == "onnx") console.MarkupLineInterpolated($"[bold]{Path.GetFileName(path)}[/]: ONNX model, on {result.Data}");
        else console.MarkupLineInterpolated($"[bold]{Path.GetFileName(path)}[/]: {name} after epoch {epoch ?? "?"}, on {result.Data}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test loss {result.Loss:F4}, test accuracy {result.Accuracy:P2} ({result.Examples:N0} examples)"));
        int k = result.ClassNames.Length;
        bool matrix = k <= 12; // wider matrices do not fit a terminal; --json has them
        var table = new Table().Title(matrix ? "confusion matrix (rows: true class, columns: predicted)" : "per-class scores (the confusion matrix is in --json)");
        table.AddColumn(matrix ? "true \\ predicted" : "class");
        if (matrix)
            for (int j = 0; j < k; j++) table.AddColumn(new TableColumn(j.ToString(CultureInfo.InvariantCulture)).RightAligned());
        table.AddColumn(new TableColumn("recall").RightAligned());
        table.AddColumn(new TableColumn("precision").RightAligned());
        table.AddColumn(new TableColumn("F1").RightAligned());
        table.AddColumn(new TableColumn("support").RightAligned());
        for (int i = 0; i < k; i++)
        {
            var row = new List<string> { $"{i} {Markup.Escape(result.ClassNames[i])}" };
            if (matrix)
                for (int j = 0; j < k; j++)
                    row.Add(i == j ? $"[bold]{result.Confusion[i, j]}[/]" : result.Confusion[i, j].ToString(CultureInfo.InvariantCulture));
            row.Add(scores[i].Support == 0 ? "-" : scores[i].Recall.ToString("P1", CultureInfo.InvariantCulture));
            row.Add(scores[i].Precision.ToString("P1", CultureInfo.InvariantCulture));
            row.Add(scores[i].F1.ToString("F3", CultureInfo.InvariantCulture));
            row.Add(scores[i].Support.ToString(CultureInfo.InvariantCulture));
            table.AddRow(row.ToArray());
        }
        console.Write(table);
        double macroF1 = scores.Average(x => x.F1);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"macro-averaged F1 {macroF1:F4}"));
        return CliApp.Success;
    }

    private static int PrintRegression(TextWriter stdout, string path, string name, string? epoch, RegressionEvaluation r, bool json)
    {
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("checkpoint", path);
                w.WriteString("model", name);
                w.WriteString("task", "regression");
                if (epoch is not null && int.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out int e)) w.WriteNumber("epoch", e);
                w.WriteString("data", r.Data);
                w.WriteString("target", r.TargetName);
                w.WriteNumber("examples", r.Examples);
                w.WriteNumber("test_rmse", r.Rmse);
                w.WriteNumber("test_mae", r.Mae);
                if (double.IsFinite(r.R2)) w.WriteNumber("test_r2", r.R2);
                else w.WriteNull("test_r2");
                w.WriteEndObject();
            }
            stdout.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            return CliApp.Success;
        }
        stdout.WriteLine($"{Path.GetFileName(path)}: {name} after epoch {epoch ?? "?"}, on {r.Data}");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.TargetName}: RMSE {r.Rmse:G5}, MAE {r.Mae:G5}, R² {r.R2:F4} ({r.Examples:N0} examples)"));
        return CliApp.Success;
    }

    /// <summary>
    /// The --json object: checkpoint, model, epoch, data, examples, test_loss, test_accuracy, macro_f1, classes
    /// (index, name, precision, recall, f1, support) and confusion (rows: true class).
    /// </summary>
    private static string Json(string path, string model, string? epoch, ClassEvaluation r, ClassScores[] scores)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("checkpoint", path);
            w.WriteString("model", model);
            w.WriteString("task", "classification");
            if (epoch is not null && int.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out int e)) w.WriteNumber("epoch", e);
            w.WriteString("data", r.Data);
            w.WriteNumber("examples", r.Examples);
            w.WriteNumber("test_loss", r.Loss);
            w.WriteNumber("test_accuracy", r.Accuracy);
            w.WriteNumber("macro_f1", scores.Average(x => x.F1));
            w.WriteStartArray("classes");
            for (int i = 0; i < scores.Length; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("name", r.ClassNames[i]);
                w.WriteNumber("precision", scores[i].Precision);
                w.WriteNumber("recall", scores[i].Recall);
                w.WriteNumber("f1", scores[i].F1);
                w.WriteNumber("support", scores[i].Support);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("confusion");
            for (int i = 0; i < scores.Length; i++)
            {
                w.WriteStartArray();
                for (int j = 0; j < scores.Length; j++) w.WriteNumberValue(r.Confusion[i, j]);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
