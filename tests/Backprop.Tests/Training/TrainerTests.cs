using Backprop.Data;
using Backprop.IO;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// The general training loop on small synthetic problems: three Gaussian blobs in the plane to
/// classify (240 training points, batches of 32: 8 steps per epoch, the last one of 16) and a
/// noiseless linear regression.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public partial class TrainerTests : IDisposable
{
    private const int TrainCount = 240, BatchSize = 32, StepsPerEpoch = 8;

    private readonly string _dir = Directory.CreateTempSubdirectory("trainer").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>n points around three centres, labelled by centre (class i % 3).</summary>
    private static (Tensor X, Tensor Y) Blobs(int n, ulong seed)
    {
        var g = new Generator(seed);
        double[,] centres = { { 2, 0 }, { -1, 1.7 }, { -1, -1.7 } };
        var x = new float[n, 2];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % 3;
            y[i] = c;
            x[i, 0] = (float)(centres[c, 0] + 0.5 * g.NextNormal());
            x[i, 1] = (float)(centres[c, 1] + 0.5 * g.NextNormal());
        }
        return (Tensor.FromArray(x), Tensor.FromArray(y));
    }

    private static Func<Tensor, Tensor, Tensor> CrossEntropy => (logits, labels) => Functional.CrossEntropy(logits, labels);

    /// <summary>A 2-16-3 classifier with dropout drawing from <paramref name="rng"/>, so resuming must restore the generator.</summary>
    private static Sequential Classifier(Generator rng) =>
        new(new Linear(2, 16, generator: rng), new Relu(), new Dropout(0.2, rng), new Linear(16, 3, generator: rng));

    private static DataLoader Loader(int batchSize = BatchSize, ulong seed = 5)
    {
        var (x, y) = Blobs(TrainCount, 3);
        return new DataLoader(new TensorDataset(x, y), batchSize, shuffle: true, seed: seed);
    }

    private static IEnumerable<(Tensor Inputs, Tensor Targets)> TestSet()
    {
        var (x, y) = Blobs(90, 4);
        return [(x.Narrow(0, 0, 45), y.Narrow(0, 0, 45)), (x.Narrow(0, 45, 45), y.Narrow(0, 45, 45))];
    }

    /// <summary>The classifier with Adam, clipping, metrics, evaluation and the given schedule.</summary>
    private static Trainer Blobs(string schedule = "none")
    {
        var rng = new Generator(11);
        Sequential model = Classifier(rng);
        var optimizer = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.05));
        return new Trainer(model, optimizer, CrossEntropy, Loader())
        {
            EvaluationData = TestSet(),
            EpochScheduler = schedule == "epoch" ? new StepLR(optimizer, stepSize: 1, gamma: 0.5) : null,
            StepScheduler = schedule == "step" ? new OneCycleLR(optimizer, maxLr: 0.05, totalSteps: 3 * StepsPerEpoch) : null,
            MaxGradNorm = 1.0,
            TrainingMetrics = [new MeanLoss(), new Accuracy()],
            EvaluationMetrics = [new MeanLoss(), new Accuracy()],
            Generator = rng,
        };
    }

    private static double[][] Weights(Module m) => m.StateDict().Select(kv => kv.Value.ToDoubleArray()).ToArray();

    [Fact]
    public void Classification_LossFallsAndAccuracyRises()
    {
        Trainer trainer = Blobs();
        List<EpochResult> results = trainer.Fit(6);
        Assert.Equal(6, results.Count);
        Assert.Equal(6, trainer.CompletedEpochs);
        double first = results[0].Evaluation!["loss"], last = results[^1].Evaluation!["loss"];
        Assert.True(last < first / 2, $"test loss {first} -> {last}");
        Assert.True(results[^1].Training["loss"] < results[0].Training["loss"]);
        Assert.True(results[^1].Evaluation!["accuracy"] > 0.9, $"test accuracy {results[^1].Evaluation!["accuracy"]}");
    }

    [Fact]
    public void Regression_WithMseAndDefaultMetric_FindsTheLine()
    {
        // y = 3 x0 - 2 x1 + 0.5 on 64 points; the default metric is the mean loss, named "loss".
        var g = new Generator(2);
        var x = new float[64, 2];
        var y = new float[64, 1];
        for (int i = 0; i < 64; i++)
        {
            x[i, 0] = (float)(2 * g.NextDouble() - 1);
            x[i, 1] = (float)(2 * g.NextDouble() - 1);
            y[i, 0] = 3 * x[i, 0] - 2 * x[i, 1] + 0.5f;
        }
        var model = new Linear(2, 1, generator: new Generator(1));
        var loader = new DataLoader(new TensorDataset(Tensor.FromArray(x), Tensor.FromArray(y)), 16, shuffle: true, seed: 1);
        var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1)), (p, t) => Functional.MseLoss(p, t), loader);

        List<EpochResult> results = trainer.Fit(60);
        Assert.Null(results[0].Evaluation);
        Assert.Equal(new[] { "loss" }, results[0].Training.Keys);
        Assert.True(results[^1].Training["loss"] < 1e-4 * results[0].Training["loss"], $"{results[0].Training["loss"]} -> {results[^1].Training["loss"]}");
        double[] w = model.Weight.Data.ToDoubleArray();
        Assert.Equal(3, w[0], 2);
        Assert.Equal(-2, w[1], 2);
        Assert.Equal(0.5, model.Bias!.Data.Item(), 2);
    }

    [Theory]
    [InlineData("epoch")]
    [InlineData("step")]
    public void TwoEpochs_EqualOneEpochThenCheckpointResumeAndOneMore(string schedule)
    {
        Trainer straight = Blobs(schedule);
        List<EpochResult> expected = straight.Fit(2);

        Trainer first = Blobs(schedule);
        first.Fit(1);
        string path = Path.Combine(_dir, "epoch-1.ckpt");
        first.SaveCheckpoint(path);

        Trainer resumed = Blobs(schedule);
        resumed.LoadCheckpoint(path);
        Assert.Equal(1, resumed.CompletedEpochs);
        Assert.Equal(StepsPerEpoch, resumed.GlobalStep);
        EpochResult second = Assert.Single(resumed.Fit(2));

        Assert.Equal(Weights(straight.Model), Weights(resumed.Model));
        Assert.Equal(straight.Optimizer.ParamGroups[0].LearningRate, resumed.Optimizer.ParamGroups[0].LearningRate);
        Assert.Equal(expected[1].Training, second.Training);
        Assert.Equal(expected[1].Evaluation, second.Evaluation);
        Assert.Equal(straight.Generator!.GetState(), resumed.Generator!.GetState());
        Assert.Equal(straight.ToCheckpoint().Metadata, resumed.ToCheckpoint().Metadata);
    }

    [Fact]
    public void Checkpoint_WithoutStepCounters_CountsFullEpochs()
    {
        // Checkpoints written before the general trainer carry only the epoch.
        Trainer first = Blobs("epoch");
        first.Fit(2);
        Checkpoint c = first.ToCheckpoint(new Dictionary<string, string> { ["model"] = "blobs" });
        Assert.Equal("blobs", c.Metadata["model"]);
        c.Metadata.Remove("step");
        c.Metadata.Remove("epoch_schedule_steps");

        Trainer resumed = Blobs("epoch");
        resumed.LoadCheckpoint(c);
        Assert.Equal(2 * StepsPerEpoch, resumed.GlobalStep);
        Assert.Equal(2, resumed.EpochScheduler!.StepCount);
        Assert.Equal(0.05 * 0.25, resumed.Optimizer.ParamGroups[0].LearningRate, 12);
    }

    [Fact]
    public void Events_ReportEveryStepAndEpoch_InOrder()
    {
        Trainer trainer = Blobs();
        var log = new List<string>();
        var steps = new List<StepProgress>();
        var running = new List<(double Loss, double Accuracy)>();
        trainer.StepCompleted += p =>
        {
            steps.Add(p);
            running.Add((p.Metric("loss"), p.Metric("accuracy"))); // live values: read them in the handler
            log.Add($"s{p.Epoch}.{p.Step}");
        };
        trainer.EpochCompleted += r => log.Add($"e{r.Epoch}");
        List<EpochResult> results = trainer.Fit(3);

        Assert.Equal(3 * StepsPerEpoch, steps.Count);
        for (int i = 0; i < steps.Count; i++)
        {
            StepProgress p = steps[i];
            Assert.Equal(i / StepsPerEpoch + 1, p.Epoch);
            Assert.Equal(i % StepsPerEpoch + 1, p.Step);
            Assert.Equal(StepsPerEpoch, p.Steps);
            Assert.Equal(i + 1, p.GlobalStep);
            Assert.Equal(p.Step == StepsPerEpoch ? TrainCount : p.Step * BatchSize, p.Examples);
            Assert.True(double.IsFinite(p.Loss) && p.GradNorm > 0);
        }
        string[] expectedLog = [.. Enumerable.Range(1, 3).SelectMany(e => Enumerable.Range(1, StepsPerEpoch).Select(s => $"s{e}.{s}").Append($"e{e}"))];
        Assert.Equal(expectedLog, log);
        Assert.Equal(new[] { 1, 2, 3 }, results.Select(r => r.Epoch));
        Assert.All(results, r => Assert.Equal((StepsPerEpoch, (long)TrainCount), (r.Steps, r.Examples)));
        // The epoch's training metrics are the running values at its last step.
        Assert.Equal((results[0].Training["loss"], results[0].Training["accuracy"]), running[StepsPerEpoch - 1]);
        Assert.NotEqual(running[0], running[1]);
        Assert.Throws<KeyNotFoundException>(() => steps[0].Metric("f1"));
        Assert.Equal(3 * StepsPerEpoch, trainer.GlobalStep);
    }

    [Fact]
    public void NonFiniteLoss_StopsWithEpochAndStep_BeforeThatStepsUpdate()
    {
        // The 11th loss is NaN: epoch 2, step 3. No evaluation data, so every loss call is a training step.
        int calls = 0;
        var rng = new Generator(11);
        Sequential model = Classifier(rng);
        var trainer = new Trainer(model, new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.05)), (o, t) =>
        {
            Tensor loss = Functional.CrossEntropy(o, t);
            return ++calls == 11 ? loss * double.NaN : loss;
        }, Loader());
        double[][]? afterLastGoodStep = null;
        trainer.StepCompleted += _ => afterLastGoodStep = Weights(model);

        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(3));
        Assert.Equal((2, 3, StepsPerEpoch), (e.Epoch, e.Step, e.Steps));
        Assert.True(double.IsNaN(e.Loss));
        Assert.Contains("epoch 2, step 3 of 8", e.Message);
        Assert.Equal(1, trainer.CompletedEpochs);
        Assert.Equal(10, trainer.GlobalStep);
        Assert.Equal(afterLastGoodStep, Weights(model));
    }

    /// <summary>A 2-16-3 classifier trained by plain SGD with lr 1 over one batch holding every example: one step per epoch.</summary>
    private static (Trainer Trainer, Sequential Model) OneStepSgd(double? maxNorm = null, double? maxValue = null)
    {
        var rng = new Generator(3);
        Sequential model = Classifier(rng);
        var trainer = new Trainer(model, new Sgd(model.Parameters(), new SgdOptions(LearningRate: 1.0)), CrossEntropy, Loader(batchSize: TrainCount))
        {
            MaxGradNorm = maxNorm,
            MaxGradValue = maxValue,
            Generator = rng,
        };
        return (trainer, model);
    }

    private static double[] Change(double[][] before, double[][] after) =>
        [.. before.Zip(after).SelectMany(pair => pair.First.Zip(pair.Second, (b, a) => a - b))];

    [Fact]
    public void GradNormClipping_LimitsTheStepToTheNorm()
    {
        var (free, freeModel) = OneStepSgd();
        double[][] start = Weights(freeModel);
        free.TrainEpoch();
        double freeNorm = Math.Sqrt(Change(start, Weights(freeModel)).Sum(d => d * d));

        const double maxNorm = 0.01;
        var (clipped, clippedModel) = OneStepSgd(maxNorm: maxNorm);
        double reported = double.NaN;
        clipped.StepCompleted += p => reported = p.GradNorm;
        clipped.TrainEpoch();
        double clippedNorm = Math.Sqrt(Change(start, Weights(clippedModel)).Sum(d => d * d));

        // With SGD at lr 1 the weight change is the (clipped) gradient itself.
        Assert.True(freeNorm > 10 * maxNorm, $"unclipped step {freeNorm}");
        Assert.Equal(freeNorm, reported, 4);
        Assert.Equal(maxNorm, clippedNorm, 5);
    }

    [Fact]
    public void GradValueClipping_ClampsEveryElement()
    {
        const double maxValue = 1e-3;
        var (trainer, model) = OneStepSgd(maxValue: maxValue);
        double[][] start = Weights(model);
        double reported = 0;
        trainer.StepCompleted += p => reported = p.GradNorm;
        trainer.TrainEpoch();
        double[] change = Change(start, Weights(model));
        Assert.Equal(maxValue, change.Max(Math.Abs), 6);
        Assert.True(double.IsNaN(reported)); // no norm clipping, so no norm is computed
    }

    [Fact]
    public void StepSchedule_StepsAfterEveryOptimizerStep()
    {
        var rng = new Generator(11);
        Sequential model = Classifier(rng);
        var optimizer = new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.2));
        var warmUp = new LinearLR(optimizer, startFactor: 0.25, endFactor: 1, totalIters: 10);
        var trainer = new Trainer(model, optimizer, CrossEntropy, Loader()) { StepScheduler = warmUp };
        var rates = new List<double>();
        trainer.StepCompleted += _ => rates.Add(optimizer.ParamGroups[0].LearningRate);
        Assert.Equal(0.05, optimizer.ParamGroups[0].LearningRate, 12);
        trainer.Fit(2);
        Assert.Equal(Enumerable.Range(1, 2 * StepsPerEpoch).Select(k => warmUp.LearningRateAt(k, 0.2)), rates);
        Assert.Equal(0.2, rates[^1], 12);
    }

    [Fact]
    public void EpochSchedule_StepsAfterEveryEpoch()
    {
        Trainer trainer = Blobs("epoch");
        var during = new List<double>();
        var after = new List<double>();
        trainer.StepCompleted += p => { if (p.Step == 1) during.Add(trainer.Optimizer.ParamGroups[0].LearningRate); };
        trainer.EpochCompleted += _ => after.Add(trainer.Optimizer.ParamGroups[0].LearningRate);
        trainer.Fit(3);
        Assert.Equal(new[] { 0.05, 0.025, 0.0125 }, during);
        Assert.Equal(new[] { 0.025, 0.0125, 0.00625 }, after);
    }

    [Fact]
    public void Fit_WritesOneLoadableCheckpointPerEpoch_AndStopsAtTheTarget()
    {
        Trainer trainer = Blobs();
        string dir = Path.Combine(_dir, "checkpoints");
        trainer.Fit(2, dir);
        Assert.Equal(new[] { "epoch-1.ckpt", "epoch-2.ckpt" }, Directory.GetFiles(dir).Select(Path.GetFileName).Order());
        Assert.Equal("1", Checkpoint.Load(Path.Combine(dir, "epoch-1.ckpt")).Metadata["epoch"]);
        Assert.Empty(trainer.Fit(2));
        Assert.Equal(2, trainer.CompletedEpochs);
    }

    [Fact]
    public void LoadCheckpoint_RefusesWhatItCannotRestore()
    {
        Trainer trainer = Blobs();
        var plain = new Checkpoint([], new Dictionary<string, string> { ["epoch"] = "1" });
        Assert.Throws<InvalidDataException>(() => trainer.LoadCheckpoint(plain));

        Checkpoint noRng = Blobs().ToCheckpoint();
        noRng.Tensors.RemoveAll(kv => kv.Key == "rng");
        var e = Assert.Throws<InvalidDataException>(() => trainer.LoadCheckpoint(noRng));
        Assert.Contains("rng", e.Message);

        var other = new Linear(2, 3);
        var otherTrainer = new Trainer(other, new Sgd(other.Parameters(), new SgdOptions(LearningRate: 0.1)), CrossEntropy, Loader());
        Assert.Throws<ArgumentException>(() => otherTrainer.LoadCheckpoint(Blobs().ToCheckpoint()));
        Assert.Throws<ArgumentException>(() => trainer.ToCheckpoint(new Dictionary<string, string> { ["epoch"] = "7" }));
    }

    [Fact]
    public void Options_AreChecked()
    {
        var model = new Linear(2, 3);
        var optimizer = new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1));
        var otherOptimizer = new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1));
        Assert.Throws<ArgumentException>(() => new Trainer(model, optimizer, CrossEntropy, Loader())
        {
            EpochScheduler = new StepLR(optimizer, 1),
            StepScheduler = new LinearLR(optimizer),
        });
        Assert.Throws<ArgumentException>(() => new Trainer(model, optimizer, CrossEntropy, Loader()) { EpochScheduler = new StepLR(otherOptimizer, 1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, optimizer, CrossEntropy, Loader()) { MaxGradNorm = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, optimizer, CrossEntropy, Loader()) { MaxGradValue = -1 });
        var e = Assert.Throws<ArgumentException>(() => new Trainer(model, optimizer, CrossEntropy, Loader()) { TrainingMetrics = [new Accuracy(), new Accuracy()] });
        Assert.Contains("'accuracy'", e.Message);
        Assert.Throws<InvalidOperationException>(() => new Trainer(model, optimizer, CrossEntropy, Loader()).Evaluate());
    }
}
