using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using Backprop.Data;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Cli.Estimators;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop estimators</c>: gradients through discrete steps on Fashion-MNIST. A binarized-weight MLP
/// trained with the straight-through sign, beside the same network with float weights; and a network that
/// learns to pick the right class by sampling, trained with REINFORCE (running-mean baseline) and with the
/// straight-through Gumbel-softmax, with the variance and bias of each gradient estimate measured on one batch.
/// </summary>
internal static class EstimatorsCommand
{
    /// <summary>Builds the command with its options and action.</summary>
    public static Command Create()
    {
        Option<int?> steps = CliOptions.OptionalCount("--steps", 100_000, "Adam steps of every network trained (default 600).");
        Option<int?> samples = CliOptions.OptionalInt("--samples", 2, 100_000, "Draws of one batch over which each gradient estimate's variance is measured, at least 2 (default 100).");
        Option<int?> batchSize = CliOptions.OptionalCount("--batch-size", 60_000, "Images per step and in the measured batch (default 128).");
        Option<ulong> seed = CliOptions.UInt64("--seed", 0, "Seed for initialisation, shuffling and sampling.");
        Option<int> threads = CliOptions.Count("--threads", Environment.ProcessorCount, 256, "Compute threads (default: all cores).");
        Option<string?> dataDir = CliOptions.Path("--data-dir", "Directory with the Fashion-MNIST IDX files.", "dir", FashionMnist.DefaultDirectory);
        Option<int?> trainLimit = CliOptions.OptionalCount("--train-limit", 60_000, "Use only the first N training images.");
        var json = new Option<bool>("--json") { Description = "Print one JSON object per result (JSON lines) instead of the tables." };

        var command = new Command("estimators",
            "Gradients through discrete steps: a binarized-weight MLP trained with the straight-through estimator, and " +
            "REINFORCE against straight-through Gumbel-softmax on learning to pick the right class by sampling.")
        {
            steps, samples, batchSize, seed, threads, dataDir, trainLimit, json,
        };
        command.SetAction(parse =>
        {
            int stepCount = parse.GetValue(steps) ?? 600, batch = parse.GetValue(batchSize) ?? 128;
            ulong seedValue = parse.GetValue(seed);
            var binary = new BinaryMlpSettings { Steps = stepCount, BatchSize = batch, Seed = seedValue };
            var choice = new ChoiceSettings { Steps = stepCount, BatchSize = batch, Samples = parse.GetValue(samples) ?? 100, Seed = seedValue };
            return Run(binary, choice, parse.GetValue(threads), parse.GetValue(dataDir)!, parse.GetValue(trainLimit), parse.GetValue(json), parse.InvocationConfiguration.Output);
        });
        return command;
    }

    /// <summary>Everything one run measured.</summary>
    internal sealed record Report(BinaryMlpResult[] Binary, ChoiceTraining[] Training, GradientSpread[] Spreads);

    private static int Run(BinaryMlpSettings binary, ChoiceSettings choice, int threads, string dataDir, int? trainLimit, bool json, TextWriter stdout)
    {
        Parallelism.ThreadCount = threads;
        var (train, test) = FashionMnistRecipe.LoadForCommand(dataDir, trainLimit, binary.BatchSize);

        IAnsiConsole console = TrainCommand.ConsoleFor(stdout);
        if (!json)
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"backprop estimators: {binary.Steps} Adam steps per network, batch {binary.BatchSize}, {train.Images.Shape[0]:N0} Fashion-MNIST images, {choice.Samples} draws per variance, {Parallelism.ThreadCount} thread(s), seed {binary.Seed}"));
        Report report = Measure(binary, choice, train.Images, train.Labels, test.Images, test.Labels, json ? null : line => console.WriteLine(line));
        if (json)
        {
            foreach (string line in Records(report, binary, choice)) stdout.WriteLine(line);
            return CliApp.Success;
        }
        WriteTables(console, report, binary, choice);
        return CliApp.Success;
    }

    /// <summary>Runs both experiments; <paramref name="progress"/> gets a line as each part finishes.</summary>
    internal static Report Measure(BinaryMlpSettings binary, ChoiceSettings choice, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY, Action<string>? progress = null)
    {
        var results = new List<BinaryMlpResult>();
        foreach (bool binarize in new[] { true, false })
        {
            BinaryMlpResult r = BinaryMlp.Train(binary with { Binarize = binarize }, trainX, trainY, testX, testY);
            results.Add(r);
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"  {(binarize ? "binary" : "float"),-8} MLP: test accuracy {r.TestAccuracy:P1} ({r.Seconds:F1} s)"));
        }

        // The measured batch: the first images, the same for every estimator and both points.
        int n = choice.BatchSize;
        Tensor bx = trainX.Narrow(0, 0, n), by = trainY.Narrow(0, 0, n);
        ChoiceEstimator[] measured = [ChoiceEstimator.ReinforceNoBaseline, ChoiceEstimator.Reinforce, ChoiceEstimator.StraightThroughGumbel];
        var spreads = new List<GradientSpread>();
        void MeasureAt(Sequential policy, string at)
        {
            // REINFORCE's baseline here is the batch's expected reward, the value a running mean settles at.
            double baseline = ChoiceTask.Score(policy, bx, by).ExpectedReward;
            foreach (ChoiceEstimator e in measured)
                spreads.Add(ChoiceTask.Spread(e, policy, bx, by, baseline, at, choice, choice.Seed + 100));
        }
        MeasureAt(ChoiceTask.CreatePolicy(choice.Seed), "init");

        var trained = new List<ChoiceTraining>();
        Sequential? reinforcePolicy = null;
        foreach (ChoiceEstimator e in new[] { ChoiceEstimator.Reinforce, ChoiceEstimator.ReinforceNoBaseline, ChoiceEstimator.StraightThroughGumbel })
        {
            (Sequential policy, ChoiceTraining t) = ChoiceTask.Train(e, choice, trainX, trainY, testX, testY);
            trained.Add(t);
            reinforcePolicy ??= policy;
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"  {Name(e),-22} greedy test accuracy {t.GreedyAccuracy:P1} ({t.Seconds:F1} s)"));
        }
        MeasureAt(reinforcePolicy!, "trained");
        return new Report([.. results], [.. trained], [.. spreads]);
    }

    /// <summary>The estimator's name in tables and JSON.</summary>
    public static string Name(ChoiceEstimator e) => e switch
    {
        ChoiceEstimator.Reinforce => "reinforce",
        ChoiceEstimator.ReinforceNoBaseline => "reinforce-no-baseline",
        _ => "straight-through-gumbel",
    };

    // ---------------- JSON ----------------

    internal static IEnumerable<string> Records(Report report, BinaryMlpSettings binary, ChoiceSettings choice)
    {
        foreach (BinaryMlpResult r in report.Binary)
            yield return Json(w =>
            {
                w.WriteString("kind", "binary_mlp");
                w.WriteString("weights", r.Binarized ? "binary" : "float");
                w.WriteNumber("steps", r.Steps);
                w.WriteNumber("batch_size", binary.BatchSize);
                w.WriteNumber("lr", binary.LearningRate);
                Number(w, "train_loss_last50", r.TrainLoss);
                Number(w, "test_loss", r.TestLoss);
                Number(w, "test_accuracy", r.TestAccuracy);
                if (r.Binarized) Number(w, "signs_flipped", r.FlippedFraction); else w.WriteNull("signs_flipped");
                w.WriteNumber("seconds", Math.Round(r.Seconds, 3));
            });
        foreach (ChoiceTraining t in report.Training)
            yield return Json(w =>
            {
                w.WriteString("kind", "choice_training");
                w.WriteString("estimator", Name(t.Estimator));
                w.WriteNumber("steps", t.Steps);
                w.WriteNumber("lr", choice.LearningRate);
                Number(w, "greedy_test_accuracy", t.GreedyAccuracy);
                Number(w, "expected_test_reward", t.ExpectedReward);
                w.WriteNumber("seconds", Math.Round(t.Seconds, 3));
            });
        foreach (GradientSpread g in report.Spreads)
            yield return Json(w =>
            {
                w.WriteString("kind", "gradient_spread");
                w.WriteString("estimator", Name(g.Estimator));
                w.WriteString("at", g.At);
                w.WriteNumber("samples", g.Samples);
                w.WriteNumber("batch_size", choice.BatchSize);
                Number(w, "variance", g.Variance);
                Number(w, "mean_norm", g.MeanNorm);
                Number(w, "exact_norm", g.ExactNorm);
                Number(w, "cosine_to_exact", g.Cosine);
                Number(w, "relative_bias", g.RelativeBias);
                Number(w, "relative_noise", g.RelativeNoise);
            });
    }

    /// <summary>A number, or null when it is not finite (JSON has no NaN or infinity).</summary>
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    private static string Json(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // ---------------- tables ----------------

    private static string G(double v) => v.ToString("0.##e+00", CultureInfo.InvariantCulture);

    private static string P(double v) => v.ToString("P1", CultureInfo.InvariantCulture);

    private static void WriteTables(IAnsiConsole console, Report report, BinaryMlpSettings binary, ChoiceSettings choice)
    {
        var mlp = new Table().Title(string.Create(CultureInfo.InvariantCulture,
            $"784-{binary.Hidden}-{binary.Hidden}-10 MLP, batch norm, Adam lr {binary.LearningRate}, {binary.Steps} steps"));
        mlp.AddColumn("weights");
        mlp.AddColumn(new TableColumn("test accuracy").RightAligned());
        mlp.AddColumn(new TableColumn("test loss").RightAligned());
        mlp.AddColumn(new TableColumn("signs flipped").RightAligned());
        foreach (BinaryMlpResult r in report.Binary)
            mlp.AddRow(r.Binarized ? "±1 (SteSign, clipped STE, latent float weights)" : "float (reference)", P(r.TestAccuracy),
                       r.TestLoss.ToString("F3", CultureInfo.InvariantCulture), r.Binarized ? P(r.FlippedFraction) : "-");
        console.Write(mlp);

        var training = new Table().Title(string.Create(CultureInfo.InvariantCulture,
            $"pick the right class by sampling (reward 1 if right): 784-64-10 policy, Adam lr {choice.LearningRate}, {choice.Steps} steps"));
        training.AddColumn("estimator");
        training.AddColumn(new TableColumn("greedy test accuracy").RightAligned());
        training.AddColumn(new TableColumn("expected test reward").RightAligned());
        foreach (ChoiceTraining t in report.Training)
            training.AddRow(Name(t.Estimator), P(t.GreedyAccuracy), t.ExpectedReward.ToString("F3", CultureInfo.InvariantCulture));
        console.Write(training);

        var spread = new Table().Title(string.Create(CultureInfo.InvariantCulture,
            $"first-layer weight gradient over {choice.Samples} draws on one batch of {choice.BatchSize} (exact gradient: −∇ mean p(label))"));
        spread.AddColumn("estimator");
        spread.AddColumn("at");
        spread.AddColumn(new TableColumn("variance (trace)").RightAligned());
        spread.AddColumn(new TableColumn("‖mean‖").RightAligned());
        spread.AddColumn(new TableColumn("‖exact‖").RightAligned());
        spread.AddColumn(new TableColumn("cos(mean, exact)").RightAligned());
        spread.AddColumn(new TableColumn("‖mean − exact‖/‖exact‖").RightAligned());
        spread.AddColumn(new TableColumn("noise √(var/K)/‖exact‖").RightAligned());
        foreach (GradientSpread g in report.Spreads)
            spread.AddRow(Name(g.Estimator), g.At, G(g.Variance), G(g.MeanNorm), G(g.ExactNorm),
                          g.Cosine.ToString("F3", CultureInfo.InvariantCulture), g.RelativeBias.ToString("F3", CultureInfo.InvariantCulture),
                          g.RelativeNoise.ToString("F3", CultureInfo.InvariantCulture));
        console.Write(spread);
        console.WriteLine("REINFORCE is unbiased: its mean misses the exact gradient by about the noise of a mean of K draws. The straight-through " +
                          "Gumbel-softmax estimate is much less noisy but biased: its mean misses by more than its noise. A running-mean baseline " +
                          "is not the variance-minimising one: compare the two REINFORCE rows at each point.");
    }
}
