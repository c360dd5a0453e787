using Backprop.Cli.Reporting;

namespace Backprop.Cli.Recipes;

/// <summary>One Fashion-MNIST epoch's results, as written to metrics.jsonl.</summary>
internal sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
                                    double SamplesPerSec, double Seconds)
{
    /// <summary>0 for a complete epoch; the steps taken when a stop (--max-minutes) ended it early.</summary>
    public int EpochStep { get; init; }

    /// <summary>The metrics.jsonl line: train_loss, train_accuracy, test_loss, test_accuracy, samples_per_sec (rounded to 0.1), seconds (to 1 ms).</summary>
    public MetricsLine ToLine() => new(Epoch, EpochStep,
    [
        new("train_loss", TrainLoss),
        new("train_accuracy", TrainAccuracy),
        new("test_loss", TestLoss),
        new("test_accuracy", TestAccuracy),
        new("samples_per_sec", Math.Round(SamplesPerSec, 1)),
        new("seconds", Math.Round(Seconds, 3)),
    ]);
}
