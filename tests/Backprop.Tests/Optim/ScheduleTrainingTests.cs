using Backprop.Data;
using Backprop.IO;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Tests.Optim;

/// <summary>The new schedules in the Trainer: a warm-up-then-cosine step schedule resumes exactly; ReduceLROnPlateau rides on EpochCompleted and checkpoint metadata.</summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class ScheduleTrainingTests
{
    private const int Examples = 64, Batch = 8; // 8 steps per epoch

    /// <summary>y = 2·x0 − x1 + 0.5, noiseless.</summary>
    private static DataLoader Data()
    {
        var x = new float[Examples, 2];
        var y = new float[Examples, 1];
        for (int i = 0; i < Examples; i++)
        {
            x[i, 0] = (float)Math.Sin(0.37 * (i + 1));
            x[i, 1] = (float)Math.Cos(0.53 * (i + 1));
            y[i, 0] = 2 * x[i, 0] - x[i, 1] + 0.5f;
        }
        return new DataLoader(new TensorDataset(Tensor.FromArray(x), Tensor.FromArray(y)), Batch, shuffle: true, seed: 7);
    }

    private static Trainer WarmupCosine()
    {
        var model = new Sequential(("hidden", new Linear(2, 8, generator: new Generator(1))), ("act", new Tanh()), ("out", new Linear(8, 1, generator: new Generator(2))));
        var opt = new Sgd(model.Parameters(), new SgdOptions(LearningRate: 0.1, Momentum: 0.9));
        return new Trainer(model, opt, (p, t) => Functional.MseLoss(p, t), Data())
        {
            StepScheduler = new SequentialLR(opt, [new LinearLR(opt, 0.1, 1.0, 5), new CosineAnnealingLR(opt, 19, 1e-3)], [5]),
        };
    }

    [Fact]
    public void WarmupThenCosine_ResumesExactly()
    {
        Trainer whole = WarmupCosine();
        var rates = new List<double>();
        whole.StepCompleted += _ => rates.Add(whole.Optimizer.ParamGroups[0].LearningRate);
        whole.Fit(3);

        Trainer first = WarmupCosine();
        first.Fit(1);
        Checkpoint saved = first.ToCheckpoint();
        Trainer resumed = WarmupCosine();
        resumed.LoadCheckpoint(saved);
        Assert.Equal(rates[7], resumed.Optimizer.ParamGroups[0].LearningRate);
        resumed.Fit(3); // up to epoch 3

        Assert.Equal(whole.Model.StateDict().Select(kv => kv.Value.ToDoubleArray()), resumed.Model.StateDict().Select(kv => kv.Value.ToDoubleArray()));
        Assert.Equal(rates[^1], resumed.Optimizer.ParamGroups[0].LearningRate);
        Assert.Equal(0.1 * (0.1 + 0.9 / 5), rates[0], 15); // rates[k]: after step k + 1; the warm-up rises linearly
        Assert.Equal(0.1 * (0.1 + 0.9 * 4 / 5), rates[3], 15);
        Assert.Equal(0.1, rates[4], 15);                     // the cosine starts at the initial rate at the milestone (step 5)
        Assert.True(rates[^1] < rates[4]);
    }

    [Fact]
    public void Plateau_OnEpochCompleted_WithCheckpointMetadata()
    {
        (Trainer Trainer, ReduceLROnPlateau Plateau) Make()
        {
            var model = new Sequential(new Linear(2, 1, generator: new Generator(3)));
            var opt = new Adam(model.Parameters(), new AdamOptions(LearningRate: 0.5));
            var trainer = new Trainer(model, opt, (p, t) => Functional.MseLoss(p, t), Data());
            var plateau = new ReduceLROnPlateau(opt, factor: 0.5, patience: 0, threshold: 0.5);
            trainer.EpochCompleted += r => plateau.Step(r.Training["loss"]);
            return (trainer, plateau);
        }

        var (whole, wholePlateau) = Make();
        whole.Fit(6);
        Assert.True(whole.Optimizer.ParamGroups[0].LearningRate < 0.5); // a 50% threshold is rarely beaten: the rate fell

        var (first, firstPlateau) = Make();
        first.Fit(3);
        Checkpoint saved = first.ToCheckpoint(firstPlateau.StateDict("plateau."));
        var (resumed, resumedPlateau) = Make();
        resumed.LoadCheckpoint(saved);
        resumedPlateau.LoadStateDict(saved.Metadata, "plateau.");
        resumed.Fit(6);

        Assert.Equal(whole.Optimizer.ParamGroups[0].LearningRate, resumed.Optimizer.ParamGroups[0].LearningRate);
        Assert.Equal(wholePlateau.Best, resumedPlateau.Best);
        Assert.Equal(wholePlateau.NumBadEpochs, resumedPlateau.NumBadEpochs);
        Assert.Equal(whole.Model.StateDict().Select(kv => kv.Value.ToDoubleArray()), resumed.Model.StateDict().Select(kv => kv.Value.ToDoubleArray()));
    }
}
