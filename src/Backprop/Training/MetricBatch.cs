using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>
/// One batch as a metric sees it: the inputs, the model's outputs, the targets and the batch's loss.
/// The trainer fills one instance per pass and reuses it for every batch.
/// </summary>
public sealed class MetricBatch
{
    private Func<Tensor, Tensor, Tensor>? _lossFunction;
    private double _loss;
    private bool _hasLoss;

    /// <summary>The batch's inputs, [batch, ...].</summary>
    public Tensor Inputs { get; private set; } = null!;

    /// <summary>The model's outputs for <see cref="Inputs"/>.</summary>
    public Tensor Outputs { get; private set; } = null!;

    /// <summary>The targets the loss compares the outputs with.</summary>
    public Tensor Targets { get; private set; } = null!;

    /// <summary>Examples in the batch (the first dimension of the inputs).</summary>
    public int Count { get; private set; }

    /// <summary>
    /// The loss function's value on this batch (usually the mean over the batch). During training it
    /// is the loss that was back-propagated; during evaluation it is computed on first use.
    /// </summary>
    /// <exception cref="InvalidOperationException">The evaluation was given no loss function.</exception>
    public double Loss
    {
        get
        {
            if (!_hasLoss)
            {
                if (_lossFunction is null)
                    throw new InvalidOperationException("MetricBatch: this evaluation has no loss function; pass one to Evaluation.Run or use metrics that need no loss");
                using (GradMode.Disable()) _loss = _lossFunction(Outputs, Targets).Item();
                _hasLoss = true;
            }
            return _loss;
        }
    }

    /// <summary>Points the batch at a training step whose loss is already known.</summary>
    internal void Set(Tensor inputs, Tensor outputs, Tensor targets, double loss)
    {
        (Inputs, Outputs, Targets, Count) = (inputs, outputs, targets, inputs.Shape[0]);
        (_loss, _hasLoss, _lossFunction) = (loss, true, null);
    }

    /// <summary>Points the batch at an evaluation batch whose loss is computed only if a metric asks.</summary>
    internal void Set(Tensor inputs, Tensor outputs, Tensor targets, Func<Tensor, Tensor, Tensor>? lossFunction)
    {
        (Inputs, Outputs, Targets, Count) = (inputs, outputs, targets, inputs.Shape[0]);
        (_loss, _hasLoss, _lossFunction) = (double.NaN, false, lossFunction);
    }

    /// <summary>Drops the references to the batch's tensors.</summary>
    internal void Clear()
    {
        (Inputs, Outputs, Targets, _lossFunction) = (null!, null!, null!, null);
        Count = 0;
    }
}
