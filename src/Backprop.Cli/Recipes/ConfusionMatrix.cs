using Backprop.Training;

namespace Backprop.Cli.Recipes;

/// <summary>
/// Counts [true class, predicted class] over a pass, for class scores [N, classes] and int64 labels [N].
/// Its <see cref="Value"/> is the accuracy the counts give.
/// </summary>
internal sealed class ConfusionMatrix(int classes) : IMetric
{
    /// <summary>The counts, [true, predicted].</summary>
    public int[,] Counts { get; } = new int[classes, classes];

    /// <inheritdoc/>
    public string Name => "confusion";

    /// <inheritdoc/>
    public void Reset() => Array.Clear(Counts);

    /// <inheritdoc/>
    public void Update(MetricBatch batch)
    {
        long[] predicted = batch.Outputs.ArgMax(1).ToArray<long>();
        long[] truth = batch.Targets.ToArray<long>();
        for (int i = 0; i < truth.Length; i++) Counts[truth[i], predicted[i]]++;
    }

    /// <inheritdoc/>
    public double Value
    {
        get
        {
            long total = 0, diagonal = 0;
            for (int i = 0; i < classes; i++)
                for (int j = 0; j < classes; j++)
                {
                    total += Counts[i, j];
                    if (i == j) diagonal += Counts[i, j];
                }
            return total == 0 ? double.NaN : (double)diagonal / total;
        }
    }
}
