namespace Backprop.Cli.Recipes;

/// <summary>Settings of a training run on a CSV file (`backprop train --data FILE.csv --target COLUMN`).</summary>
internal sealed record CsvTrainOptions
{
    /// <summary>The CSV file (plain or gzipped).</summary>
    public required string Data { get; init; }

    /// <summary>The target column: a header name, or a position (negative from the end).</summary>
    public required string Target { get; init; }

    /// <summary>Lines skipped before the header or the first row (1 for scikit-learn's files).</summary>
    public int SkipRows { get; init; }

    /// <summary>Hidden layer widths of the MLP.</summary>
    public int[] Hidden { get; init; } = [128, 64];

    /// <summary>The share of rows held out for testing, drawn with <see cref="Seed"/>.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Epochs to reach.</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning-rate factor per epoch.</summary>
    public double LearningRateDecay { get; init; } = 0.95;

    /// <summary>"adamw" (weight decay 0.01), "adam" or "sgd" (momentum 0.9).</summary>
    public string Optimizer { get; init; } = "adamw";

    /// <summary>Seed for the split, initialisation and shuffling.</summary>
    public ulong Seed { get; init; }
}
