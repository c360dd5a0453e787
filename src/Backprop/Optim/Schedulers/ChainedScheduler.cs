namespace Backprop.Optim.Schedulers;

/// <summary>
/// Applies several schedules at every step, each to the rate the previous one left (torch
/// ChainedScheduler): e.g. a <see cref="ConstantLR"/> warm-up factor on top of an <see cref="ExponentialLR"/>
/// decay. Each schedule updates the rate with PyTorch's chainable form
/// (<see cref="LearningRateScheduler.ChainedLearningRateAt"/>), so the rates are PyTorch's, including where
/// they do not simply multiply (<see cref="CosineAnnealingLR"/> with etaMin, or a <see cref="LambdaLR"/>,
/// which overwrites whatever came before it in the chain).
/// </summary>
/// <remarks>
/// The schedules must share one optimizer. Only this scheduler is stepped; the rate after construction is
/// what building the schedules in list order gives in PyTorch. <see cref="LearningRateScheduler.SetStepCount"/>
/// and <see cref="LearningRateAt(int, double, int)"/> replay the chain from step 0 (time linear in the step),
/// so a resumed run has bit for bit the rates of an uninterrupted one.
/// </remarks>
public sealed class ChainedScheduler : LearningRateScheduler
{
    private readonly LearningRateScheduler[] _schedulers;

    /// <summary>Chains <paramref name="schedulers"/> (their optimizer is the first one's) and sets the rate of step 0.</summary>
    /// <exception cref="ArgumentException">No schedules, a null one, or schedules of different optimizers.</exception>
    public ChainedScheduler(IReadOnlyList<LearningRateScheduler> schedulers) : base(FirstOptimizer(schedulers))
    {
        for (int i = 1; i < schedulers.Count; i++)
        {
            if (schedulers[i] is null) throw new ArgumentException($"ChainedScheduler: scheduler {i} is null", nameof(schedulers));
            if (!ReferenceEquals(schedulers[i].Optimizer, Optimizer))
                throw new ArgumentException($"ChainedScheduler: scheduler {i} ({schedulers[i].GetType().Name}) belongs to another optimizer than scheduler 0", nameof(schedulers));
        }
        _schedulers = [.. schedulers];
        Apply();
    }

    private static Optimizer FirstOptimizer(IReadOnlyList<LearningRateScheduler> schedulers)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        if (schedulers.Count == 0) throw new ArgumentException("ChainedScheduler: expected at least one scheduler", nameof(schedulers));
        return (schedulers[0] ?? throw new ArgumentException("ChainedScheduler: scheduler 0 is null", nameof(schedulers))).Optimizer;
    }

    /// <summary>The chained schedules, in the order they apply.</summary>
    public IReadOnlyList<LearningRateScheduler> Schedulers => _schedulers;

    /// <inheritdoc/>
    public override int? MaxStepCount
    {
        get
        {
            int? max = null;
            foreach (LearningRateScheduler s in _schedulers)
                if (s.MaxStepCount is int m && (max is null || m < max)) max = m;
            return max;
        }
    }

    /// <inheritdoc/>
    internal override bool HasPerGroupSettings => _schedulers.Any(s => s.HasPerGroupSettings);

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">A chained schedule has settings per parameter group.</exception>
    public override double LearningRateAt(int step, double initial) => HasPerGroupSettings ? throw PerGroupError() : LearningRateAt(step, initial, 0);

    /// <summary>The rate at <paramref name="step"/>, replaying the chain from step 0 (time linear in the step).</summary>
    public override double LearningRateAt(int step, double initial, int group)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        double lr = initial;
        for (int s = 0; s <= step; s++) lr = ChainedLearningRateAt(s, lr, initial, group);
        return lr;
    }

    /// <inheritdoc/>
    protected internal override double ChainedLearningRateAt(int step, double current, double initial, int group)
    {
        double lr = current;
        foreach (LearningRateScheduler s in _schedulers) lr = s.ChainedLearningRateAt(step, lr, initial, group);
        return lr;
    }

    /// <summary>One more step from the current rates (what the replay computes, in one step).</summary>
    private protected override void Advance()
    {
        IReadOnlyList<ParamGroup> groups = Optimizer.ParamGroups;
        for (int g = 0; g < groups.Count; g++)
            groups[g].LearningRate = ChainedLearningRateAt(StepCount, groups[g].LearningRate, groups[g].InitialLearningRate, g);
        ApplyMomentum(StepCount);
    }

    /// <summary>Each schedule sets its momentum in turn, as PyTorch's chain steps each (the last one that cycles momentum wins).</summary>
    internal override void ApplyMomentum(int step)
    {
        foreach (LearningRateScheduler s in _schedulers) s.ApplyMomentum(step);
    }
}
