namespace Backprop.Optim.Schedulers;

/// <summary>Multiplies the learning rate by gamma every step (torch ExponentialLR): lr = initial · gamma^t.</summary>
public sealed class ExponentialLR : LearningRateScheduler
{
    private readonly double _gamma;

    /// <summary>Creates the schedule and applies step 0. PyTorch has no default for gamma either.</summary>
    /// <exception cref="ArgumentException">gamma is negative or not finite.</exception>
    public ExponentialLR(Optimizer optimizer, double gamma) : base(optimizer)
    {
        if (!(gamma >= 0) || double.IsInfinity(gamma))
            throw new ArgumentException($"ExponentialLR: gamma must be finite and ≥ 0, got {gamma}", nameof(gamma));
        _gamma = gamma;
        Apply();
    }

    /// <summary>Factor per step.</summary>
    public double Gamma => _gamma;

    /// <inheritdoc/>
    public override double LearningRateAt(int step, double initial) => initial * Math.Pow(_gamma, step);

    /// <inheritdoc/>
    protected internal override double ChainedLearningRateAt(int step, double current, double initial, int group)
        => step == 0 ? current : current * _gamma;
}
