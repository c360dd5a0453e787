namespace Backprop.Cli.Recipes;

/// <summary>Settings of a training run on a folder of images (`backprop train --data DIR/`).</summary>
internal sealed record ImageFolderOptions
{
    /// <summary>The folder holding one subfolder of images per class.</summary>
    public required string Data { get; init; }

    /// <summary>The side images are resized to (square), or null for the default (<see cref="ImageFolderData.ChooseSize"/>).</summary>
    public int? ImageSize { get; init; }

    /// <summary>The share of images held out for testing, drawn with <see cref="Seed"/>.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Train on only the first N images of the training split, or all.</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Test on only the first N images of the held-out split, or all.</summary>
    public int? TestLimit { get; init; }

    /// <summary>Epochs to reach.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning-rate factor per epoch.</summary>
    public double LearningRateDecay { get; init; } = 0.8;

    /// <summary>"adam", "adamw" (weight decay 0.01) or "sgd" (momentum 0.9).</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Seed for the split, initialisation and shuffling.</summary>
    public ulong Seed { get; init; }
}
