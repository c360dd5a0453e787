namespace Backprop.Cli.Recipes;

/// <summary>One epoch's results, as written to metrics.jsonl.</summary>
internal sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
                                    double SamplesPerSec, double Seconds);
