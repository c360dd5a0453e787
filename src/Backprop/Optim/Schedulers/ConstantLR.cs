namespace Backprop.Optim.Schedulers;

/// <summary>
/// Scales the learning rate by a constant factor for the first <c>totalIters</c> steps, then restores it
/// (torch ConstantLR): lr = initial · factor while t &lt; totalIters, initial after.
/// </summary>
public sealed class ConstantLR : LearningRateScheduler
{
    private readonly double _factor;
    private readonly int _total;

    /// <summary>Creates the schedule and applies step 0 (PyTorch's defaults: factor 1/3 for 5 steps).</summary>
    /// <exception cref="ArgumentException">factor outside [0, 1], or totalIters negative.</exception>
    public ConstantLR(Optimizer optimizer, double factor = 1.0 / 3, int totalIters = 5) : base(optimizer)
    {
        if (!(factor >= 0 && factor <= 1)) throw new ArgumentException($"ConstantLR: factor must be in [0, 1], got {factor}", nameof(factor));
        ArgumentOutOfRangeException.ThrowIfNegative(totalIters);
        (_factor, _total) = (factor, totalIters);
        Apply();
    }

    /// <inheritdoc/>
    public override double LearningRateAt(int step, double initial) => initial * (_factor + (step >= _total ? 1 - _factor : 0));

    /// <inheritdoc/>
    protected internal override double ChainedLearningRateAt(int step, double current, double initial, int group)
    {
        if (step == 0) return current * _factor;
        return step != _total ? current : current * (1.0 / _factor);
    }
}
