namespace Backprop.Optim.Schedulers;

/// <summary>
/// Base of learning-rate schedules: each <see cref="Step"/> advances the counter and sets every
/// group's learning rate from the closed-form schedule of its initial learning rate.
/// </summary>
/// <remarks>
/// A schedule here is a function of the step and the group's initial rate (PyTorch's
/// <c>_get_closed_form_lr</c>), so a run resumed with <see cref="SetStepCount"/> has exactly the rates of
/// an uninterrupted one. PyTorch's own <c>step()</c> updates the current rate recursively (its
/// "chainable form", <c>get_lr</c>); both agree to rounding (about 1e-16 relative per step) unless something
/// else changes the rate between steps: here the schedule overwrites such a change, in PyTorch it compounds.
/// <see cref="ChainedScheduler"/>, which exists to compound schedules, uses the chainable forms
/// (<see cref="ChainedLearningRateAt"/>) exactly as PyTorch does.
/// </remarks>
public abstract class LearningRateScheduler
{
    /// <summary>Attaches to an optimizer; subclasses apply the schedule's value for step 0 (<see cref="Apply"/>).</summary>
    /// <exception cref="ArgumentNullException">optimizer is null.</exception>
    protected LearningRateScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
    }

    /// <summary>The optimizer whose groups are scheduled.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Number of Step() calls so far (PyTorch's last_epoch).</summary>
    public int StepCount { get; private set; }

    /// <summary>Learning rate of the schedule at step <paramref name="step"/> for a group that started at <paramref name="initial"/>.</summary>
    public abstract double LearningRateAt(int step, double initial);

    /// <summary>
    /// Learning rate at <paramref name="step"/> for parameter group <paramref name="group"/>, which started at
    /// <paramref name="initial"/>. The same for every group unless the schedule has per-group settings
    /// (<see cref="LambdaLR"/> with one function per group).
    /// </summary>
    public virtual double LearningRateAt(int step, double initial, int group) => LearningRateAt(step, initial);

    /// <summary>True when the rate depends on the group, not only on its initial rate (then the two-argument <see cref="LearningRateAt(int, double)"/> throws).</summary>
    internal virtual bool HasPerGroupSettings => false;

    /// <summary>The message of the two-argument <see cref="LearningRateAt(int, double)"/> of a schedule with per-group settings.</summary>
    private protected InvalidOperationException PerGroupError()
        => new($"{GetType().Name}.LearningRateAt: the schedule has settings per parameter group; call LearningRateAt(step, initial, group)");

    /// <summary>
    /// PyTorch's chainable form (<c>get_lr</c>): the rate after step <paramref name="step"/> computed from the
    /// group's <paramref name="current"/> rate, which other schedules of a <see cref="ChainedScheduler"/> may have
    /// changed. Step 0 is the update PyTorch's constructor makes. The default, for schedules PyTorch does not
    /// chain (<see cref="LambdaLR"/>, <see cref="OneCycleLR"/>), is the closed form, which ignores the current rate.
    /// </summary>
    protected internal virtual double ChainedLearningRateAt(int step, double current, double initial, int group)
        => LearningRateAt(step, initial, group);

    /// <summary>Sets every group's rate to the schedule's value at <see cref="StepCount"/>; subclasses call it at the end of their constructor.</summary>
    protected void Apply()
    {
        IReadOnlyList<ParamGroup> groups = Optimizer.ParamGroups;
        for (int g = 0; g < groups.Count; g++)
            groups[g].LearningRate = LearningRateAt(StepCount, groups[g].InitialLearningRate, g);
        ApplyMomentum(StepCount);
    }

    /// <summary>Sets the groups' <see cref="ParamGroup.Momentum"/> for step <paramref name="step"/>, for schedules that cycle it (<see cref="OneCycleLR"/>); nothing by default.</summary>
    internal virtual void ApplyMomentum(int step) { }

    /// <summary>Advances one step (call after optimizer.Step(), once per epoch or per batch as the schedule intends).</summary>
    public void Step()
    {
        StepCount++;
        Advance();
    }

    /// <summary>Sets the rates after <see cref="StepCount"/> grew by one: the closed form, unless the schedule compounds.</summary>
    private protected virtual void Advance() => Apply();

    /// <summary>Current learning rate of each group.</summary>
    public double[] LastLearningRates()
    {
        var result = new double[Optimizer.ParamGroups.Count];
        for (int i = 0; i < result.Length; i++) result[i] = Optimizer.ParamGroups[i].LearningRate;
        return result;
    }

    /// <summary>The most steps the schedule is defined for (null: no limit); <see cref="SetStepCount"/> refuses more.</summary>
    public virtual int? MaxStepCount => null;

    /// <summary>Restores the step counter (from a checkpoint) and re-applies the schedule; a refused count changes nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, or beyond <see cref="MaxStepCount"/>.</exception>
    public void SetStepCount(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (step > MaxStepCount)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"{GetType().Name}.SetStepCount: the schedule is defined for {MaxStepCount} steps, got {step}");
        StepCount = step;
        Apply();
    }
}

/// <summary>Multiplies the learning rate by gamma every <c>stepSize</c> steps (torch StepLR).</summary>
public sealed class StepLR : LearningRateScheduler
{
    private readonly int _stepSize;
    private readonly double _gamma;

    /// <summary>lr = initial · gamma^⌊t / stepSize⌋.</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        _stepSize = stepSize;
        _gamma = gamma;
        Apply();
    }

    /// <inheritdoc/>
    public override double LearningRateAt(int step, double initial) => initial * Math.Pow(_gamma, step / _stepSize);

    /// <inheritdoc/>
    protected internal override double ChainedLearningRateAt(int step, double current, double initial, int group)
        => step == 0 || step % _stepSize != 0 ? current : current * _gamma;
}

/// <summary>Cosine annealing from the initial rate to etaMin over tMax steps (torch CosineAnnealingLR, closed form).</summary>
public sealed class CosineAnnealingLR : LearningRateScheduler
{
    private readonly int _tMax;
    private readonly double _etaMin;

    /// <summary>lr = etaMin + (initial − etaMin)·(1 + cos(π·t / tMax)) / 2.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tMax);
        _tMax = tMax;
        _etaMin = etaMin;
        Apply();
    }

    /// <inheritdoc/>
    public override double LearningRateAt(int step, double initial)
        => _etaMin + (initial - _etaMin) * (1 + Math.Cos(Math.PI * step / _tMax)) / 2;

    /// <inheritdoc/>
    protected internal override double ChainedLearningRateAt(int step, double current, double initial, int group)
    {
        if (step == 0) return current;
        if ((step - 1 - _tMax) % (2 * _tMax) == 0) // the recursion's ratio would be 0/0 here: PyTorch adds the step instead
            return current + (initial - _etaMin) * (1 - Math.Cos(Math.PI / _tMax)) / 2;
        return (1 + Math.Cos(Math.PI * step / _tMax)) / (1 + Math.Cos(Math.PI * (step - 1) / _tMax)) * (current - _etaMin) + _etaMin;
    }
}

/// <summary>Linear warm-up: scales the rate from startFactor to endFactor over totalIters steps (torch LinearLR).</summary>
public sealed class LinearLR : LearningRateScheduler
{
    private readonly double _start, _end;
    private readonly int _total;

    /// <summary>lr = initial · (start + (end − start)·min(t, total) / total).</summary>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5) : base(optimizer)
    {
        if (!(startFactor > 0 && startFactor <= 1)) throw new ArgumentException($"LinearLR: startFactor must be in (0, 1], got {startFactor}");
        if (!(endFactor >= 0 && endFactor <= 1)) throw new ArgumentException($"LinearLR: endFactor must be in [0, 1], got {endFactor}");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalIters);
        (_start, _end, _total) = (startFactor, endFactor, totalIters);
        Apply();
    }

    /// <inheritdoc/>
    public override double LearningRateAt(int step, double initial)
        => initial * (_start + (_end - _start) * Math.Min(step, _total) / _total);

    /// <inheritdoc/>
    protected internal override double ChainedLearningRateAt(int step, double current, double initial, int group)
    {
        if (step == 0) return current * _start;
        if (step > _total) return current;
        return current * (1 + (_end - _start) / (_total * _start + (step - 1) * (_end - _start)));
    }
}
