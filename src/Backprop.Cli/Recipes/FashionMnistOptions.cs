using Backprop.Data;

namespace Backprop.Cli.Recipes;

/// <summary>Settings of a Fashion-MNIST training run (the `train` command's flags).</summary>
internal sealed record FashionMnistOptions
{
    /// <summary>A name from <see cref="Models.Names"/>: "mlp" or "cnn".</summary>
    public string Model { get; init; } = "mlp";

    /// <summary>Directory with the IDX files.</summary>
    public string DataDir { get; init; } = FashionMnist.DefaultDirectory;

    /// <summary>Number of epochs to reach (a resumed run continues up to this count).</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Learning rate; null picks the optimizer's default for this recipe.</summary>
    public double? LearningRate { get; init; }

    /// <summary>A name from <see cref="FashionMnistRecipe.OptimizerNames"/>: "sgd" (momentum 0.9), "adam" or "adamw".</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Seed for initialisation and shuffling.</summary>
    public ulong Seed { get; init; }

    /// <summary>Learning-rate factor applied after every epoch (1 = constant). Per-epoch, so it does not depend on the run's length and resuming stays exact.</summary>
    public double LearningRateDecay { get; init; } = 0.7;

    /// <summary>Use only the first N training images (null = all).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Evaluate on only the first N test images after every epoch (null = all 10,000).</summary>
    public int? TestLimit { get; init; }

    /// <summary>Peak learning rate after the recipe's defaults are applied.</summary>
    public double EffectiveLearningRate => LearningRate ?? (Optimizer == "sgd" ? 0.05 : 1e-3);
}
