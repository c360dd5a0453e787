using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Backprop.Data;
using Backprop.Threading;
using Backprop.Training;
using Backprop.Cli.Recipes;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop train</c>: trains the MLP or the CNN on Fashion-MNIST with a live progress bar,
/// evaluates after every epoch, and writes metrics.jsonl, curves.png and one checkpoint per epoch.
/// </summary>
internal static class TrainCommand
{
    /// <summary>Builds the command with its options and action.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Network to train: mlp (784-512-256-10) or cnn (LeNet-style).", DefaultValueFactory = _ => "mlp" };
        model.AcceptOnlyFromAmong(Models.Names);
        var dataDir = new Option<string>("--data-dir") { Description = "Directory with the Fashion-MNIST IDX files.", DefaultValueFactory = _ => FashionMnist.DefaultDirectory, HelpName = "dir" };
        Option<int> epochs = CliOptions.Count("--epochs", 5, 1000, "Epochs to train (a resumed run continues up to this count).");
        Option<int> batchSize = CliOptions.Count("--batch-size", 128, 60000, "Examples per step.");
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default 0.001 for adam/adamw, 0.05 for sgd).", HelpName = "number" };
        lr.Validators.Add(r =>
        {
            double? v = r.GetValueOrDefault<double?>();
            if (v is double d && !(d > 0 && double.IsFinite(d))) r.AddError($"--lr must be a finite number greater than 0, got {d.ToString(CultureInfo.InvariantCulture)}");
        });
        var lrDecay = CliOptions.Double("--lr-decay", 0.7, "Learning-rate factor applied after every epoch (1 = constant).", positive: true);
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (momentum 0.9), adam or adamw.", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong(FashionMnistRecipe.OptimizerNames);
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation and shuffling.", DefaultValueFactory = _ => 0UL };
        Option<int> threads = CliOptions.Count("--threads", Environment.ProcessorCount, 256, "Compute threads (default: all cores).");
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training images (quick runs).", HelpName = "N" };
        trainLimit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is int n && n < 1) r.AddError($"--train-limit must be at least 1, got {n}");
        });
        var output = new Option<string?>("--out") { Description = "Run directory (default runs/<timestamp>; with --resume, the checkpoint's run directory).", HelpName = "dir" };
        var resume = new Option<string?>("--resume") { Description = "Continue from a checkpoint written by an earlier run.", HelpName = "checkpoint" };

        var command = new Command("train", "Train a network on Fashion-MNIST and report loss and accuracy per epoch.")
        {
            model, dataDir, epochs, batchSize, lr, lrDecay, optimizer, seed, threads, trainLimit, output, resume,
        };
        command.SetAction(parse =>
        {
            var options = new FashionMnistOptions
            {
                Model = parse.GetValue(model)!,
                DataDir = parse.GetValue(dataDir)!,
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batchSize),
                LearningRate = parse.GetValue(lr),
                LearningRateDecay = parse.GetValue(lrDecay),
                Optimizer = parse.GetValue(optimizer)!,
                Seed = parse.GetValue(seed),
                TrainLimit = parse.GetValue(trainLimit),
            };
            return Run(options, parse.GetValue(threads), parse.GetValue(output), parse.GetValue(resume),
                       parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    private static int Run(FashionMnistOptions options, int threads, string? outDir, string? resume, TextWriter stdout, TextWriter stderr)
    {
        Parallelism.ThreadCount = threads;
        if (resume is not null && !File.Exists(resume))
            throw new CliException($"--resume: checkpoint not found: {resume}", CliApp.UsageError);
        outDir ??= resume is not null
            ? Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(resume)))!
            : Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        string checkpoints = Path.Combine(outDir, "checkpoints");
        Directory.CreateDirectory(checkpoints);

        FashionMnistRecipe recipe;
        try
        {
            recipe = new FashionMnistRecipe(options, resume);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message);
        }

        var console = ConsoleFor(stdout);
        console.MarkupLineInterpolated($"[bold]backprop train[/]: {options.Model} on Fashion-MNIST ({recipe.TrainCount:N0} training images), {options.Optimizer} lr {options.EffectiveLearningRate.ToString(CultureInfo.InvariantCulture)}, batch {options.BatchSize}, {Parallelism.ThreadCount} thread(s), seed {options.Seed}");
        console.MarkupLineInterpolated($"{recipe.Model.ParameterCount():N0} parameters; writing to [blue]{Path.GetFullPath(outDir)}[/]");
        if (recipe.CompletedEpochs > 0)
            console.MarkupLineInterpolated($"resumed from {resume} after epoch {recipe.CompletedEpochs}");

        var log = new MetricsLog(Path.Combine(outDir, "metrics.jsonl"), keepEpochsUpTo: recipe.CompletedEpochs);
        if (recipe.CompletedEpochs >= options.Epochs)
            console.MarkupLineInterpolated($"nothing to do: the checkpoint already has {recipe.CompletedEpochs} epochs (--epochs {options.Epochs})");

        while (recipe.CompletedEpochs < options.Epochs)
        {
            int epoch = recipe.CompletedEpochs + 1;
            EpochMetrics metrics;
            try
            {
                metrics = EpochWithProgress(recipe, epoch, options.Epochs, console);
            }
            catch (TrainingDivergedException e)
            {
                string last = epoch > 1 ? Path.Combine(checkpoints, $"epoch-{epoch - 1}.ckpt") : "(none yet)";
                throw new CliException($"{FashionMnistRecipe.DivergenceMessage(e)} Last good checkpoint: {last}");
            }
            string checkpoint = Path.Combine(checkpoints, $"epoch-{epoch}.ckpt");
            recipe.SaveCheckpoint(checkpoint);
            log.Append(metrics);
            SavePlot(log.Entries, Path.Combine(outDir, "curves.png"), options.Model);
            console.MarkupLineInterpolated(
                $"epoch {epoch}/{options.Epochs}: train loss {metrics.TrainLoss:F4} acc {metrics.TrainAccuracy:P2} | test loss {metrics.TestLoss:F4} [bold]acc {metrics.TestAccuracy:P2}[/] | {metrics.SamplesPerSec:N0} samples/s, {metrics.Seconds:F1} s");
        }
        console.MarkupLineInterpolated($"done: metrics.jsonl, curves.png and checkpoints/ in {Path.GetFullPath(outDir)}");
        return CliApp.Success;
    }

    private static void SavePlot(List<EpochMetrics> entries, string path, string model)
    {
        int n = entries.Count;
        double[] epochs = new double[n], trainLoss = new double[n], testLoss = new double[n], trainAcc = new double[n], testAcc = new double[n];
        for (int i = 0; i < n; i++)
        {
            EpochMetrics m = entries[i];
            (epochs[i], trainLoss[i], testLoss[i], trainAcc[i], testAcc[i]) = (m.Epoch, m.TrainLoss, m.TestLoss, m.TrainAccuracy, m.TestAccuracy);
        }
        CurvesPlot.Save(path, model, epochs, trainLoss, testLoss, trainAcc, testAcc);
    }

    private static EpochMetrics EpochWithProgress(FashionMnistRecipe recipe, int epoch, int epochs, IAnsiConsole console)
    {
        if (!console.Profile.Capabilities.Interactive)
            return recipe.TrainEpoch();
        EpochMetrics result = null!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"epoch {epoch}/{epochs}", maxValue: recipe.StepsPerEpoch);
                void OnStep(StepProgress p)
                {
                    task.Value = p.Step;
                    if (p.Step % 10 == 0 || p.Step == p.Steps)
                        task.Description = string.Create(CultureInfo.InvariantCulture,
                            $"epoch {epoch}/{epochs}  loss {p.Metric("loss"):F4}  acc {p.Metric("accuracy"):P1}  {p.SamplesPerSec:N0}/s");
                }
                recipe.Trainer.StepCompleted += OnStep;
                try
                {
                    result = recipe.TrainEpoch();
                }
                finally
                {
                    recipe.Trainer.StepCompleted -= OnStep;
                }
                task.Description = $"epoch {epoch}/{epochs}  evaluating";
            });
        return result;
    }

    /// <summary>A Spectre console on the given writer; interactive (live progress) only on a real terminal.</summary>
    internal static IAnsiConsole ConsoleFor(TextWriter writer)
    {
        bool terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!terminal) console.Profile.Width = 240; // logs and pipes: one line per message, no wrapping
        return console;
    }
}
