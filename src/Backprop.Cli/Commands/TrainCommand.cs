using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Kernels;
using Backprop.Threading;
using Backprop.Training;
using Backprop.Cli.Recipes;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop train</c>: trains the MLP or the CNN on Fashion-MNIST, or the GPT or the LSTM on text, with
/// a live progress bar; evaluates after every epoch (and when --max-minutes ends the run), and writes
/// metrics.jsonl, curves.png and a checkpoint per epoch.
/// </summary>
internal static class TrainCommand
{
    private static readonly string[] ModelNames = [.. Models.Names, .. TextModelConfig.Kinds];

    /// <summary>Builds the command with its options and action.</summary>
    public static Command Create()
    {
        Option<string> model = CliOptions.Choice("--model", "mlp", ModelNames, "Network to train: mlp (784-512-256-10) or cnn (LeNet-style) on Fashion-MNIST; gpt (a byte-level transformer) or lstm on text.");
        Option<string?> dataDir = CliOptions.Path("--data-dir", "mlp, cnn: directory with the Fashion-MNIST IDX files.", "dir", FashionMnist.DefaultDirectory);
        Option<string?> text = CliOptions.Path("--text", $"gpt, lstm: a text file or a folder of text files (binary files and links to files already read are skipped; the last 10% of every file is validation).", "path", TextCorpus.DefaultPath);
        Option<int?> epochs = CliOptions.OptionalCount("--epochs", 1000, "Epochs to train (a resumed run continues up to this count); default 5 (mlp, cnn) or 10 (gpt, lstm).");
        Option<int?> batchSize = CliOptions.OptionalCount("--batch-size", 60000, "Examples per step (default 128); gpt: windows per step (32); lstm: parallel streams (32).");
        Option<double?> lr = CliOptions.OptionalPositiveDouble("--lr", "Learning rate (default 0.001 for adam/adamw, 0.05 for sgd; gpt: 0.003, lstm: 0.005).");
        Option<double?> lrDecay = CliOptions.OptionalPositiveDouble("--lr-decay", "Learning-rate factor per epoch (1 = constant; default 0.7); gpt, lstm: applied smoothly step by step after the warm-up.");
        Option<string?> optimizer = CliOptions.OptionalChoice("--optimizer", FashionMnistRecipe.OptimizerNames, "sgd (momentum 0.9), adam or adamw; default adam (mlp, cnn) or adamw (gpt, lstm; β₂ 0.99, weight decay 0.01).");
        Option<ulong> seed = CliOptions.UInt64("--seed", 0, "Seed for initialisation, shuffling, text windows and dropout.");
        Option<int> threads = CliOptions.Count("--threads", Environment.ProcessorCount, 256, "Compute threads (default: all cores).");
        Option<int?> trainLimit = CliOptions.OptionalCount("--train-limit", 60_000, "mlp, cnn: use only the first N training images (quick runs).");
        Option<int?> testLimit = CliOptions.OptionalCount("--test-limit", 10_000, "mlp, cnn: evaluate on only the first N test images after every epoch (quick runs).");
        Option<double?> maxMinutes = CliOptions.OptionalPositiveDouble("--max-minutes", "End training after this many minutes (fractions allowed): the epoch in progress stops after its current step, is evaluated, and its checkpoint (checkpoints/epoch-N-step-K.ckpt) and metrics are written; --resume from it continues exactly.");
        Option<int?> context = CliOptions.OptionalCount("--context", 1 << 16, "gpt: tokens per window, the attention span (128); lstm: the truncated-BPTT length (128).");
        Option<int?> width = CliOptions.OptionalCount("--width", 1 << 14, "gpt: model width d_model (128); lstm: hidden size (256).");
        Option<int?> heads = CliOptions.OptionalCount("--heads", 1024, "gpt: attention heads (4); the width must be divisible by it.");
        Option<int?> layers = CliOptions.OptionalCount("--layers", 256, "gpt: transformer blocks (4); lstm: stacked layers (1).");
        Option<double?> dropout = CliOptions.OptionalFraction("--dropout", "gpt, lstm: dropout probability while training, in [0, 1) (0).");
        Option<int?> warmup = CliOptions.OptionalInt("--warmup", 0, 1_000_000, "gpt, lstm: steps of linear learning-rate warm-up (gpt 50, lstm 20).");
        Option<int?> stepsPerEpoch = CliOptions.OptionalCount("--steps-per-epoch", int.MaxValue, "gpt, lstm: steps between evaluations (default: one pass over the training text; lstm: at most one pass).");
        Option<string?> output = CliOptions.Path("--out", "Run directory (default runs/<timestamp>; with --resume, the checkpoint's run directory). A directory that holds a run is refused unless --overwrite is given or the run is resumed from its own checkpoint.", "dir");
        Option<string?> resume = CliOptions.Path("--resume", "Continue from a checkpoint written by an earlier run (epoch-N.ckpt, or epoch-N-step-K.ckpt after --max-minutes).", "checkpoint");
        var checkpoint = new Option<bool>("--checkpoint") { Description = "gpt: gradient checkpointing, every transformer block's activations recomputed during backward instead of stored (less memory, about a third more time, same results)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Delete the run already in --out (metrics, plot, checkpoints) before training; with --resume into its own run, drop what came after the checkpoint." };
        var detectAnomaly = new Option<bool>("--detect-anomaly") { Description = "Stop at the first NaN or infinity an op produces in forward or backward, naming the op, its input shapes and where it was created (AnomalyMode; slow, for debugging)." };
        Option<string?> csvData = CliOptions.Path("--data", "A CSV file (plain or .gz) of numeric columns to train an MLP on (classification or regression, decided by the target column), or a folder of images with one subfolder per class (PNG, JPEG, BMP, WebP) to train a CNN on; 20% of the rows or images are held out for testing.", "file|dir");
        Option<int?> imageSize = CliOptions.OptionalInt("--image-size", 4, 1024, $"--data DIR: resize every image to N×N pixels (bilinear, antialiased); default: the images' own size when they all share one of at most {ImageFolderData.LargestDefaultSide}×{ImageFolderData.LargestDefaultSide}, else {ImageFolderData.DefaultSide}×{ImageFolderData.DefaultSide}.");
        var csvTarget = new Option<string?>("--target") { Description = "--data: the target column, by header name or position (0 is the first, -1 the last).", HelpName = "column" };
        Option<int?> skipRows = CliOptions.OptionalInt("--skip-rows", 0, 1_000_000, "--data: lines to skip at the start of the file (1 for scikit-learn's CSV files, whose first line is a preamble).");
        var hidden = new Option<string?>("--hidden") { Description = "--data: hidden layer widths of the MLP, comma-separated (default 128,64).", HelpName = "N,N" };
        var gradReport = new Option<bool>("--grad-report") { Description = $"Record every layer's gradient norm, weight norm, update/weight ratio and dead ReLU units every {GradientMonitor.DefaultInterval} steps into {GradientReport.JsonFile} and {GradientReport.PlotFile}, and warn once if gradients vanish or explode." };

        var command = new Command("train", "Train a network (Fashion-MNIST: mlp, cnn; text: gpt, lstm) and report its loss per epoch.")
        {
            model, dataDir, text, epochs, batchSize, lr, lrDecay, optimizer, seed, threads, trainLimit, maxMinutes,
            context, width, heads, layers, dropout, warmup, stepsPerEpoch, output, resume, overwrite, detectAnomaly, gradReport, checkpoint,
            csvData, csvTarget, skipRows, hidden, testLimit, imageSize,
        };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(model)!;
            if (parse.GetValue(csvData) is { } imagePath && Directory.Exists(imagePath))
            {
                Option[] notForImages = [model, dataDir, text, context, width, heads, layers, dropout, warmup, stepsPerEpoch, csvTarget, skipRows, hidden];
                foreach (Option o in notForImages)
                    if (parse.GetResult(o) is { Implicit: false })
                        throw new CliException($"{o.Name} does not apply to --data DIR (a folder of images trains a CNN; size its input with --image-size)", CliApp.UsageError);
                if (parse.GetValue(checkpoint))
                    throw new CliException("--checkpoint does not apply to --data (it is for gpt)", CliApp.UsageError);
                var d = new ImageFolderOptions { Data = imagePath };
                var imageOptions = d with
                {
                    ImageSize = parse.GetValue(imageSize),
                    TrainLimit = parse.GetValue(trainLimit),
                    TestLimit = parse.GetValue(testLimit),
                    Epochs = parse.GetValue(epochs) ?? d.Epochs,
                    BatchSize = parse.GetValue(batchSize) ?? d.BatchSize,
                    LearningRate = parse.GetValue(lr) ?? (parse.GetValue(optimizer) == "sgd" ? 0.05 : d.LearningRate),
                    LearningRateDecay = parse.GetValue(lrDecay) ?? d.LearningRateDecay,
                    Optimizer = parse.GetValue(optimizer) ?? d.Optimizer,
                    Seed = parse.GetValue(seed),
                };
                using IDisposable? imageAnomaly = parse.GetValue(detectAnomaly) ? AnomalyMode.Enable() : null;
                return Run(new(r => new ImageFolderRecipe(imageOptions, r)), imageOptions.Epochs, parse.GetValue(maxMinutes), parse.GetValue(threads), parse.GetValue(output),
                           parse.GetValue(resume), parse.GetValue(overwrite), parse.InvocationConfiguration.Output, parse.GetValue(gradReport));
            }
            if (parse.GetResult(imageSize) is { Implicit: false })
                throw new CliException("--image-size applies only with --data DIR (a folder of images, one subfolder per class)", CliApp.UsageError);
            if (parse.GetValue(csvData) is { } csvPath)
            {
                Option[] notForCsv = [model, dataDir, text, trainLimit, testLimit, context, width, heads, layers, dropout, warmup, stepsPerEpoch];
                foreach (Option o in notForCsv)
                    if (parse.GetResult(o) is { Implicit: false })
                        throw new CliException($"{o.Name} does not apply to --data FILE.csv (a CSV file trains an MLP; size it with --hidden)", CliApp.UsageError);
                if (parse.GetValue(checkpoint))
                    throw new CliException("--checkpoint does not apply to --data (it is for gpt)", CliApp.UsageError);
                string targetColumn = parse.GetValue(csvTarget) ?? throw new CliException("--data needs --target COLUMN (a header name, or a position such as -1 for the last column)", CliApp.UsageError);
                if (string.IsNullOrWhiteSpace(targetColumn))
                    throw new CliException("--target expects a column name or position, got nothing", CliApp.UsageError);
                var d = new CsvTrainOptions { Data = csvPath, Target = targetColumn };
                var csvOptions = d with
                {
                    SkipRows = parse.GetValue(skipRows) ?? 0,
                    Hidden = ParseHidden(parse.GetValue(hidden)) ?? d.Hidden,
                    Epochs = parse.GetValue(epochs) ?? d.Epochs,
                    BatchSize = parse.GetValue(batchSize) ?? d.BatchSize,
                    LearningRate = parse.GetValue(lr) ?? (parse.GetValue(optimizer) == "sgd" ? 0.05 : d.LearningRate),
                    LearningRateDecay = parse.GetValue(lrDecay) ?? d.LearningRateDecay,
                    Optimizer = parse.GetValue(optimizer) ?? d.Optimizer,
                    Seed = parse.GetValue(seed),
                };
                using IDisposable? csvAnomaly = parse.GetValue(detectAnomaly) ? AnomalyMode.Enable() : null;
                return Run(new(r => new CsvRecipe(csvOptions, r)), csvOptions.Epochs, parse.GetValue(maxMinutes), parse.GetValue(threads), parse.GetValue(output),
                           parse.GetValue(resume), parse.GetValue(overwrite), parse.InvocationConfiguration.Output, parse.GetValue(gradReport));
            }
            foreach (Option o in (Option[])[csvTarget, skipRows, hidden])
                if (parse.GetResult(o) is { Implicit: false })
                    throw new CliException($"{o.Name} applies only with --data FILE.csv", CliApp.UsageError);
            bool isText = TextModelConfig.Kinds.Contains(name);
            // A flag that does not apply to the chosen model is a mistake worth saying, not a silent no-op.
            Option[] textOnly = [text, context, width, layers, dropout, warmup, stepsPerEpoch];
            Option[] imageOnly = [dataDir, trainLimit, testLimit];
            foreach (Option o in isText ? imageOnly : textOnly)
                if (parse.GetResult(o) is { Implicit: false })
                    throw new CliException($"{o.Name} does not apply to --model {name} (it is for {(isText ? "mlp and cnn" : "gpt and lstm")})", CliApp.UsageError);
            if (name != "gpt" && parse.GetResult(heads) is { Implicit: false })
                throw new CliException($"--heads does not apply to --model {name} (it is for gpt)", CliApp.UsageError);
            if (name != "gpt" && parse.GetValue(checkpoint))
                throw new CliException($"--checkpoint does not apply to --model {name} (it is for gpt)", CliApp.UsageError);

            RecipeFactory factory;
            int epochCount;
            if (isText)
            {
                TextOptions d = TextOptions.Defaults(name);
                var options = d with
                {
                    Text = parse.GetValue(text)!,
                    Context = parse.GetValue(context) ?? d.Context,
                    Width = parse.GetValue(width) ?? d.Width,
                    Heads = parse.GetValue(heads) ?? d.Heads,
                    Layers = parse.GetValue(layers) ?? d.Layers,
                    Dropout = parse.GetValue(dropout) ?? d.Dropout,
                    Warmup = parse.GetValue(warmup) ?? d.Warmup,
                    StepsPerEpoch = parse.GetValue(stepsPerEpoch),
                    Epochs = parse.GetValue(epochs) ?? d.Epochs,
                    BatchSize = parse.GetValue(batchSize) ?? d.BatchSize,
                    LearningRate = parse.GetValue(lr) ?? d.LearningRate,
                    LearningRateDecay = parse.GetValue(lrDecay) ?? d.LearningRateDecay,
                    Optimizer = parse.GetValue(optimizer) ?? d.Optimizer,
                    Seed = parse.GetValue(seed),
                    CheckpointBlocks = parse.GetValue(checkpoint),
                };
                if (options.Model == "gpt" && options.Width % options.Heads != 0)
                    throw new CliException($"--width {options.Width} must be divisible by --heads {options.Heads} (each head gets width / heads features)", CliApp.UsageError);
                factory = new(r => new TextRecipe(options, r));
                epochCount = options.Epochs;
            }
            else
            {
                var options = new FashionMnistOptions
                {
                    Model = name,
                    DataDir = parse.GetValue(dataDir)!,
                    Epochs = parse.GetValue(epochs) ?? 5,
                    BatchSize = parse.GetValue(batchSize) ?? 128,
                    LearningRate = parse.GetValue(lr),
                    LearningRateDecay = parse.GetValue(lrDecay) ?? 0.7,
                    Optimizer = parse.GetValue(optimizer) ?? "adam",
                    Seed = parse.GetValue(seed),
                    TrainLimit = parse.GetValue(trainLimit),
                    TestLimit = parse.GetValue(testLimit),
                };
                factory = new(r => new FashionMnistRecipe(options, r));
                epochCount = options.Epochs;
            }
            using IDisposable? anomaly = parse.GetValue(detectAnomaly) ? AnomalyMode.Enable() : null;
            return Run(factory, epochCount, parse.GetValue(maxMinutes), parse.GetValue(threads), parse.GetValue(output), parse.GetValue(resume),
                       parse.GetValue(overwrite), parse.InvocationConfiguration.Output, parse.GetValue(gradReport));
        });
        return command;
    }

    /// <summary>"256,128" as widths; null when absent.</summary>
    /// <exception cref="CliException">Not a comma-separated list of whole numbers from 1 to 65,536.</exception>
    internal static int[]? ParseHidden(string? text)
    {
        if (text is null) return null;
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] < 1 || widths[i] > 65_536)
                throw new CliException($"--hidden expects comma-separated layer widths from 1 to 65536 such as 256,128, got '{text}'", CliApp.UsageError);
        return widths;
    }

    /// <summary>Builds the recipe once every flag is checked (loading its data), resuming from a checkpoint when given.</summary>
    private sealed record RecipeFactory(Func<string?, ITrainingRecipe> Create);

    /// <summary>
    /// Checks every input and loads the data and the checkpoint before the run folder is touched; then
    /// trains epoch by epoch, saving a checkpoint, a metrics line and the plot after each, until the epochs
    /// are done or the time budget is spent.
    /// </summary>
    private static int Run(RecipeFactory factory, int epochs, double? maxMinutes, int threads, string? outDir, string? resume, bool overwrite, TextWriter stdout,
                           bool gradReport = false)
    {
        Parallelism.ThreadCount = threads;
        if (resume is not null)
            resume = Path.GetFullPath(RunFolder.RequireFile("--resume", resume));
        Target target = ChooseFolder(outDir, resume, overwrite);
        ITrainingRecipe recipe;
        try
        {
            recipe = factory.Create(resume);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }
        Trainer trainer = recipe.Trainer;
        var start = new RunPosition(trainer.CompletedEpochs, trainer.EpochStep);
        (string runDir, MetricsLog log) = OpenFolder(target, start, resume, overwrite);
        var steps = new StepLog(Path.Combine(runDir, RunFolder.StepsFile));
        steps.DropAfter(start); // a resumed run repeats the steps after its checkpoint
        trainer.StepCompleted += p => steps.Add(new StepLoss(p.Epoch, p.Step, p.Steps, p.Loss));

        var console = ConsoleFor(stdout);
        console.MarkupLineInterpolated($"[bold]backprop train[/]: {recipe.Describe(Parallelism.ThreadCount)}");
        // The kernels' SIMD width (scalar, 128, 256 or 512 bits): what a slow run or an ARM64 check (tools/check-arm64-run.sh) looks for.
        string simd = VectorWidth.Bits == 0 ? "scalar kernels" : $"{VectorWidth.Name}-bit SIMD";
        console.MarkupLineInterpolated($"{recipe.ParameterCount:N0} parameters, {simd}; writing to [blue]{runDir}[/]");
        if (start > default(RunPosition))
            console.MarkupLineInterpolated($"resumed from {resume} at {start}");
        console.WriteLine(RecipeSummary.Of(recipe).ToString());
        GradientReport? report = null;
        if (gradReport)
        {
            var monitor = new GradientMonitor(trainer.Model);
            trainer.Monitor = monitor;
            report = new GradientReport(runDir, recipe.Name, monitor, trainer.GlobalStep);
            monitor.Warning += w => console.WriteLine(GradientReport.WarningText(w, clipsAlready: trainer.MaxGradNorm is not null));
        }
        if (trainer.CompletedEpochs >= epochs)
            console.MarkupLineInterpolated($"nothing to do: the checkpoint already has {trainer.CompletedEpochs} epochs (--epochs {epochs})");

        // The time budget: once spent, the trainer ends the epoch after the step in progress.
        var clock = Stopwatch.StartNew();
        bool outOfTime = false;
        if (maxMinutes is double minutes)
            trainer.StepCompleted += _ =>
            {
                if (!outOfTime && clock.Elapsed.TotalMinutes >= minutes)
                {
                    outOfTime = true;
                    trainer.RequestStop();
                }
            };

        while (trainer.CompletedEpochs < epochs)
        {
            int epoch = trainer.CompletedEpochs + 1;
            RunPosition before = new(trainer.CompletedEpochs, trainer.EpochStep);
            MetricsLine line;
            try
            {
                line = EpochWithProgress(recipe, epoch, epochs, console);
            }
            catch (TrainingDivergedException e)
            {
                throw new CliException($"{DivergenceMessage(e)} Last good checkpoint: {LastGood(runDir, before)}", inner: e);
            }
            catch (AnomalyException e)
            {
                throw new CliException($"{e.Message} Training stopped in epoch {epoch} (--detect-anomaly); last good checkpoint: {LastGood(runDir, before)}", inner: e);
            }
            // The trainer stops on a non-finite training loss; weights that overflow in the epoch's last
            // update show up only in the evaluation. Such a state is not worth a checkpoint.
            foreach (var (key, value) in line.Values)
                if (key.EndsWith("_loss", StringComparison.Ordinal) && !double.IsFinite(value))
                    throw new CliException(string.Create(CultureInfo.InvariantCulture,
                        $"the {key.Replace('_', ' ')} became {value} in epoch {epoch}; training stopped (try a smaller --lr or --lr-decay). Last good checkpoint: {LastGood(runDir, before)}"));
            string checkpoint = RunFolder.CheckpointPath(runDir, line.Position);
            try
            {
                recipe.SaveCheckpoint(checkpoint);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"{e.Message} Training stopped at {line.Position}; free space or fix permissions, then resume from the last checkpoint saved.", inner: e);
            }
            log.Append(line);
            steps.Flush();
            SavePlot(recipe, log, steps, Path.Combine(runDir, RunFolder.CurvesFile));
            report?.SavePlot();
            console.WriteLine(recipe.Summary(line, epochs));
            if (outOfTime)
            {
                console.MarkupLineInterpolated($"stopped after {clock.Elapsed.TotalMinutes:F1} minutes (--max-minutes {maxMinutes!.Value.ToString(CultureInfo.InvariantCulture)}) at {line.Position}; continue with --resume {checkpoint}");
                break;
            }
        }
        if (trainer.Monitor is { } watched)
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gradient report: {watched.Records.Count} records in {GradientReport.JsonFile} and {GradientReport.PlotFile}; measuring took {watched.Elapsed.TotalSeconds:F2} s, {100 * watched.Elapsed.TotalSeconds / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F2}% of the run's time"));
        console.MarkupLineInterpolated($"done: metrics.jsonl, steps.csv, curves.png and checkpoints/ in {runDir}");
        return CliApp.Success;
    }

    /// <summary>The message for a diverged run: where it happened and what to try.</summary>
    private static string DivergenceMessage(TrainingDivergedException e) =>
        $"the loss became {e.Loss.ToString(CultureInfo.InvariantCulture)} at epoch {e.Epoch}, step {e.Step} of {e.Steps}; training stopped " +
        "(try a smaller --lr). Checkpoints of earlier epochs are kept.";

    /// <summary>The checkpoint of the position before the failed epoch, or "(none yet)".</summary>
    private static string LastGood(string runDir, RunPosition before)
        => before > default(RunPosition) ? RunFolder.CheckpointPath(runDir, before) : "(none yet)";

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
    /// Once every input is loaded: refuses to rewind the checkpoint's own run past later positions (unless
    /// --overwrite), then clears what --overwrite replaces, creates the folder and opens metrics.jsonl.
    /// </summary>
    private static (string Dir, MetricsLog Log) OpenFolder(Target target, RunPosition resumed, string? resume, bool overwrite)
    {
        string dir = target.Dir;
        MetricsLog? previous = target.Continuing ? new MetricsLog(Path.Combine(dir, RunFolder.MetricsFile)) : null;
        if (previous is not null)
        {
            // Resuming an earlier position of a run that went further would overwrite its later checkpoints one by one.
            RunPosition lastCheckpoint = RunFolder.CheckpointPositions(dir) is [.., RunPosition last] ? last : default;
            RunPosition later = previous.LastPosition > lastCheckpoint ? previous.LastPosition : lastCheckpoint;
            if (later > resumed && !overwrite)
            {
                string latest = lastCheckpoint > resumed ? $"resume from the latest (--resume {RunFolder.CheckpointPath(dir, lastCheckpoint)}), " : "";
                throw new CliException(
                    $"--resume {resume} is {resumed}, but its run {dir} already goes to {later}; " +
                    $"{latest}branch off with --out NEWDIR, or pass --overwrite to drop what came after {resumed}");
            }
        }

        // Every input is valid and loaded: only now does anything on disk change.
        if (overwrite)
        {
            if (previous is not null)
            {
                RunFolder.DropAfter(dir, resumed);
                previous.DropAfter(resumed);
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

    private static void SavePlot(ITrainingRecipe recipe, MetricsLog log, StepLog steps, string path)
    {
        try
        {
            recipe.SavePlot(log.Entries, steps.Entries, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {path}: {e.Message}; the checkpoint and metrics of {log.Entries[^1].Position} were saved", inner: e);
        }
    }

    private static MetricsLine EpochWithProgress(ITrainingRecipe recipe, int epoch, int epochs, IAnsiConsole console)
    {
        Trainer trainer = recipe.Trainer;
        if (!console.Profile.Capabilities.Interactive)
        {
            // Logs and pipes: a progress line every half minute, so a long epoch is not silent.
            var sinceLine = Stopwatch.StartNew();
            void OnStepPlain(StepProgress p)
            {
                string progress = recipe.Progress(p);
                if (sinceLine.Elapsed.TotalSeconds < 30) return;
                sinceLine.Restart();
                console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  epoch {epoch}/{epochs} step {p.Step}/{p.Steps}: {progress}"));
            }
            trainer.StepCompleted += OnStepPlain;
            try
            {
                return recipe.RunEpoch();
            }
            finally
            {
                trainer.StepCompleted -= OnStepPlain;
            }
        }
        MetricsLine result = null!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"epoch {epoch}/{epochs}", maxValue: trainer.StepsPerEpoch);
                task.Value = trainer.EpochStep;
                void OnStep(StepProgress p)
                {
                    task.Value = p.Step;
                    string progress = recipe.Progress(p);
                    if (p.Step % 10 == 0 || p.Step == p.Steps)
                        task.Description = $"epoch {epoch}/{epochs}  {progress}";
                }
                trainer.StepCompleted += OnStep;
                try
                {
                    result = recipe.RunEpoch();
                }
                finally
                {
                    trainer.StepCompleted -= OnStep;
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
