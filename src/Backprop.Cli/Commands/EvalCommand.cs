using System.CommandLine;
using System.Globalization;
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
        var command = new Command("eval", "Evaluate a checkpoint on the Fashion-MNIST test set: loss, accuracy and confusion matrix.")
        {
            checkpoint, dataDir, threads,
        };
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(dataDir)!, parse.GetValue(threads), parse.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(string path, string dataDir, int threads, TextWriter stdout)
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
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }
        var (loss, accuracy, confusion) = FashionMnistRecipe.Evaluate(model, name, test.Images, test.Labels);

        IAnsiConsole console = TrainCommand.ConsoleFor(stdout);
        console.MarkupLineInterpolated($"[bold]{Path.GetFileName(path)}[/]: {name} after epoch {c.Metadata.GetValueOrDefault("epoch", "?")}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test loss {loss:F4}, test accuracy {accuracy:P2} ({test.Labels.Numel:N0} images)"));
        var table = new Table().Title("confusion matrix (rows: true class, columns: predicted)");
        table.AddColumn("true \\ predicted");
        for (int j = 0; j < 10; j++) table.AddColumn(new TableColumn(j.ToString(CultureInfo.InvariantCulture)).RightAligned());
        table.AddColumn(new TableColumn("recall").RightAligned());
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
            table.AddRow(row.ToArray());
        }
        console.Write(table);
        return CliApp.Success;
    }
}
