using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>
/// The mean loss per example over a pass. By default each batch's loss (a mean over the batch) is
/// weighted by the batch's size; <see cref="FromSum"/> instead adds a summed loss per batch and divides
/// by the number of examples once at the end.
/// </summary>
public sealed class MeanLoss : IMetric
{
    private readonly Func<Tensor, Tensor, Tensor>? _summedLoss;
    private double _sum;
    private long _count;

    /// <summary>Averages the batch losses the trainer computes, weighted by batch size.</summary>
    public MeanLoss(string name = "loss")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    private MeanLoss(string name, Func<Tensor, Tensor, Tensor> summedLoss) : this(name)
    {
        _summedLoss = summedLoss;
    }

    /// <summary>
    /// Adds <paramref name="summedLoss"/>(outputs, targets), a loss summed over the batch (e.g. with
    /// <c>Reduction.Sum</c>), and divides the total by the number of examples.
    /// </summary>
    public static MeanLoss FromSum(Func<Tensor, Tensor, Tensor> summedLoss, string name = "loss")
    {
        ArgumentNullException.ThrowIfNull(summedLoss);
        return new MeanLoss(name, summedLoss);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public void Reset() => (_sum, _count) = (0, 0);

    /// <inheritdoc/>
    public void Update(MetricBatch batch)
    {
        _sum += _summedLoss is null ? batch.Loss * batch.Count : _summedLoss(batch.Outputs, batch.Targets).Item();
        _count += batch.Count;
    }

    /// <inheritdoc/>
    public double Value => _count == 0 ? double.NaN : _sum / _count;
}
