namespace Backprop.Training;

/// <summary>
/// A number accumulated over the batches of one pass (a training epoch or an evaluation), such as
/// the mean loss or the accuracy. The trainer calls <see cref="Reset"/> before a pass,
/// <see cref="Update"/> after every batch (without recording a graph) and reads <see cref="Value"/>.
/// The batch's tensors are recycled after the step (see <see cref="Memory.TensorScope"/>): keep numbers, not tensors.
/// </summary>
public interface IMetric
{
    /// <summary>The key under which the value is reported (e.g. "loss", "accuracy").</summary>
    string Name { get; }

    /// <summary>Forgets every batch seen so far.</summary>
    void Reset();

    /// <summary>Adds one batch; the batch object is reused by the caller, so keep numbers, not the batch.</summary>
    void Update(MetricBatch batch);

    /// <summary>The value over the batches since the last <see cref="Reset"/> (NaN before any batch).</summary>
    double Value { get; }
}
