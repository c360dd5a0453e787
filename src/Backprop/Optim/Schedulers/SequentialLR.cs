namespace Backprop.Optim.Schedulers;

/// <summary>
/// Runs schedules one after another (torch SequentialLR): schedule k takes over at milestone k and runs
/// from its own step 0, so step t of the whole is step t − milestone of the schedule in charge. Warm-up then
/// cosine: <c>new SequentialLR(opt, [new LinearLR(opt, 0.1, 1, w), new CosineAnnealingLR(opt, total - w)], [w])</c>.
/// </summary>
/// <remarks>
/// The schedules must be built on the same optimizer; building them applies their step 0, and this
/// constructor then applies the first one's, as PyTorch's does. Only this scheduler is stepped: its phases
/// are read in closed form and never stepped themselves (their <see cref="LearningRateScheduler.StepCount"/>
/// stays 0). A <see cref="ChainedScheduler"/> cannot be a phase (PyTorch's cannot be either).
/// </remarks>
public sealed class SequentialLR : LearningRateScheduler
{
    private readonly LearningRateScheduler[] _schedulers;
    private readonly int[] _milestones;

    /// <summary>Creates the sequence and applies the first schedule's step 0.</summary>
    /// <param name="optimizer">The optimizer all schedules belong to.</param>
    /// <param name="schedulers">The phases, in order.</param>
    /// <param name="milestones">The steps at which phases 1, 2, … take over: one fewer than the schedules, increasing, each ≥ 1.</param>
    /// <exception cref="ArgumentException">No schedules; a schedule of another optimizer; a ChainedScheduler as a phase; the
    /// wrong number of milestones, or milestones not increasing from 1; a phase defined for fewer steps than it has to run.</exception>
    public SequentialLR(Optimizer optimizer, IReadOnlyList<LearningRateScheduler> schedulers, IReadOnlyList<int> milestones) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(milestones);
        if (schedulers.Count == 0) throw new ArgumentException("SequentialLR: expected at least one scheduler", nameof(schedulers));
        for (int i = 0; i < schedulers.Count; i++)
        {
            LearningRateScheduler s = schedulers[i] ?? throw new ArgumentException($"SequentialLR: scheduler {i} is null", nameof(schedulers));
            if (!ReferenceEquals(s.Optimizer, optimizer))
                throw new ArgumentException($"SequentialLR: scheduler {i} ({s.GetType().Name}) belongs to another optimizer than the one passed in", nameof(schedulers));
            if (s is ChainedScheduler)
                throw new ArgumentException($"SequentialLR: scheduler {i} is a ChainedScheduler, which cannot restart at a milestone; chain inside a phase's schedule instead", nameof(schedulers));
        }
        if (milestones.Count != schedulers.Count - 1)
            throw new ArgumentException($"SequentialLR: expected {schedulers.Count - 1} milestones for {schedulers.Count} schedulers (one fewer), got {milestones.Count}", nameof(milestones));
        for (int i = 0; i < milestones.Count; i++)
            if (milestones[i] < 1 || (i > 0 && milestones[i] <= milestones[i - 1]))
                throw new ArgumentException($"SequentialLR: milestones must increase from 1, got [{string.Join(", ", milestones)}]", nameof(milestones));
        _schedulers = [.. schedulers];
        _milestones = [.. milestones];
        for (int k = 0; k + 1 < _schedulers.Length; k++)
        {
            int length = _milestones[k] - (k == 0 ? 0 : _milestones[k - 1]);
            if (_schedulers[k].MaxStepCount is int max && max < length - 1)
                throw new ArgumentException($"SequentialLR: scheduler {k} ({_schedulers[k].GetType().Name}) is defined for {max} steps but runs for {length} (steps 0 to {length - 1})", nameof(milestones));
        }
        Apply();
    }

    /// <summary>The phases.</summary>
    public IReadOnlyList<LearningRateScheduler> Schedulers => _schedulers;

    /// <summary>The steps at which phases 1, 2, … take over.</summary>
    public IReadOnlyList<int> Milestones => _milestones;

    /// <inheritdoc/>
    public override int? MaxStepCount
        => _schedulers[^1].MaxStepCount is int max ? (_milestones.Length == 0 ? max : _milestones[^1] + Math.Min(max, int.MaxValue - _milestones[^1])) : null;

    /// <inheritdoc/>
    internal override bool HasPerGroupSettings => _schedulers.Any(s => s.HasPerGroupSettings);

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">A phase has settings per parameter group.</exception>
    public override double LearningRateAt(int step, double initial) => HasPerGroupSettings ? throw PerGroupError() : LearningRateAt(step, initial, 0);

    /// <inheritdoc/>
    public override double LearningRateAt(int step, double initial, int group)
    {
        int k = Phase(step);
        return _schedulers[k].LearningRateAt(step - Start(k), initial, group);
    }

    /// <inheritdoc/>
    protected internal override double ChainedLearningRateAt(int step, double current, double initial, int group)
    {
        if (step == 0) return _schedulers[0].ChainedLearningRateAt(0, initial, initial, group); // PyTorch's constructor resets to the initial rate
        int k = Phase(step);
        if (k > 0 && step == _milestones[k - 1]) return _schedulers[k].LearningRateAt(0, initial, group); // step(0): the closed form
        return _schedulers[k].ChainedLearningRateAt(step - Start(k), current, initial, group);
    }

    /// <summary>The phase in charge at <paramref name="step"/>: the number of milestones ≤ step.</summary>
    /// <summary>The momentum of the phase's schedule at its own step, as PyTorch's SequentialLR steps only that one.</summary>
    internal override void ApplyMomentum(int step)
    {
        int k = Phase(step);
        _schedulers[k].ApplyMomentum(step - Start(k));
    }

    private int Phase(int step)
    {
        int k = 0;
        while (k < _milestones.Length && _milestones[k] <= step) k++;
        return k;
    }

    private int Start(int phase) => phase == 0 ? 0 : _milestones[phase - 1];
}
