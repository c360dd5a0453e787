using System.Diagnostics;
using System.Globalization;
using Backprop.Data;
using Backprop.IO;
using Backprop.NN;
using Backprop.Optim;

namespace Backprop.Training;

/// <summary>Settings of a Fashion-MNIST training run (the CLI's `train` flags).</summary>
public sealed record TrainOptions
{
    /// <summary>"mlp" or "cnn".</summary>
    public string Model { get; init; } = "mlp";

    /// <summary>Directory with the IDX files.</summary>
    public string DataDir { get; init; } = FashionMnist.DefaultDirectory;

    /// <summary>Number of epochs to reach (a resumed run continues up to this count).</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Learning rate; null picks the optimizer's default for this recipe.</summary>
    public double? LearningRate { get; init; }

    /// <summary>"sgd" (momentum 0.9), "adam" or "adamw".</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Seed for initialisation and shuffling.</summary>
    public ulong Seed { get; init; }

    /// <summary>Learning-rate factor applied after every epoch (1 = constant). Per-epoch, so it does not depend on the run's length and resuming stays exact.</summary>
    public double LearningRateDecay { get; init; } = 0.7;

    /// <summary>Use only the first N training images (null = all).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Peak learning rate after the recipe's defaults are applied.</summary>
    public double EffectiveLearningRate => LearningRate ?? (Optimizer == "sgd" ? 0.05 : 1e-3);
}

/// <summary>One epoch's results, as written to metrics.jsonl.</summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
                                  double SamplesPerSec, double Seconds);

/// <summary>Live numbers during an epoch, for progress displays.</summary>
public readonly record struct StepProgress(int Epoch, int Step, int Steps, double Loss, double Accuracy, double SamplesPerSec);

/// <summary>Thrown when the loss stops being a finite number.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// Trains a model on Fashion-MNIST with exact resume: the model, optimizer state, schedule
/// position and epoch are checkpointed, and the data order of an epoch depends only on the seed
/// and the epoch number, so training 2 epochs equals training 1, resuming, and training 1 more.
/// </summary>
public sealed class Trainer
{
    private readonly Tensor _trainX, _trainY, _testX, _testY;
    private readonly DataLoader _loader;
    private readonly StepLR _schedule;
    private readonly Generator _rng;

    /// <summary>Loads the data, builds the model and optimizer, and restores <paramref name="resumeFrom"/> if given.</summary>
    /// <exception cref="ArgumentException">Bad options, or a checkpoint of another model or optimizer.</exception>
    public Trainer(TrainOptions options, string? resumeFrom = null)
    {
        if (options.Model is not ("mlp" or "cnn"))
            throw new ArgumentException($"train: unknown model '{options.Model}' (use mlp or cnn)");
        if (options.Optimizer is not ("sgd" or "adam" or "adamw"))
            throw new ArgumentException($"train: unknown optimizer '{options.Optimizer}' (use sgd, adam or adamw)");
        Options = options;
        _rng = new Generator(options.Seed);

        (Tensor trainX, Tensor trainY) = FashionMnist.Load(options.DataDir, train: true);
        (Tensor testX, Tensor testY) = FashionMnist.Load(options.DataDir, train: false);
        if (options.TrainLimit is int limit && limit < trainX.Shape[0])
        {
            trainX = trainX.Narrow(0, 0, limit).Contiguous();
            trainY = trainY.Narrow(0, 0, limit).Contiguous();
        }
        _trainX = Normalize(trainX);
        _trainY = trainY;
        _testX = Normalize(testX);
        _testY = testY;
        _loader = new DataLoader(new TensorDataset(_trainX, _trainY), options.BatchSize, shuffle: true, dropLast: false, seed: options.Seed);

        // Everything random in the run (initialisation here, dropout in models that have it) draws from
        // the run's own generator, whose state goes into every checkpoint.
        Model = Models.Create(options.Model, _rng);
        double lr = options.EffectiveLearningRate;
        Optimizer = options.Optimizer switch
        {
            "sgd" => new Sgd(Model.Parameters(), new SgdOptions(LearningRate: lr, Momentum: 0.9)),
            "adamw" => new AdamW(Model.Parameters(), new AdamOptions(LearningRate: lr, WeightDecay: 0.01)),
            _ => new Adam(Model.Parameters(), new AdamOptions(LearningRate: lr)),
        };
        // Exponential decay per epoch: the rate at epoch e never depends on how many epochs the run has.
        _schedule = new StepLR(Optimizer, stepSize: 1, gamma: options.LearningRateDecay);
        if (resumeFrom is not null) Restore(resumeFrom);
    }

    /// <summary>The options of this run.</summary>
    public TrainOptions Options { get; }

    /// <summary>The network.</summary>
    public Sequential Model { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Epochs already completed (0 for a fresh run).</summary>
    public int CompletedEpochs { get; private set; }

    /// <summary>Training examples in use.</summary>
    public int TrainCount => _trainX.Shape[0];

    /// <summary>Steps per epoch.</summary>
    public int StepsPerEpoch => _loader.BatchCount;

    private static Tensor Normalize(Tensor x) => Transforms.Normalize(x, FashionMnist.PixelMean, FashionMnist.PixelStd);

    private Tensor Shape(Tensor x) => Options.Model == "cnn" ? x.View(x.Shape[0], 1, 28, 28) : x;

    /// <summary>Trains the next epoch and evaluates on the test set.</summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (the message names the step).</exception>
    public EpochMetrics TrainEpoch(Action<StepProgress>? progress = null)
    {
        int epoch = CompletedEpochs + 1;
        Model.Train();
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        long correct = 0, seen = 0;
        int step = 0, steps = _loader.BatchCount;
        foreach (var (x, y) in _loader.Epoch(epoch - 1))
        {
            step++;
            Optimizer.ZeroGrad();
            Tensor logits = Model.Forward(Shape(x));
            Tensor loss = Functional.CrossEntropy(logits, y);
            double lossValue = loss.Item();
            if (!double.IsFinite(lossValue))
                throw new TrainingDivergedException(
                    $"the loss became {lossValue.ToString(CultureInfo.InvariantCulture)} at epoch {epoch}, step {step} of {steps}; training stopped " +
                    "(try a smaller --lr). Checkpoints of earlier epochs are kept.");
            loss.Backward();
            Optimizer.Step();

            int n = x.Shape[0];
            lossSum += lossValue * n;
            seen += n;
            correct += CountCorrect(logits, y);
            progress?.Invoke(new StepProgress(epoch, step, steps, lossSum / seen, (double)correct / seen, seen / clock.Elapsed.TotalSeconds));
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var (testLoss, testAccuracy, _) = Evaluate();
        CompletedEpochs = epoch;
        _schedule.Step();
        return new EpochMetrics(epoch, lossSum / seen, (double)correct / seen, testLoss, testAccuracy, seen / trainSeconds, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Test-set loss, accuracy and confusion matrix [true, predicted].</summary>
    public (double Loss, double Accuracy, int[,] Confusion) Evaluate() => Evaluate(Model, Options.Model, _testX, _testY);

    /// <summary>Loss, accuracy and confusion matrix of <paramref name="model"/> on normalised images.</summary>
    public static (double Loss, double Accuracy, int[,] Confusion) Evaluate(Module model, string modelName, Tensor images, Tensor labels)
    {
        model.Eval();
        var confusion = new int[10, 10];
        double lossSum = 0;
        long correct = 0;
        int n = images.Shape[0];
        using (GradMode.Disable())
        {
            for (int start = 0; start < n; start += 1000)
            {
                int count = Math.Min(1000, n - start);
                Tensor x = images.Narrow(0, start, count);
                if (modelName == "cnn") x = x.Reshape(count, 1, 28, 28);
                Tensor y = labels.Narrow(0, start, count);
                Tensor logits = model.Forward(x);
                lossSum += Functional.CrossEntropy(logits, y, Reduction.Sum).Item();
                long[] predicted = logits.ArgMax(1).ToArray<long>();
                long[] truth = y.ToArray<long>();
                for (int i = 0; i < count; i++)
                {
                    confusion[truth[i], predicted[i]]++;
                    if (truth[i] == predicted[i]) correct++;
                }
            }
        }
        model.Train();
        return (lossSum / n, (double)correct / n, confusion);
    }

    /// <summary>Loads and normalises the test split, for evaluating a checkpoint.</summary>
    public static (Tensor Images, Tensor Labels) LoadTestSet(string dataDir)
    {
        var (x, y) = FashionMnist.Load(dataDir, train: false);
        return (Normalize(x), y);
    }

    private static long CountCorrect(Tensor logits, Tensor labels)
    {
        long[] predicted;
        using (GradMode.Disable()) predicted = logits.ArgMax(1).ToArray<long>();
        long[] truth = labels.ToArray<long>();
        long correct = 0;
        for (int i = 0; i < truth.Length; i++) if (predicted[i] == truth[i]) correct++;
        return correct;
    }

    /// <summary>Writes model, optimizer, schedule position and epoch to <paramref name="path"/> (crash-safe).</summary>
    public void SaveCheckpoint(string path)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, t) in Model.StateDict()) tensors.Add(new("model." + name, t));
        foreach (var (name, t) in Optimizer.StateDict()) tensors.Add(new("optimizer." + name, t));
        ulong[] rng = _rng.GetState();
        var rngWords = new long[rng.Length];
        for (int i = 0; i < rng.Length; i++) rngWords[i] = unchecked((long)rng[i]);
        tensors.Add(new("rng", Tensor.FromArray(rngWords)));
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "backprop-train-1",
            ["model"] = Options.Model,
            ["optimizer"] = Options.Optimizer,
            ["epoch"] = CompletedEpochs.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = Options.Epochs.ToString(CultureInfo.InvariantCulture),
            ["batch_size"] = Options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["lr"] = Options.EffectiveLearningRate.ToString("R", CultureInfo.InvariantCulture),
            ["seed"] = Options.Seed.ToString(CultureInfo.InvariantCulture),
            ["train_count"] = TrainCount.ToString(CultureInfo.InvariantCulture),
            ["lr_decay"] = Options.LearningRateDecay.ToString("R", CultureInfo.InvariantCulture),
        };
        new Checkpoint(tensors, metadata).Save(path);
    }

    private void Restore(string path)
    {
        Checkpoint c = Checkpoint.Load(path);
        if (!c.Metadata.TryGetValue("format", out string? format) || format != "backprop-train-1")
            throw new ArgumentException($"resume: {path} is not a training checkpoint");
        void Expect(string key, string actual)
        {
            if (c.Metadata.TryGetValue(key, out string? saved) && saved != actual)
                throw new ArgumentException($"resume: {path} was trained with {key} = {saved}, but this run uses {key} = {actual}; use the same settings to resume exactly");
        }
        Expect("optimizer", Options.Optimizer);
        Expect("batch_size", Options.BatchSize.ToString(CultureInfo.InvariantCulture));
        Expect("seed", Options.Seed.ToString(CultureInfo.InvariantCulture));
        Expect("train_count", TrainCount.ToString(CultureInfo.InvariantCulture));
        Expect("lr", Options.EffectiveLearningRate.ToString("R", CultureInfo.InvariantCulture));
        Expect("lr_decay", Options.LearningRateDecay.ToString("R", CultureInfo.InvariantCulture));
        try
        {
            Model.LoadStateDict(c.WithPrefix("model."));
        }
        catch (ArgumentException e)
        {
            string savedModel = c.Metadata.GetValueOrDefault("model", "?");
            throw new ArgumentException($"resume: {path} holds a '{savedModel}' model that does not fit '{Options.Model}'. {e.Message}", e);
        }
        Optimizer.LoadStateDict(c.WithPrefix("optimizer."));
        long[] words = c.Get("rng").ToArray<long>();
        var state = new ulong[words.Length];
        for (int i = 0; i < words.Length; i++) state[i] = unchecked((ulong)words[i]);
        _rng.SetState(state);
        CompletedEpochs = int.Parse(c.Metadata["epoch"], CultureInfo.InvariantCulture);
        _schedule.SetStepCount(CompletedEpochs);
    }
}
