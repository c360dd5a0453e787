using Backprop.NN;
using Backprop.Training;
using Backprop.Cli.Recipes;

namespace Backprop.Tests.Cli;

/// <summary>The Fashion-MNIST recipe of `backprop train`, on the real files (installed by .ci/run from dataset-fashion-mnist).</summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class FashionMnistRecipeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("recipe").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static FashionMnistOptions Quick(int limit = 2000) => new() { Model = "mlp", TrainLimit = limit, Epochs = 2, BatchSize = 64, Seed = 7 };

    private static double[][] Weights(Module m) => m.StateDict().Select(kv => kv.Value.ToDoubleArray()).ToArray();

    [Fact]
    public void Mlp_OnFourThousandRealImages_BeatsChanceClearly()
    {
        var trainer = new FashionMnistRecipe(Quick(4000) with { Epochs = 1 });
        EpochMetrics m = trainer.TrainEpoch();
        // chance is 10 %; one epoch over 4,000 images reaches about 75 %
        Assert.True(m.TestAccuracy > 0.65, $"test accuracy {m.TestAccuracy}");
        Assert.True(m.TrainLoss < 1.5, $"train loss {m.TrainLoss}");
        Assert.Equal(1, trainer.CompletedEpochs);
    }

    [Fact]
    public void SameSeed_GivesBitIdenticalMetricsAndWeights()
    {
        var a = new FashionMnistRecipe(Quick());
        var b = new FashionMnistRecipe(Quick());
        EpochMetrics ma = a.TrainEpoch(), mb = b.TrainEpoch();
        Assert.Equal(ma.TrainLoss, mb.TrainLoss);
        Assert.Equal(ma.TestLoss, mb.TestLoss);
        Assert.Equal(ma.TestAccuracy, mb.TestAccuracy);
        Assert.Equal(Weights(a.Model), Weights(b.Model));
    }

    [Fact]
    public void DifferentSeed_GivesDifferentWeights()
    {
        var a = new FashionMnistRecipe(Quick());
        var b = new FashionMnistRecipe(Quick() with { Seed = 8 });
        Assert.NotEqual(Weights(a.Model)[0], Weights(b.Model)[0]);
    }

    [Fact]
    public void TwoEpochs_EqualOneEpochThenResumeForTheSecond()
    {
        var straight = new FashionMnistRecipe(Quick());
        straight.TrainEpoch();
        straight.TrainEpoch();

        var first = new FashionMnistRecipe(Quick());
        first.TrainEpoch();
        string checkpoint = Path.Combine(_dir, "epoch-1.ckpt");
        first.SaveCheckpoint(checkpoint);

        var resumed = new FashionMnistRecipe(Quick(), resumeFrom: checkpoint);
        Assert.Equal(1, resumed.CompletedEpochs);
        resumed.TrainEpoch();
        Assert.Equal(Weights(straight.Model), Weights(resumed.Model));
        Assert.Equal(straight.Trainer.Optimizer.ParamGroups[0].LearningRate, resumed.Trainer.Optimizer.ParamGroups[0].LearningRate);
    }

    [Fact]
    public void Resume_IntoOtherArchitecture_ListsMismatchedParameters()
    {
        var mlp = new FashionMnistRecipe(Quick() with { Epochs = 1 });
        string checkpoint = Path.Combine(_dir, "mlp.ckpt");
        mlp.SaveCheckpoint(checkpoint);
        var e = Assert.Throws<ArgumentException>(() => new FashionMnistRecipe(Quick() with { Model = "cnn" }, resumeFrom: checkpoint));
        Assert.Contains("'mlp' model", e.Message);
        Assert.Contains("'0.weight': checkpoint has shape [512, 784]", e.Message);
    }

    [Fact]
    public void Resume_WithDifferentSettings_IsRefused()
    {
        var t = new FashionMnistRecipe(Quick());
        string checkpoint = Path.Combine(_dir, "a.ckpt");
        t.SaveCheckpoint(checkpoint);
        var e = Assert.Throws<ArgumentException>(() => new FashionMnistRecipe(Quick() with { BatchSize = 32 }, resumeFrom: checkpoint));
        Assert.Contains("batch_size", e.Message);
    }

    [Fact]
    public void HugeLearningRate_StopsWithTheStepNamed()
    {
        var t = new FashionMnistRecipe(Quick() with { Optimizer = "sgd", LearningRate = 1e12 });
        var e = Assert.Throws<TrainingDivergedException>(() => t.TrainEpoch());
        Assert.Contains("epoch 1, step", e.Message);
        Assert.Equal(0, t.CompletedEpochs);
    }
}
