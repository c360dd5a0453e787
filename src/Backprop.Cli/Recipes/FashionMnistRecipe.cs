using System.Globalization;
using Backprop.Data;
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
/// The Fashion-MNIST recipe behind <c>backprop train</c>: normalised images, a preset model from
/// <see cref="Models"/>, a named optimizer with a per-epoch learning-rate decay, cross-entropy, and
/// loss and accuracy on the 10,000 test images after every epoch, trained by the library's
/// <see cref="Trainer"/>. Checkpoints record the run's settings, and resuming with other settings is refused.
/// </summary>
internal sealed class FashionMnistRecipe : ITrainingRecipe
{
    /// <summary>Names accepted for <see cref="FashionMnistOptions.Optimizer"/>.</summary>
    public static readonly string[] OptimizerNames = ["sgd", "adam", "adamw"];

    private const int EvaluationBatch = 1000;

    /// <summary>Loads the data, builds the model, optimizer and trainer, and restores <paramref name="resumeFrom"/> if given.</summary>
    /// <exception cref="ArgumentException">Bad options, or a checkpoint of another model or other settings.</exception>
    public FashionMnistRecipe(FashionMnistOptions options, string? resumeFrom = null)
    {
        if (!Models.Names.Contains(options.Model))
            throw new ArgumentException($"train: unknown model '{options.Model}' (use {string.Join(" or ", Models.Names)})");
        if (!OptimizerNames.Contains(options.Optimizer))
            throw new ArgumentException($"train: unknown optimizer '{options.Optimizer}' (use sgd, adam or adamw)");
        Options = options;
        var rng = new Generator(options.Seed);

        (Tensor trainX, Tensor trainY) = LoadData(options.DataDir, train: true);
        if (options.TrainLimit is int limit && limit < trainX.Shape[0])
        {
            trainX = trainX.Narrow(0, 0, limit).Contiguous();
            trainY = trainY.Narrow(0, 0, limit).Contiguous();
        }
        (Tensor testX, Tensor testY) = LoadTestSet(options.DataDir);
        if (options.TestLimit is int testLimit && testLimit < testX.Shape[0])
        {
            testX = testX.Narrow(0, 0, testLimit).Contiguous();
            testY = testY.Narrow(0, 0, testLimit).Contiguous();
        }
        TrainCount = trainX.Shape[0];
        var loader = new DataLoader(new TensorDataset(ModelInput(Normalize(trainX), options.Model), trainY), options.BatchSize,
                                    shuffle: true, dropLast: false, seed: options.Seed);

        // Everything random in the run (initialisation here, dropout in models that have it) draws from
        // the run's own generator, which the trainer saves in every checkpoint.
        Model = Models.Create(options.Model, rng);
        double lr = options.EffectiveLearningRate;
        Optimizer optimizer = options.Optimizer switch
        {
            "sgd" => new Sgd(Model.Parameters(), new SgdOptions(LearningRate: lr, Momentum: 0.9)),
            "adamw" => new AdamW(Model.Parameters(), new AdamOptions(LearningRate: lr, WeightDecay: 0.01)),
            _ => new Adam(Model.Parameters(), new AdamOptions(LearningRate: lr)),
        };
        Trainer = new Trainer(Model, optimizer, (logits, labels) => Functional.CrossEntropy(logits, labels), loader)
        {
            EvaluationData = InBatches(ModelInput(testX, options.Model), testY),
            // Exponential decay per epoch: the rate at epoch e never depends on how many epochs the run has.
            EpochScheduler = new StepLR(optimizer, stepSize: 1, gamma: options.LearningRateDecay),
            TrainingMetrics = [new MeanLoss(), new Accuracy()],
            EvaluationMetrics = [TestLoss(), new Accuracy()],
            Generator = rng,
        };
        if (resumeFrom is not null) Resume(resumeFrom);
    }

    /// <summary>The options of this run.</summary>
    public FashionMnistOptions Options { get; }

    /// <summary>The network.</summary>
    public Sequential Model { get; }

    /// <summary>The library trainer running this recipe (subscribe to its events for progress).</summary>
    public Trainer Trainer { get; }

    /// <summary>Epochs already completed (0 for a fresh run).</summary>
    public int CompletedEpochs => Trainer.CompletedEpochs;

    /// <summary>Training examples in use.</summary>
    public int TrainCount { get; }

    /// <summary>Steps per epoch.</summary>
    public int StepsPerEpoch => Trainer.StepsPerEpoch;

    /// <summary>Trains the next epoch (or the rest of the one a stop interrupted) and evaluates on the test set.</summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public EpochMetrics TrainEpoch()
    {
        EpochResult r = Trainer.TrainEpoch();
        return new EpochMetrics(r.Epoch, r.Training["loss"], r.Training["accuracy"], r.Evaluation!["loss"], r.Evaluation["accuracy"],
                                r.SamplesPerSec, r.Seconds) { EpochStep = r.Complete ? 0 : r.EpochStep };
    }

    /// <inheritdoc/>
    public string Name => Options.Model;

    /// <inheritdoc/>
    public long ParameterCount => Model.ParameterCount();

    /// <inheritdoc/>
    public string Describe(int threads) => string.Create(CultureInfo.InvariantCulture,
        $"{Options.Model} on Fashion-MNIST ({TrainCount:N0} training images{(Options.TestLimit is int t && t < 10_000 ? $", tested on the first {t:N0} test images" : "")}), {Options.Optimizer} lr {Options.EffectiveLearningRate}, batch {Options.BatchSize}, {threads} thread(s), seed {Options.Seed}");

    /// <inheritdoc/>
    public MetricsLine RunEpoch() => TrainEpoch().ToLine();

    /// <inheritdoc/>
    public string Progress(StepProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"loss {p.Metric("loss"):F4}  acc {p.Metric("accuracy"):P1}  {p.SamplesPerSec:N0}/s");

    /// <inheritdoc/>
    public string Summary(MetricsLine m, int epochs)
    {
        string where = m.Partial ? $"epoch {m.Epoch}/{epochs} (stopped at step {m.EpochStep})" : $"epoch {m.Epoch}/{epochs}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{where}: train loss {m["train_loss"]:F4} acc {m["train_accuracy"]:P2} | test loss {m["test_loss"]:F4} acc {m["test_accuracy"]:P2} | {m["samples_per_sec"]:N0} samples/s, {m["seconds"]:F1} s");
    }

    /// <inheritdoc/>
    public void SavePlot(IReadOnlyList<MetricsLine> lines, IReadOnlyList<StepLoss> steps, string path)
        => CurvesPlot.SaveClassification(path, Options.Model, lines, steps, StepsPerEpoch);

    /// <summary>Loads and normalises the test split, for evaluating a checkpoint: images [N, 784], labels [N].</summary>
    public static (Tensor Images, Tensor Labels) LoadTestSet(string dataDir)
    {
        var (x, y) = LoadData(dataDir, train: false);
        return (Normalize(x), y);
    }

    /// <summary>Loads and normalises the training split: images [N, 784], labels [N] (for `diagnose` and `estimators`).</summary>
    public static (Tensor Images, Tensor Labels) LoadTrainingSet(string dataDir)
    {
        var (x, y) = LoadData(dataDir, train: true);
        return (Normalize(x), y);
    }

    /// <summary>
    /// Both splits for a command that trains its own networks (`diagnose`, `estimators`): loaded and
    /// normalised, the training split cut to <paramref name="trainLimit"/> images; unreadable files and a
    /// batch larger than the training images become one-line CLI errors.
    /// </summary>
    public static ((Tensor Images, Tensor Labels) Train, (Tensor Images, Tensor Labels) Test) LoadForCommand(string dataDir, int? trainLimit, int batchSize)
    {
        (Tensor Images, Tensor Labels) train, test;
        try
        {
            train = LoadTrainingSet(dataDir);
            test = LoadTestSet(dataDir);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message, inner: e);
        }
        if (trainLimit is int limit && limit < train.Images.Shape[0])
            train = (train.Images.Narrow(0, 0, limit).Contiguous(), train.Labels.Narrow(0, 0, limit).Contiguous());
        if (train.Images.Shape[0] < batchSize)
            throw new CliException($"--batch-size {batchSize} is larger than the {train.Images.Shape[0]} training images in use; lower it or raise --train-limit", CliApp.UsageError);
        return (train, test);
    }

    /// <summary>Test loss, accuracy and confusion matrix [true, predicted] of a preset model on normalised images [N, 784].</summary>
    public static (double Loss, double Accuracy, int[,] Confusion) Evaluate(Module model, string modelName, Tensor images, Tensor labels)
        => Evaluate(model, ModelInput(images, modelName), labels);

    /// <summary>As the overload above, for inputs already in the shape the model takes (an imported ONNX model's).</summary>
    public static (double Loss, double Accuracy, int[,] Confusion) Evaluate(Module model, Tensor inputs, Tensor labels)
    {
        var confusion = new ConfusionMatrix(FashionMnist.ClassNames.Length);
        Dictionary<string, double> values = Evaluation.Run(model, InBatches(inputs, labels), [TestLoss(), new Accuracy(), confusion]);
        return (values["loss"], values["accuracy"], confusion.Counts);
    }

    /// <summary>Writes the training state and this run's settings to <paramref name="path"/> (crash-safe).</summary>
    public void SaveCheckpoint(string path) => Trainer.SaveCheckpoint(path, new Dictionary<string, string>
    {
        ["model"] = Options.Model,
        ["optimizer"] = Options.Optimizer,
        ["epochs"] = Options.Epochs.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = Options.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["lr"] = Options.EffectiveLearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["seed"] = Options.Seed.ToString(CultureInfo.InvariantCulture),
        ["train_count"] = TrainCount.ToString(CultureInfo.InvariantCulture),
        ["lr_decay"] = Options.LearningRateDecay.ToString("R", CultureInfo.InvariantCulture),
    });

    private void Resume(string path)
    {
        Checkpoint c = ResumeCheck.LoadTraining(path);
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
            // Checked here for a message naming both models; the trainer checks everything again below
            // and changes nothing unless the whole checkpoint passes.
            Model.CheckStateDict(c.WithPrefix("model."));
        }
        catch (ArgumentException e)
        {
            string savedModel = c.Metadata.GetValueOrDefault("model", "?");
            throw new ArgumentException($"resume: {path} holds a '{savedModel}' model that does not fit '{Options.Model}'. {e.Message}", e);
        }
        Trainer.LoadCheckpoint(c);
    }

    private static Tensor Normalize(Tensor x) => new Backprop.Data.Transforms.Normalize(FashionMnist.PixelMean, FashionMnist.PixelStd).Apply(x);

    /// <summary>Flattened images [N, 784] in the shape the model takes ([N, 1, 28, 28] for the cnn).</summary>
    private static Tensor ModelInput(Tensor images, string model) => images.View(Models.InputShape(model, images.Shape[0]));

    /// <summary>Mean cross-entropy over the test set: summed per batch, divided by the image count once.</summary>
    private static MeanLoss TestLoss() => MeanLoss.FromSum((logits, labels) => Functional.CrossEntropy(logits, labels, Reduction.Sum));

    /// <summary>Consecutive batches of <see cref="EvaluationBatch"/> rows, as views of the tensors.</summary>
    private static IEnumerable<(Tensor Inputs, Tensor Targets)> InBatches(Tensor inputs, Tensor targets)
    {
        int n = inputs.Shape[0];
        for (int start = 0; start < n; start += EvaluationBatch)
        {
            int count = Math.Min(EvaluationBatch, n - start);
            yield return (inputs.Narrow(0, start, count), targets.Narrow(0, start, count));
        }
    }

    /// <summary>Fashion-MNIST from <paramref name="dataDir"/>; a missing directory or file is reported with the flag that chooses it.</summary>
    private static (Tensor Images, Tensor Labels) LoadData(string dataDir, bool train)
    {
        try
        {
            return FashionMnist.Load(dataDir, train);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            throw new ArgumentException(e.Message.Replace("load it from the directory that holds it", "pass --data-dir DIR", StringComparison.Ordinal), e);
        }
    }
}
