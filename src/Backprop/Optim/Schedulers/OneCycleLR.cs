namespace Backprop.Optim.Schedulers;

/// <summary>
/// One-cycle policy (torch OneCycleLR, two phases, cosine annealing): the learning rate rises from maxLr/divFactor to
/// maxLr over the first pctStart of totalSteps, then anneals to maxLr/(divFactor·finalDivFactor); the group's initial
/// learning rate is ignored. With cycleMomentum (the default, as PyTorch) the momentum moves the other way, from
/// maxMomentum down to baseMomentum while the rate rises and back up while it falls: SGD's and RMSprop's momentum,
/// Adam's and AdamW's β₁ (<see cref="ParamGroup.Momentum"/>). As in PyTorch, the schedule sets the momentum even if the
/// optimizer was built without any (an <see cref="Sgd"/> with momentum 0 gets 0.95 at step 0).
/// </summary>
public sealed class OneCycleLR : LearningRateScheduler
{
    private readonly double _maxLr, _initialLr, _minLr;
    private readonly int _totalSteps;
    private readonly double _warmEnd;
    private readonly bool _cycleMomentum;
    private readonly double _baseMomentum, _maxMomentum;

    /// <summary>Creates the schedule and applies step 0; call Step() after every batch.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="maxLr">The peak learning rate.</param>
    /// <param name="totalSteps">Steps in the cycle (PyTorch's total_steps; epochs × steps per epoch).</param>
    /// <param name="pctStart">Fraction of the steps spent rising.</param>
    /// <param name="divFactor">The starting rate is maxLr / divFactor.</param>
    /// <param name="finalDivFactor">The final rate is the starting rate / finalDivFactor.</param>
    /// <param name="cycleMomentum">Cycle the momentum (β₁ for Adam) inversely to the rate.</param>
    /// <param name="baseMomentum">The lowest momentum, reached with the peak rate.</param>
    /// <param name="maxMomentum">The momentum at the start and the end of the cycle.</param>
    /// <exception cref="ArgumentException">pctStart is outside (0, 1), or cycleMomentum with an optimizer that has no momentum (<see cref="Adagrad"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">totalSteps is not positive.</exception>
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4,
                      bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95)
        : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        if (!(pctStart > 0 && pctStart < 1)) throw new ArgumentException($"OneCycleLR: pctStart must be in (0, 1), got {pctStart}");
        if (cycleMomentum && optimizer.ParamGroups.Any(g => g.Momentum is null))
            throw new ArgumentException($"OneCycleLR: {optimizer.GetType().Name} has no momentum to cycle; pass cycleMomentum: false (PyTorch: optimizer must support momentum with cycle_momentum enabled)");
        _maxLr = maxLr;
        _initialLr = maxLr / divFactor;
        _minLr = _initialLr / finalDivFactor;
        _totalSteps = totalSteps;
        _warmEnd = pctStart * totalSteps - 1;
        (_cycleMomentum, _baseMomentum, _maxMomentum) = (cycleMomentum, baseMomentum, maxMomentum);
        Apply();
    }

    /// <inheritdoc/>
    public override int? MaxStepCount => _totalSteps;

    /// <inheritdoc/>
    public override double LearningRateAt(int step, double initial)
    {
        double pct = Progress(step, out bool rising);
        return rising ? Cosine(_initialLr, _maxLr, pct) : Cosine(_maxLr, _minLr, pct);
    }

    /// <summary>The momentum (β₁ for Adam) at <paramref name="step"/>: maxMomentum → baseMomentum while the rate rises, back after.</summary>
    public double MomentumAt(int step)
    {
        double pct = Progress(step, out bool rising);
        return rising ? Cosine(_maxMomentum, _baseMomentum, pct) : Cosine(_baseMomentum, _maxMomentum, pct);
    }

    /// <inheritdoc/>
    internal override void ApplyMomentum(int step)
    {
        if (!_cycleMomentum) return;
        double momentum = MomentumAt(step);
        foreach (ParamGroup g in Optimizer.ParamGroups) g.Momentum = momentum;
    }

    /// <summary>PyTorch's phase and its fraction done: the first phase ends at step pctStart·total − 1, the second at total − 1.</summary>
    private double Progress(int step, out bool rising)
    {
        if (step > _totalSteps)
            throw new InvalidOperationException($"OneCycleLR: stepped {step} times, beyond totalSteps {_totalSteps}");
        rising = step <= _warmEnd;
        return rising ? step / _warmEnd : (step - _warmEnd) / (_totalSteps - 1 - _warmEnd);
    }

    private static double Cosine(double start, double end, double pct) => end + (start - end) / 2 * (1 + Math.Cos(Math.PI * pct));
}
