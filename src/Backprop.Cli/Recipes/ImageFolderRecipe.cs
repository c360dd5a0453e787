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
/// The recipe behind <c>backprop train --data DIR/</c>: a folder with one subfolder of images per class, read by
/// Backprop.Vision's <see cref="Backprop.Vision.ImageFolder"/>. A seeded random split holds out
/// <see cref="ImageFolderOptions.TestFraction"/> of the images; every image is decoded once (grayscale when every
/// file is stored as grayscale, else RGB), resized where its size differs from the model's, and normalized with the
/// training split's per-channel mean and std; the Fashion-MNIST recipe's CNN (<see cref="ImageModelInfo.CreateModel"/>)
/// is trained with cross-entropy and evaluated on the held-out images after every epoch. Checkpoints carry an
/// <see cref="ImageModelInfo"/>, so `predict` and `eval` rebuild the model, the preprocessing and the split.
/// </summary>
internal sealed class ImageFolderRecipe : ITrainingRecipe
{
    private readonly ImageFolderData _data;

    /// <summary>Lists and reads the folder, splits and normalizes it, builds the model, optimizer and trainer, and restores <paramref name="resumeFrom"/> if given.</summary>
    /// <exception cref="IOException">The folder is missing or a file is unreadable.</exception>
    /// <exception cref="InvalidDataException">No class folders, a class folder without images, or a file that is not an image (the message names it).</exception>
    /// <exception cref="ArgumentException">Too few images, or a checkpoint of another run.</exception>
    public ImageFolderRecipe(ImageFolderOptions options, string? resumeFrom = null)
    {
        if (!FashionMnistRecipe.OptimizerNames.Contains(options.Optimizer))
            throw new ArgumentException($"train: unknown optimizer '{options.Optimizer}' (use adam, adamw or sgd)");
        Options = options;
        _data = ImageFolderData.Open(options.Data, "--data");
        (int[] trainRows, int[] testRows) = ImageFolderData.Split(_data.Count, options.TestFraction, options.Seed, $"--data {options.Data}");
        HeldOutCount = testRows.Length;
        SplitTrainCount = trainRows.Length;
        if (options.TrainLimit is int trainLimit && trainLimit < trainRows.Length) trainRows = trainRows[..trainLimit];
        if (options.TestLimit is int testLimit && testLimit < testRows.Length) testRows = testRows[..testLimit];
        var (height, width) = _data.ChooseSize(options.ImageSize);
        var shape = new ImageModelInfo
        {
            Source = Path.GetFullPath(options.Data),
            Classes = [.. _data.Folder.Classes],
            Height = height,
            Width = width,
            Channels = _data.Channels,
            Mean = new double[_data.Channels],
            Std = new double[_data.Channels],
            ImageCount = _data.Count,
            Fingerprint = _data.Fingerprint(),
            TestFraction = options.TestFraction,
        };
        (Tensor trainX, Tensor trainY) = _data.Load(trainRows, shape);
        (Tensor testX, Tensor testY) = _data.Load(testRows, shape);
        var (mean, std) = ImageFolderData.ChannelStats(trainX);
        Info = shape with { Mean = mean, Std = std };
        Info.NormalizeInPlace(trainX);
        Info.NormalizeInPlace(testX);
        TrainCount = trainRows.Length;
        TestCount = testRows.Length;

        var loader = new DataLoader(new TensorDataset(trainX, trainY), Math.Min(options.BatchSize, TrainCount), shuffle: true, dropLast: false, seed: options.Seed);
        var rng = new Generator(options.Seed);
        Model = Info.CreateModel(rng);
        Optimizer optimizer = options.Optimizer switch
        {
            "sgd" => new Sgd(Model.Parameters(), new SgdOptions(LearningRate: options.LearningRate, Momentum: 0.9)),
            "adamw" => new AdamW(Model.Parameters(), new AdamOptions(LearningRate: options.LearningRate, WeightDecay: 0.01)),
            _ => new Adam(Model.Parameters(), new AdamOptions(LearningRate: options.LearningRate)),
        };
        Trainer = new Trainer(Model, optimizer, (logits, labels) => Functional.CrossEntropy(logits, labels), loader)
        {
            EvaluationData = InBatches(testX, testY, EvaluationBatch(Info)),
            EpochScheduler = new StepLR(optimizer, stepSize: 1, gamma: options.LearningRateDecay),
            TrainingMetrics = [new MeanLoss(), new Accuracy()],
            EvaluationMetrics = [TestLoss(), new Accuracy()],
            Generator = rng,
        };
        if (resumeFrom is not null) Resume(resumeFrom);
    }

    /// <summary>The options of this run.</summary>
    public ImageFolderOptions Options { get; }

    /// <summary>What a checkpoint of this run carries for `predict` and `eval`.</summary>
    public ImageModelInfo Info { get; }

    /// <summary>The network.</summary>
    public Sequential Model { get; }

    /// <inheritdoc/>
    public Trainer Trainer { get; }

    /// <summary>Images trained on (after --train-limit).</summary>
    public int TrainCount { get; }

    /// <summary>Images tested on after every epoch (after --test-limit).</summary>
    public int TestCount { get; }

    /// <summary>Images in the training split.</summary>
    public int SplitTrainCount { get; }

    /// <summary>Images held out for testing.</summary>
    public int HeldOutCount { get; }

    /// <inheritdoc/>
    public string Name => "image-cnn";

    /// <inheritdoc/>
    public long ParameterCount => Model.ParameterCount();

    /// <inheritdoc/>
    public string Describe(int threads)
    {
        string size = _data.CommonSize == (Info.Height, Info.Width)
            ? $"{Info.Width}×{Info.Height}"
            : $"{_data.SizeText()}, resized to {Info.Width}×{Info.Height}{(Options.ImageSize is null ? " (choose with --image-size)" : "")}";
        string used = (TrainCount < SplitTrainCount ? $"; training on the first {TrainCount:N0}" : "") + (TestCount < HeldOutCount ? $"; testing on the first {TestCount:N0}" : "");
        return string.Create(CultureInfo.InvariantCulture,
            $"cnn {Info.InputText}→{Info.Outputs} on {Options.Data} ({Info.Outputs} classes: {ClassList(Info.Classes)}; {_data.Count:N0} images, {(Info.Channels == 1 ? "grayscale" : "RGB")}, {size}; " +
            $"{SplitTrainCount:N0} training, {HeldOutCount:N0} held out for testing, split by seed {Options.Seed}{used}; normalized with the training images' per-channel mean and std), " +
            $"{Options.Optimizer} lr {Options.LearningRate} (×{Options.LearningRateDecay}/epoch), batch {Options.BatchSize}, {threads} thread(s)");
    }

    /// <summary>"a, b, c" or, past 6 classes, the first four, "…" and the last.</summary>
    internal static string ClassList(IReadOnlyList<string> classes)
        => classes.Count <= 6 ? string.Join(", ", classes) : $"{string.Join(", ", classes.Take(4))}, …, {classes[^1]}";

    /// <inheritdoc/>
    public MetricsLine RunEpoch()
    {
        EpochResult r = Trainer.TrainEpoch();
        return new EpochMetrics(r.Epoch, r.Training["loss"], r.Training["accuracy"], r.Evaluation!["loss"], r.Evaluation["accuracy"],
                                r.SamplesPerSec, r.Seconds) { EpochStep = r.Complete ? 0 : r.EpochStep }.ToLine();
    }

    /// <inheritdoc/>
    public string Progress(StepProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"loss {p.Metric("loss"):F4}  acc {p.Metric("accuracy"):P1}  {p.SamplesPerSec:N0}/s");

    /// <inheritdoc/>
    public string Summary(MetricsLine m, int epochs)
    {
        string where = m.Partial ? $"epoch {m.Epoch}/{epochs} (stopped at step {m.EpochStep})" : $"epoch {m.Epoch}/{epochs}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{where}: train loss {m["train_loss"]:F4} acc {m["train_accuracy"]:P2} | test loss {m["test_loss"]:F4} acc {m["test_accuracy"]:P2} ({TestCount:N0} held-out images) | {m["samples_per_sec"]:N0} samples/s, {m["seconds"]:F1} s");
    }

    /// <inheritdoc/>
    public void SavePlot(IReadOnlyList<MetricsLine> lines, IReadOnlyList<StepLoss> steps, string path)
        => CurvesPlot.SaveClassification(path, Name, lines, steps, Trainer.StepsPerEpoch);

    /// <inheritdoc/>
    public void SaveCheckpoint(string path) => Trainer.SaveCheckpoint(path, RunMetadata());

    /// <summary>Evaluation batches small enough that the first convolution's output stays near 32 MB.</summary>
    internal static int EvaluationBatch(ImageModelInfo info) => Math.Clamp((1 << 23) / (32 * info.Height * info.Width), 1, 1000);

    /// <summary>Mean cross-entropy over a pass: summed per batch, divided by the image count once.</summary>
    internal static MeanLoss TestLoss() => MeanLoss.FromSum((logits, labels) => Functional.CrossEntropy(logits, labels, Reduction.Sum));

    /// <summary>Consecutive batches of <paramref name="batch"/> rows, as views of the tensors.</summary>
    internal static IEnumerable<(Tensor Inputs, Tensor Targets)> InBatches(Tensor inputs, Tensor targets, int batch)
    {
        int n = inputs.Shape[0];
        for (int start = 0; start < n; start += batch)
        {
            int count = Math.Min(batch, n - start);
            yield return (inputs.Narrow(0, start, count), targets.Narrow(0, start, count));
        }
    }

    private Dictionary<string, string> RunMetadata() => new()
    {
        ["model"] = Name,
        [ImageModelInfo.MetadataKey] = Info.ToJson(),
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
        ResumeCheck.SameSettings(c, path, RunMetadata(), key => key == ImageModelInfo.MetadataKey ? "the folder's images, size or normalization" : key,
                                 "use the same --data, --image-size and training flags to resume exactly");
        Trainer.LoadCheckpoint(c);
    }
}
