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
        Option<string> model = CliOptions.Choice("--model", "mlp", Models.Names, "Network to train: mlp (784-512-256-10) or cnn (LeNet-style).");
        Option<string?> dataDir = CliOptions.Path("--data-dir", "Directory with the Fashion-MNIST IDX files.", "dir", FashionMnist.DefaultDirectory);
        Option<int> epochs = CliOptions.Count("--epochs", 5, 1000, "Epochs to train (a resumed run continues up to this count).");
        Option<int> batchSize = CliOptions.Count("--batch-size", 128, 60000, "Examples per step.");
        Option<double?> lr = CliOptions.OptionalPositiveDouble("--lr", "Learning rate (default 0.001 for adam/adamw, 0.05 for sgd).");
        var lrDecay = CliOptions.Double("--lr-decay", 0.7, "Learning-rate factor applied after every epoch (1 = constant).", positive: true);
        Option<string> optimizer = CliOptions.Choice("--optimizer", "adam", FashionMnistRecipe.OptimizerNames, "sgd (momentum 0.9), adam or adamw.");
        Option<ulong> seed = CliOptions.UInt64("--seed", 0, "Seed for initialisation and shuffling.");
        Option<int> threads = CliOptions.Count("--threads", Environment.ProcessorCount, 256, "Compute threads (default: all cores).");
        Option<int?> trainLimit = CliOptions.OptionalCount("--train-limit", 60_000, "Use only the first N training images (quick runs).");
        Option<string?> output = CliOptions.Path("--out", "Run directory (default runs/<timestamp>; with --resume, the checkpoint's run directory). A directory that holds a run is refused unless --overwrite is given or the run is resumed from its own checkpoint.", "dir");
        Option<string?> resume = CliOptions.Path("--resume", "Continue from a checkpoint written by an earlier run.", "checkpoint");
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete the run already in --out (metrics, plot, checkpoints) before training; with --resume into its own run, drop the epochs after the checkpoint." };

        var command = new Command("train", "Train a network on Fashion-MNIST and report loss and accuracy per epoch.")
        {
            model, dataDir, epochs, batchSize, lr, lrDecay, optimizer, seed, threads, trainLimit, output, resume, overwrite,
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
            return Run(options, parse.GetValue(threads), parse.GetValue(output), parse.GetValue(resume), parse.GetValue(overwrite),
                       parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    /// <summary>
    /// Checks every input and loads the data and the checkpoint before the run folder is touched; then
    /// trains epoch by epoch, saving a checkpoint, a metrics line and the plot after each.
    /// </summary>
    private static int Run(FashionMnistOptions options, int threads, string? outDir, string? resume, bool overwrite, TextWriter stdout, TextWriter stderr)
    {
        Parallelism.ThreadCount = threads;
        if (resume is not null)
            resume = Path.GetFullPath(RunFolder.RequireFile("--resume", resume));
        Target target = ChooseFolder(outDir, resume, overwrite);
        FashionMnistRecipe recipe;
        try
        {
            recipe = new FashionMnistRecipe(options, resume);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }
        (string runDir, MetricsLog log) = OpenFolder(target, recipe.CompletedEpochs, resume, overwrite);

        var console = ConsoleFor(stdout);
        console.MarkupLineInterpolated($"[bold]backprop train[/]: {options.Model} on Fashion-MNIST ({recipe.TrainCount:N0} training images), {options.Optimizer} lr {options.EffectiveLearningRate.ToString(CultureInfo.InvariantCulture)}, batch {options.BatchSize}, {Parallelism.ThreadCount} thread(s), seed {options.Seed}");
        console.MarkupLineInterpolated($"{recipe.Model.ParameterCount():N0} parameters; writing to [blue]{runDir}[/]");
        if (recipe.CompletedEpochs > 0)
            console.MarkupLineInterpolated($"resumed from {resume} after epoch {recipe.CompletedEpochs}");
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
                string last = epoch > 1 ? RunFolder.CheckpointPath(runDir, epoch - 1) : "(none yet)";
                throw new CliException($"{FashionMnistRecipe.DivergenceMessage(e)} Last good checkpoint: {last}", inner: e);
            }
            // The trainer stops on a non-finite training loss; weights that overflow in the epoch's last
            // update show up only in the evaluation. Such a state is not worth a checkpoint.
            if (!double.IsFinite(metrics.TestLoss) || !double.IsFinite(metrics.TrainLoss))
            {
                string last = epoch > 1 ? RunFolder.CheckpointPath(runDir, epoch - 1) : "(none yet)";
                string which = double.IsFinite(metrics.TrainLoss) ? "test loss" : "training loss";
                double value = double.IsFinite(metrics.TrainLoss) ? metrics.TestLoss : metrics.TrainLoss;
                throw new CliException(string.Create(CultureInfo.InvariantCulture,
                    $"the {which} became {value} in epoch {epoch}; training stopped (try a smaller --lr or --lr-decay). Last good checkpoint: {last}"));
            }
            string checkpoint = RunFolder.CheckpointPath(runDir, epoch);
            try
            {
                recipe.SaveCheckpoint(checkpoint);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"{e.Message} Training stopped after epoch {epoch}; free space or fix permissions, then resume from the last checkpoint saved.", inner: e);
            }
            log.Append(metrics);
            SavePlot(log.Entries, Path.Combine(runDir, RunFolder.CurvesFile), options.Model);
            console.MarkupLineInterpolated(
                $"epoch {epoch}/{options.Epochs}: train loss {metrics.TrainLoss:F4} acc {metrics.TrainAccuracy:P2} | test loss {metrics.TestLoss:F4} [bold]acc {metrics.TestAccuracy:P2}[/] | {metrics.SamplesPerSec:N0} samples/s, {metrics.Seconds:F1} s");
        }
        console.MarkupLineInterpolated($"done: metrics.jsonl, curves.png and checkpoints/ in {runDir}");
        return CliApp.Success;
    }

    /// <summary>Where a run writes: the folder, the flag that chose it, whether it continues the checkpoint's own run, and whether it is the default runs/&lt;timestamp&gt;.</summary>
    private sealed record Target(string Dir, string Flag, bool Continuing, bool IsDefault);

    /// <summary>
    /// The run folder: --out, else the run the checkpoint belongs to, else a new runs/&lt;timestamp&gt;.
    /// Refuses a path that cannot be a folder and a folder holding another run; creates nothing.
    /// </summary>
    private static Target ChooseFolder(string? outDir, string? resume, bool overwrite)
    {
        string? resumedRun = resume is null ? null : RunFolder.RunOf(resume);
        string dir = outDir is not null ? Path.GetFullPath(outDir) : resumedRun ?? RunFolder.NewDefault("runs", DateTime.Now);
        var target = new Target(dir, outDir is not null ? "--out" : "--resume",
                                Continuing: resumedRun is not null && RunFolder.Same(dir, resumedRun),
                                IsDefault: outDir is null && resumedRun is null);
        RunFolder.CheckCanBeFolder(dir, target.Flag);
        if (!target.Continuing && !overwrite && RunFolder.ExistingRun(dir) is { } existing)
        {
            string? latest = RunFolder.LatestCheckpoint(dir);
            string next = latest is null ? "" : $"continue it with --resume {latest}, ";
            throw new CliException($"{target.Flag} {dir} already holds a run ({existing}); {next}choose a new folder with --out, or pass --overwrite to replace it");
        }
        return target;
    }

    /// <summary>
    /// Once every input is loaded: refuses to rewind the checkpoint's own run past later epochs (unless
    /// --overwrite), then clears what --overwrite replaces, creates the folder and opens metrics.jsonl.
    /// </summary>
    private static (string Dir, MetricsLog Log) OpenFolder(Target target, int completedEpochs, string? resume, bool overwrite)
    {
        string dir = target.Dir;
        MetricsLog? previous = target.Continuing ? new MetricsLog(Path.Combine(dir, RunFolder.MetricsFile)) : null;
        if (previous is not null)
        {
            // Resuming an earlier epoch of a run that went further would overwrite its later checkpoints one by one.
            int lastCheckpoint = RunFolder.CheckpointEpochs(dir) is [.., int last] ? last : 0;
            int later = Math.Max(previous.LastEpoch, lastCheckpoint);
            if (later > completedEpochs && !overwrite)
            {
                string latest = lastCheckpoint > completedEpochs ? $"resume from the latest (--resume {RunFolder.CheckpointPath(dir, lastCheckpoint)}), " : "";
                throw new CliException(
                    $"--resume {resume} is epoch {completedEpochs}, but its run {dir} already goes to epoch {later}; " +
                    $"{latest}branch off with --out NEWDIR, or pass --overwrite to drop the epochs after {completedEpochs}");
            }
        }

        // Every input is valid and loaded: only now does anything on disk change.
        if (overwrite)
        {
            if (previous is not null)
            {
                RunFolder.DropEpochsAfter(dir, completedEpochs);
                previous.DropAfter(completedEpochs);
            }
            else if (RunFolder.ExistingRun(dir) is not null)
                RunFolder.Clear(dir);
        }
        // Another run started in the same second may have taken the default name while the data loaded.
        if (target.IsDefault && Path.Exists(dir))
            dir = RunFolder.NewDefault("runs", DateTime.Now);
        RunFolder.Create(dir, target.Flag); // temp files a crashed save left behind go with the next Checkpoint.Save
        MetricsLog log = previous ?? new MetricsLog(Path.Combine(dir, RunFolder.MetricsFile));
        log.Touch();
        return (dir, log);
    }

    private static void SavePlot(List<EpochMetrics> entries, string path, string model)
    {
        try
        {
            SavePlotUnchecked(entries, path, model);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {path}: {e.Message}; the checkpoint and metrics of epoch {entries[^1].Epoch} were saved", inner: e);
        }
    }

    private static void SavePlotUnchecked(List<EpochMetrics> entries, string path, string model)
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
