using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>
/// The fraction of targets whose class has the highest score: outputs are class scores (logits or
/// probabilities) [..., classes], targets are int64 class indices [...] (one per output row).
/// </summary>
public sealed class Accuracy : IMetric
{
    private long _correct, _count;

    /// <summary>Creates the metric, reported under <paramref name="name"/>.</summary>
    public Accuracy(string name = "accuracy")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public void Reset() => (_correct, _count) = (0, 0);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The targets are not int64 or do not have one entry per output row.</exception>
    public void Update(MetricBatch batch)
    {
        Tensor outputs = batch.Outputs, targets = batch.Targets;
        if (outputs.Rank == 0 || targets.DType != DType.Int64 || targets.Numel * outputs.Shape[outputs.Rank - 1] != outputs.Numel)
            throw new ArgumentException($"Accuracy: expects class scores [..., classes] and int64 class indices [...]; got outputs {outputs.Shape} and targets {targets.Shape} {targets.DType.Name()}");
        long[] predicted = outputs.ArgMax(outputs.Rank - 1).ToArray<long>();
        long[] truth = targets.ToArray<long>();
        long correct = 0;
        for (int i = 0; i < truth.Length; i++) if (predicted[i] == truth[i]) correct++;
        _correct += correct;
        _count += truth.Length;
    }

    /// <inheritdoc/>
    public double Value => _count == 0 ? double.NaN : (double)_correct / _count;
}
