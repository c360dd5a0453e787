using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using Backprop.Data;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Cli.Diagnostics;
using Backprop.Cli.Recipes;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop diagnose</c>: vanishing and exploding gradients made visible. Trains networks of equal depth
/// on Fashion-MNIST (sigmoid with default init, ReLU with He init, batch norm, residual blocks, layer norm,
/// an over-scaled exploding network with and without gradient clipping), prints first- and last-layer
/// gradient norms, their ratio and the loss reached, and writes a figure of gradient norm against depth.
/// </summary>
internal static class DiagnoseCommand
{
    /// <summary>The records, one JSON object per variant and line, in the output folder.</summary>
    public const string RecordsFile = "diagnose.jsonl";

    /// <summary>The figure in the output folder.</summary>
    public const string FigureFile = "gradient_depth.png";

    /// <summary>Builds the command with its options and action.</summary>
    public static Command Create()
    {
        Option<int?> steps = CliOptions.OptionalCount("--steps", 100_000, "Training steps per network (default 200).");
        Option<int?> depth = CliOptions.OptionalInt("--depth", 3, 200, "Linear layers per network, 3 to 200 (default 20).");
        Option<int?> width = CliOptions.OptionalCount("--width", 4096, "Hidden width (default 64).");
        Option<int?> batchSize = CliOptions.OptionalCount("--batch-size", 60_000, "Images per step (default 128).");
        Option<double?> lr = CliOptions.OptionalPositiveDouble("--lr", $"SGD learning rate, momentum 0.9 (default 0.003); the exploding pair uses {DepthVariants.ExplodingLearningRateFactor}x.");
        Option<ulong> seed = CliOptions.UInt64("--seed", 0, "Seed for initialisation and shuffling (the same for every network).");
        Option<int> threads = CliOptions.Count("--threads", Environment.ProcessorCount, 256, "Compute threads (default: all cores).");
        Option<string?> dataDir = CliOptions.Path("--data-dir", "Directory with the Fashion-MNIST IDX files.", "dir", FashionMnist.DefaultDirectory);
        Option<int?> trainLimit = CliOptions.OptionalCount("--train-limit", 60_000, "Use only the first N training images.");
        Option<string?> output = CliOptions.Path("--out", $"Folder for {RecordsFile} and {FigureFile} (default runs/diagnose/<timestamp>); one that holds them is refused unless --overwrite.", "dir");
        var overwrite = new Option<bool>("--overwrite") { Description = $"Replace {RecordsFile} and {FigureFile} in --out." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per network (JSON lines) instead of the table." };

        var command = new Command("diagnose",
            "Vanishing and exploding gradients, side by side: networks of equal depth trained on Fashion-MNIST, " +
            "with the gradient norm of every layer, the first/last ratio and the loss reached.")
        {
            steps, depth, width, batchSize, lr, seed, threads, dataDir, trainLimit, output, overwrite, json,
        };
        command.SetAction(parse =>
        {
            var settings = new DiagnosisSettings
            {
                Steps = parse.GetValue(steps) ?? 200,
                Depth = parse.GetValue(depth) ?? 20,
                Width = parse.GetValue(width) ?? 64,
                BatchSize = parse.GetValue(batchSize) ?? 128,
                LearningRate = parse.GetValue(lr) ?? new DiagnosisSettings().LearningRate,
                Seed = parse.GetValue(seed),
            };
            return Run(settings, parse.GetValue(threads), parse.GetValue(dataDir)!, parse.GetValue(trainLimit), parse.GetValue(output),
                       parse.GetValue(overwrite), parse.GetValue(json), parse.InvocationConfiguration.Output);
        });
        return command;
    }

    private static int Run(DiagnosisSettings s, int threads, string dataDir, int? trainLimit, string? outDir, bool overwrite, bool json, TextWriter stdout)
    {
        Parallelism.ThreadCount = threads;
        string dir = ChooseFolder(outDir, overwrite);
        var (train, test) = FashionMnistRecipe.LoadForCommand(dataDir, trainLimit, s.BatchSize);

        IAnsiConsole console = TrainCommand.ConsoleFor(stdout);
        if (!json)
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"backprop diagnose: {DepthVariants.All.Length} networks of {s.Depth} linear layers (width {s.Width}), {s.Steps} SGD steps each " +
                $"(batch {s.BatchSize}, lr {s.LearningRate}, momentum 0.9) on {train.Images.Shape[0]:N0} Fashion-MNIST images, {Parallelism.ThreadCount} thread(s), seed {s.Seed}"));
        var results = new List<DiagnosisResult>();
        foreach (DepthVariant variant in DepthVariants.All)
        {
            DiagnosisResult r = GradientDiagnosis.Run(variant, s, train.Images, train.Labels, test.Images, test.Labels);
            results.Add(r);
            if (!json)
                console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {variant.Name,-15} {r.Seconds,5:F1} s"));
        }

        string[] records = results.Select(r => Record(r, s, dir)).ToArray();
        Save(dir, s, results, records);
        if (json)
        {
            foreach (string line in records) stdout.WriteLine(line);
            return CliApp.Success;
        }
        console.Write(Table(results, s));
        foreach (string line in Findings(results)) console.WriteLine(line);
        console.MarkupLineInterpolated($"wrote {FigureFile} and {RecordsFile} to [blue]{dir}[/]");
        return CliApp.Success;
    }

    /// <summary>--out, or a new runs/diagnose/&lt;timestamp&gt;; a folder that already holds a diagnosis is refused unless --overwrite. Creates nothing.</summary>
    private static string ChooseFolder(string? outDir, bool overwrite)
    {
        if (outDir is null)
            return RunFolder.NewDefault(Path.Combine("runs", "diagnose"), DateTime.Now);
        string dir = Path.GetFullPath(outDir);
        RunFolder.CheckCanBeFolder(dir, "--out");
        string[] existing = [.. new[] { RecordsFile, FigureFile }.Where(f => Path.Exists(Path.Combine(dir, f)))];
        if (existing.Length > 0 && !overwrite)
            throw new CliException($"--out {dir} already holds a diagnosis ({string.Join(", ", existing)}); choose a new folder with --out, or pass --overwrite to replace it");
        return dir;
    }

    private static void Save(string dir, DiagnosisSettings s, List<DiagnosisResult> results, string[] records)
    {
        try
        {
            Directory.CreateDirectory(dir);
            string recordsPath = Path.Combine(dir, RecordsFile), temp = recordsPath + ".tmp";
            File.WriteAllLines(temp, records);
            File.Move(temp, recordsPath, overwrite: true);
            DepthGradientPlot.Save(Path.Combine(dir, FigureFile),
                string.Create(CultureInfo.InvariantCulture, $"gradient norm by depth ({s.Depth} linear layers, width {s.Width}, step 1)"),
                results.Select(r => (r.Variant.Name, r.FirstNorms, r.Variant.ClipNorm is not null)).ToList());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--out {dir}: cannot write the diagnosis: {e.Message}", inner: e);
        }
    }

    /// <summary>
    /// The verdict on a run: exploding (diverged, or norms past 1e3), "exploding, clipped" (norms past 1e3 but
    /// clipping kept the run finite), vanishing (first/last below 1e-3) or healthy.
    /// </summary>
    public static string Verdict(DiagnosisResult r)
    {
        bool huge = r.FirstNorms.Any(n => !(n < 1e3));
        if (huge && r.DivergedAtStep is null && r.Variant.ClipNorm is not null) return "exploding, clipped";
        if (r.DivergedAtStep is not null || huge) return "exploding";
        if (!(r.Ratio >= 1e-3)) return "vanishing";
        return "healthy";
    }

    // ---------------- JSON ----------------

    /// <summary>One variant as a JSON object on one line; non-finite numbers (a diverged run) are written as null.</summary>
    internal static string Record(DiagnosisResult r, DiagnosisSettings s, string dir)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("variant", r.Variant.Name);
            w.WriteString("description", r.Variant.Description);
            w.WriteNumber("depth", s.Depth);
            w.WriteNumber("width", s.Width);
            w.WriteNumber("steps", s.Steps);
            w.WriteNumber("steps_run", r.StepsRun);
            w.WriteNumber("batch_size", s.BatchSize);
            w.WriteNumber("lr", r.LearningRate);
            if (r.Variant.ClipNorm is double clip) w.WriteNumber("clip_norm", clip); else w.WriteNull("clip_norm");
            w.WriteNumber("seed", s.Seed);
            Number(w, "grad_norm_first", r.FirstLayerNorm);
            Number(w, "grad_norm_last", r.LastLayerNorm);
            Number(w, "ratio_first_last", r.Ratio);
            Numbers(w, "grad_norms", r.FirstNorms);
            Numbers(w, "grad_norms_mean", r.MeanNorms);
            w.WriteNumber("grad_norms_mean_steps", Math.Min(s.AveragedSteps, s.Steps));
            Number(w, "train_loss_first", r.FirstLoss);
            Number(w, "train_loss_last", r.LastLoss);
            Number(w, "test_loss", r.TestLoss);
            Number(w, "test_accuracy", r.TestAccuracy);
            if (r.DivergedAtStep is int at) w.WriteNumber("diverged_step", at); else w.WriteNull("diverged_step");
            w.WriteString("verdict", Verdict(r));
            w.WriteNumber("seconds", Math.Round(r.Seconds, 3));
            w.WriteString("out", dir);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    private static void Numbers(Utf8JsonWriter w, string name, double[] values)
    {
        w.WriteStartArray(name);
        foreach (double v in values)
            if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue();
        w.WriteEndArray();
    }

    // ---------------- human text ----------------

    private static string G(double v) => double.IsFinite(v) ? v.ToString("0.##e+00", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => !double.IsFinite(v) ? v.ToString(CultureInfo.InvariantCulture)
        : Math.Abs(v) >= 1e4 ? G(v) : v.ToString("F3", CultureInfo.InvariantCulture);

    private static Table Table(List<DiagnosisResult> results, DiagnosisSettings s)
    {
        var table = new Table().Title(string.Create(CultureInfo.InvariantCulture,
            $"weight-gradient L2 norms at step 1 (layer 1 = input side, layer {s.Depth} = output); loss after {s.Steps} steps"));
        table.AddColumn("network");
        table.AddColumn(new TableColumn("‖∇W₁‖").RightAligned());
        table.AddColumn(new TableColumn($"‖∇W{Subscript(s.Depth)}‖").RightAligned());
        table.AddColumn(new TableColumn("first/last").RightAligned());
        table.AddColumn(new TableColumn("loss step 1").RightAligned());
        table.AddColumn(new TableColumn($"loss step {s.Steps}").RightAligned());
        table.AddColumn(new TableColumn("test loss").RightAligned());
        table.AddColumn(new TableColumn("test acc").RightAligned());
        table.AddColumn("verdict");
        foreach (DiagnosisResult r in results)
        {
            string last = r.DivergedAtStep is int at ? $"{G(r.LastLoss)} (step {at})" : F(r.LastLoss);
            string verdict = Verdict(r) switch
            {
                "vanishing" => "[yellow]vanishing[/]",
                "exploding" => "[red]exploding[/]",
                "exploding, clipped" => "[blue]exploding, clipped[/]",
                _ => "[green]healthy[/]",
            };
            table.AddRow(
                $"{r.Variant.Name} ({Markup.Escape(r.Variant.Description)})", G(r.FirstLayerNorm), G(r.LastLayerNorm), G(r.Ratio),
                F(r.FirstLoss), Markup.Escape(last), F(r.TestLoss),
                double.IsFinite(r.TestAccuracy) ? r.TestAccuracy.ToString("P1", CultureInfo.InvariantCulture) : "-", verdict);
        }
        return table;
    }

    private static string Subscript(int n) => string.Concat(n.ToString(CultureInfo.InvariantCulture).Select(c => (char)('₀' + (c - '0'))));

    /// <summary>One sentence per verdict, with the numbers behind it.</summary>
    private static IEnumerable<string> Findings(List<DiagnosisResult> results)
    {
        foreach (DiagnosisResult r in results)
        {
            string verdict = Verdict(r);
            string name = r.Variant.Name;
            if (verdict == "vanishing")
                yield return $"{name}: the first layer gets {G(r.Ratio)} of the last layer's gradient: it vanishes on the way back (sigmoid' ≤ 1/4 per layer). Remedies: ReLU with He init, normalization, residual connections.";
            else if (verdict == "exploding" && r.DivergedAtStep is int at)
                yield return $"{name}: gradient norms up to {G(r.FirstNorms.Max())} at step 1; the loss became {r.LastLoss.ToString(CultureInfo.InvariantCulture)} at step {at}. Remedies: gradient clipping, a careful init, a smaller learning rate.";
            else if (verdict.StartsWith("exploding", StringComparison.Ordinal))
                yield return $"{name}: gradient norms up to {G(r.FirstNorms.Max())} at step 1, yet {(r.Variant.ClipNorm is double c ? $"clipping the global norm to {c.ToString(CultureInfo.InvariantCulture)} kept" : "the run kept")} the loss finite ({F(r.LastLoss)} at step {r.StepsRun}).";
        }
    }
}
