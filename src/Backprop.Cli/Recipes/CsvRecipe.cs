using System.Globalization;
using Backprop.Data;
using Backprop.Data.Csv;
using Backprop.IO;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Loss;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;
using Backprop.Training;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Recipes;

/// <summary>
/// The recipe behind <c>backprop train --data FILE.csv --target COLUMN</c>: the library's
/// <see cref="CsvReader"/> decides classification or regression from the target; a seeded random split
/// holds out <see cref="CsvTrainOptions.TestFraction"/> of the rows; the features are standardized with the
/// training split's mean and standard deviation (a regression target too); an MLP with ReLU is trained with
/// cross-entropy or mean squared error, evaluated on the held-out rows after every epoch. Checkpoints carry a
/// <see cref="CsvModelInfo"/> so `backprop predict` can standardize new rows and name the classes.
/// </summary>
internal sealed class CsvRecipe : ITrainingRecipe
{
    /// <summary>Names accepted for <see cref="CsvTrainOptions.Optimizer"/>.</summary>
    public static readonly string[] OptimizerNames = ["adamw", "adam", "sgd"];

    /// <summary>The split's generator is the run's seed mixed with this, so the split does not shift the initialisation.</summary>
    private const ulong SplitSalt = 0x5EED_5A1D_C5F0_0001UL;

    private readonly Tensor _testX, _testY;

    /// <summary>Reads the file, splits and standardizes it, builds the model, optimizer and trainer, and restores <paramref name="resumeFrom"/> if given.</summary>
    /// <exception cref="IOException">The file is missing or unreadable.</exception>
    /// <exception cref="InvalidDataException">A ragged or non-numeric row (the message names the line).</exception>
    /// <exception cref="ArgumentException">A bad target column, too few rows, or a checkpoint of another run.</exception>
    public CsvRecipe(CsvTrainOptions options, string? resumeFrom = null)
    {
        if (!OptimizerNames.Contains(options.Optimizer))
            throw new ArgumentException($"train: unknown optimizer '{options.Optimizer}' (use adamw, adam or sgd)");
        Options = options;
        CsvTable table;
        try
        {
            table = CsvReader.Read(options.Data, CsvColumn.Parse(options.Target), new CsvOptions { SkipRows = options.SkipRows });
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"--data: no such file: {options.Data}", options.Data, e);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--target {options.Target}: {e.Message}", e);
        }
        catch (InvalidDataException e) when (e.Message.Contains("skipRows", StringComparison.Ordinal))
        {
            throw new InvalidDataException(e.Message.Replace("skipRows: ", "--skip-rows ", StringComparison.Ordinal), e);
        }
        bool classes = table.Kind == TargetKind.Classification;
        int n = table.Count, f = table.FeatureNames.Count;
        (int[] trainRows, int[] testRows) = Split(table, options.TestFraction, options.Seed, $"--data {options.Data}");

        float[] features = table.Features.Contiguous().ToArray<float>();
        double[] mean = new double[f], std = new double[f];
        foreach (int r in trainRows)
            for (int j = 0; j < f; j++) mean[j] += features[r * f + j];
        for (int j = 0; j < f; j++) mean[j] /= trainRows.Length;
        foreach (int r in trainRows)
            for (int j = 0; j < f; j++) { double d = features[r * f + j] - mean[j]; std[j] += d * d; }
        for (int j = 0; j < f; j++)
        {
            std[j] = Math.Sqrt(std[j] / trainRows.Length); // population std, as scikit-learn's StandardScaler
            if (std[j] < 1e-12) std[j] = 1; // a constant column (digits' blank corners) stays 0 after centring
        }

        double targetMean = 0, targetStd = 1;
        float[]? values = classes ? null : table.Targets.Contiguous().ToArray<float>();
        if (values is not null)
        {
            targetMean = trainRows.Average(r => (double)values[r]);
            targetStd = Math.Sqrt(trainRows.Average(r => (values[r] - targetMean) * (values[r] - targetMean)));
            if (targetStd < 1e-12) targetStd = 1;
        }
        Info = new CsvModelInfo
        {
            Task = classes ? "classification" : "regression",
            Source = Path.GetFullPath(options.Data),
            TargetName = table.TargetName,
            FeatureNames = [.. table.FeatureNames],
            Mean = mean,
            Std = std,
            Hidden = options.Hidden,
            ClassValues = [.. table.ClassValues],
            TargetMean = targetMean,
            TargetStd = targetStd,
            Target = options.Target,
            SkipRows = options.SkipRows,
            TestFraction = options.TestFraction,
        };
        TrainCount = trainRows.Length;
        TestCount = testRows.Length;
        RowCount = n;

        (Tensor trainX, Tensor trainY) = Rows(trainRows);
        (_testX, _testY) = Rows(testRows);
        var loader = new DataLoader(new TensorDataset(trainX, trainY), Math.Min(options.BatchSize, TrainCount), shuffle: true, dropLast: false, seed: options.Seed);

        var rng = new Generator(options.Seed);
        Model = Info.CreateModel(rng);
        Optimizer optimizer = options.Optimizer switch
        {
            "sgd" => new Sgd(Model.Parameters(), new SgdOptions(LearningRate: options.LearningRate, Momentum: 0.9)),
            "adam" => new Adam(Model.Parameters(), new AdamOptions(LearningRate: options.LearningRate)),
            _ => new AdamW(Model.Parameters(), new AdamOptions(LearningRate: options.LearningRate, WeightDecay: 0.01)),
        };
        Func<Tensor, Tensor, Tensor> loss = classes ? (o, t) => Functional.CrossEntropy(o, t) : (o, t) => Functional.MseLoss(o, t);
        Func<Tensor, Tensor, Tensor> summed = classes
            ? (o, t) => Functional.CrossEntropy(o, t, Reduction.Sum)
            : (o, t) => Functional.MseLoss(o, t, Reduction.Sum);
        Trainer = new Trainer(Model, optimizer, loss, loader)
        {
            EvaluationData = [(_testX, _testY)],
            EpochScheduler = new StepLR(optimizer, stepSize: 1, gamma: options.LearningRateDecay),
            TrainingMetrics = classes ? [new MeanLoss(), new Accuracy()] : [new MeanLoss()],
            EvaluationMetrics = classes ? [MeanLoss.FromSum(summed), new Accuracy()] : [MeanLoss.FromSum(summed)],
            Generator = rng,
        };
        if (resumeFrom is not null) Resume(resumeFrom);

        // Standardized rows [count, F] and their targets (class indices, or standardized values [count, 1]).
        (Tensor X, Tensor Y) Rows(int[] rows)
        {
            var raw = new double[rows.Length * f];
            for (int i = 0; i < rows.Length; i++)
                for (int j = 0; j < f; j++) raw[i * f + j] = features[rows[i] * f + j];
            Tensor x = Info.Standardize(raw, rows.Length);
            if (values is null)
            {
                long[] labels = table.Targets.Contiguous().ToArray<long>();
                return (x, Tensor.FromArray(rows.Select(r => labels[r]).ToArray(), new Shape(rows.Length)));
            }
            return (x, Tensor.FromArray(rows.Select(r => (float)((values[r] - targetMean) / targetStd)).ToArray(), new Shape(rows.Length, 1)));
        }
    }

    /// <summary>The held-out split of <paramref name="table"/>: (training, test) row indices, drawn from <paramref name="seed"/> as <c>random_split</c>.</summary>
    /// <exception cref="ArgumentException">Too few rows to hold out a share and train on the rest.</exception>
    internal static (int[] Train, int[] Test) Split(CsvTable table, double testFraction, ulong seed, string what)
    {
        int n = table.Count;
        int testCount = (int)Math.Round(n * testFraction);
        if (testCount < 1 || n - testCount < 2)
            throw new ArgumentException($"{what}: {n} rows are too few to hold out {testFraction:P0} for testing and train on the rest");
        Subset<(Tensor Input, Tensor Target)>[] split = Dataset.RandomSplit(table.ToDataset(), [n - testCount, testCount], new Generator(seed ^ SplitSalt));
        return ([.. split[0].Indices], [.. split[1].Indices]);
    }

    /// <summary>The options of this run.</summary>
    public CsvTrainOptions Options { get; }

    /// <summary>What a checkpoint of this run carries for `predict`.</summary>
    public CsvModelInfo Info { get; }

    /// <summary>The network.</summary>
    public Sequential Model { get; }

    /// <inheritdoc/>
    public Trainer Trainer { get; }

    /// <summary>Rows in the file.</summary>
    public int RowCount { get; }

    /// <summary>Rows trained on.</summary>
    public int TrainCount { get; }

    /// <summary>Rows held out for testing.</summary>
    public int TestCount { get; }

    /// <inheritdoc/>
    public string Name => "csv-mlp";

    /// <inheritdoc/>
    public long ParameterCount => Model.ParameterCount();

    /// <inheritdoc/>
    public string Describe(int threads)
    {
        string task = Info.IsClassification ? $"classification, {Info.ClassValues.Length} classes" : "regression";
        return string.Create(CultureInfo.InvariantCulture,
            $"mlp {Info.Features}-{string.Join('-', Info.Hidden)}-{Info.Outputs} on {Options.Data} (target '{Info.TargetName}': {task}; {RowCount:N0} rows: " +
            $"{TrainCount:N0} training, {TestCount:N0} held out for testing, split by seed {Options.Seed}; features standardized with the training rows' mean and std), " +
            $"{Options.Optimizer} lr {Options.LearningRate} (×{Options.LearningRateDecay}/epoch), batch {Options.BatchSize}, {threads} thread(s)");
    }

    /// <inheritdoc/>
    public MetricsLine RunEpoch()
    {
        EpochResult r = Trainer.TrainEpoch();
        int step = r.Complete ? 0 : r.EpochStep;
        if (Info.IsClassification)
            return new EpochMetrics(r.Epoch, r.Training["loss"], r.Training["accuracy"], r.Evaluation!["loss"], r.Evaluation["accuracy"],
                                    r.SamplesPerSec, r.Seconds) { EpochStep = step }.ToLine();
        // The losses are in standardized units; the RMSE is in the target's own.
        return new MetricsLine(r.Epoch, step,
        [
            new("train_loss", r.Training["loss"]),
            new("test_loss", r.Evaluation!["loss"]),
            new("test_rmse", Math.Sqrt(r.Evaluation["loss"]) * Info.TargetStd),
            new("samples_per_sec", Math.Round(r.SamplesPerSec, 1)),
            new("seconds", Math.Round(r.Seconds, 3)),
        ]);
    }

    /// <inheritdoc/>
    public string Progress(StepProgress p) => Info.IsClassification
        ? string.Create(CultureInfo.InvariantCulture, $"loss {p.Metric("loss"):F4}  acc {p.Metric("accuracy"):P1}  {p.SamplesPerSec:N0}/s")
        : string.Create(CultureInfo.InvariantCulture, $"loss {p.Metric("loss"):F4}  {p.SamplesPerSec:N0}/s");

    /// <inheritdoc/>
    public string Summary(MetricsLine m, int epochs)
    {
        string where = m.Partial ? $"epoch {m.Epoch}/{epochs} (stopped at step {m.EpochStep})" : $"epoch {m.Epoch}/{epochs}";
        return Info.IsClassification
            ? string.Create(CultureInfo.InvariantCulture,
                $"{where}: train loss {m["train_loss"]:F4} acc {m["train_accuracy"]:P2} | test loss {m["test_loss"]:F4} acc {m["test_accuracy"]:P2} ({TestCount} held-out rows) | {m["seconds"]:F1} s")
            : string.Create(CultureInfo.InvariantCulture,
                $"{where}: train loss {m["train_loss"]:F4} | test loss {m["test_loss"]:F4}, RMSE {m["test_rmse"]:G5} ({TestCount} held-out rows) | {m["seconds"]:F1} s");
    }

    /// <inheritdoc/>
    public void SavePlot(IReadOnlyList<MetricsLine> lines, IReadOnlyList<StepLoss> steps, string path)
    {
        if (Info.IsClassification)
            CurvesPlot.SaveClassification(path, Name, lines, steps, Trainer.StepsPerEpoch);
        else
            CurvesPlot.SaveLossOnly(path, Name, "mean squared error (standardized target)", lines, steps, Trainer.StepsPerEpoch, "test_loss", "test");
    }

    /// <inheritdoc/>
    public void SaveCheckpoint(string path) => Trainer.SaveCheckpoint(path, RunMetadata());

    private Dictionary<string, string> RunMetadata() => new()
    {
        ["model"] = Name,
        [CsvModelInfo.MetadataKey] = Info.ToJson(),
        ["optimizer"] = Options.Optimizer,
        ["epochs"] = Options.Epochs.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = Options.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["lr"] = Options.LearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["lr_decay"] = Options.LearningRateDecay.ToString("R", CultureInfo.InvariantCulture),
        ["seed"] = Options.Seed.ToString(CultureInfo.InvariantCulture),
        ["train_count"] = TrainCount.ToString(CultureInfo.InvariantCulture),
    };

    private void Resume(string path)
    {
        Checkpoint c = ResumeCheck.LoadTraining(path);
        ResumeCheck.SameSettings(c, path, RunMetadata(), key => key, "use the same --data, --target, --hidden and training flags to resume exactly");
        Trainer.LoadCheckpoint(c);
    }
}
