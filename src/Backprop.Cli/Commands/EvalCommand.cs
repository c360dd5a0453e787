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

/// <summary><c>backprop eval</c>: test loss, accuracy and confusion matrix of a training checkpoint.</summary>
internal static class EvalCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        Option<string?> checkpoint = CliOptions.Path("--checkpoint", "Checkpoint written by `backprop train`.", "file");
        checkpoint.Required = true;
        Option<string?> dataDir = CliOptions.Path("--data-dir", "Directory with the Fashion-MNIST IDX files.", "dir", FashionMnist.DefaultDirectory);
        Option<int> threads = CliOptions.Count("--threads", Environment.ProcessorCount, 256, "Compute threads (default: all cores).");
        Option<int?> testLimit = CliOptions.OptionalCount("--test-limit", 10_000, "Evaluate only the first N test images (quick checks).");
        var json = new Option<bool>("--json") { Description = "Print one JSON object (loss, accuracy, per-class precision, recall, F1 and support, confusion matrix) instead of the tables." };
        var command = new Command("eval", "Evaluate a checkpoint on the Fashion-MNIST test set: loss, accuracy, per-class precision, recall and F1, and the confusion matrix.")
        {
            checkpoint, dataDir, threads, testLimit, json,
        };
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(dataDir)!, parse.GetValue(threads), parse.InvocationConfiguration.Output,
                                       parse.GetValue(testLimit), parse.GetValue(json)));
        return command;
    }

    private static int Run(string path, string dataDir, int threads, TextWriter stdout, int? testLimit = null, bool json = false)
    {
        Parallelism.ThreadCount = threads;
        Checkpoint c;
        Module model;
        string name;
        (Tensor Images, Tensor Labels) test;
        try
        {
            c = Checkpoint.Load(RunFolder.RequireFile("--checkpoint", path));
            name = c.Metadata.GetValueOrDefault("model") ?? throw new InvalidDataException($"{path} has no model name; it was not written by `backprop train`");
            model = Models.Create(name);
            model.LoadStateDict(c.WithPrefix("model."));
            test = FashionMnistRecipe.LoadTestSet(dataDir);
            if (testLimit is int limit && limit < test.Labels.Numel)
                test = (test.Images.Narrow(0, 0, limit).Contiguous(), test.Labels.Narrow(0, 0, limit).Contiguous());
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }
        var (loss, accuracy, confusion) = FashionMnistRecipe.Evaluate(model, name, test.Images, test.Labels);
        ClassScores[] scores = ClassScores.Of(confusion);
        if (json)
        {
            stdout.WriteLine(Json(path, name, c.Metadata.GetValueOrDefault("epoch"), loss, accuracy, test.Labels.Numel, scores, confusion));
            return CliApp.Success;
        }

        IAnsiConsole console = TrainCommand.ConsoleFor(stdout);
        console.MarkupLineInterpolated($"[bold]{Path.GetFileName(path)}[/]: {name} after epoch {c.Metadata.GetValueOrDefault("epoch", "?")}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test loss {loss:F4}, test accuracy {accuracy:P2} ({test.Labels.Numel:N0} images)"));
        var table = new Table().Title("confusion matrix (rows: true class, columns: predicted)");
        table.AddColumn("true \\ predicted");
        for (int j = 0; j < 10; j++) table.AddColumn(new TableColumn(j.ToString(CultureInfo.InvariantCulture)).RightAligned());
        table.AddColumn(new TableColumn("recall").RightAligned());
        table.AddColumn(new TableColumn("precision").RightAligned());
        table.AddColumn(new TableColumn("F1").RightAligned());
        for (int i = 0; i < 10; i++)
        {
            var row = new List<string> { $"{i} {Markup.Escape(FashionMnist.ClassNames[i])}" };
            int total = 0;
            for (int j = 0; j < 10; j++)
            {
                total += confusion[i, j];
                row.Add(i == j ? $"[bold]{confusion[i, j]}[/]" : confusion[i, j].ToString(CultureInfo.InvariantCulture));
            }
            row.Add(total == 0 ? "-" : ((double)confusion[i, i] / total).ToString("P1", CultureInfo.InvariantCulture));
            row.Add(scores[i].Precision.ToString("P1", CultureInfo.InvariantCulture));
            row.Add(scores[i].F1.ToString("F3", CultureInfo.InvariantCulture));
            table.AddRow(row.ToArray());
        }
        console.Write(table);
        double macroF1 = scores.Average(x => x.F1);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"macro-averaged F1 {macroF1:F4}"));
        return CliApp.Success;
    }

    /// <summary>
    /// The --json object: checkpoint, model, epoch, examples, test_loss, test_accuracy, macro_f1, classes
    /// (index, name, precision, recall, f1, support) and confusion (rows: true class).
    /// </summary>
    private static string Json(string path, string model, string? epoch, double loss, double accuracy, long examples, ClassScores[] scores, int[,] confusion)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("checkpoint", path);
            w.WriteString("model", model);
            if (epoch is not null && int.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out int e)) w.WriteNumber("epoch", e);
            w.WriteNumber("examples", examples);
            w.WriteNumber("test_loss", loss);
            w.WriteNumber("test_accuracy", accuracy);
            w.WriteNumber("macro_f1", scores.Average(x => x.F1));
            w.WriteStartArray("classes");
            for (int i = 0; i < scores.Length; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("name", FashionMnist.ClassNames[i]);
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
                for (int j = 0; j < scores.Length; j++) w.WriteNumberValue(confusion[i, j]);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
