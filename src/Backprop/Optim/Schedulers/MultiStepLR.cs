namespace Backprop.Optim.Schedulers;

/// <summary>
/// Multiplies the learning rate by gamma at each milestone step (torch MultiStepLR): lr = initial ·
/// gamma^(number of milestones ≤ t). A milestone listed twice decays twice at that step, as in PyTorch.
/// </summary>
public sealed class MultiStepLR : LearningRateScheduler
{
    private readonly int[] _milestones; // sorted, repeats kept
    private readonly double _gamma;

    /// <summary>Creates the schedule and applies step 0.</summary>
    /// <param name="optimizer">The optimizer whose groups are scheduled.</param>
    /// <param name="milestones">Step indices at which to decay (any order; a repeated milestone decays once per repeat).</param>
    /// <param name="gamma">Factor per milestone (PyTorch's default 0.1).</param>
    /// <exception cref="ArgumentException">A milestone is negative.</exception>
    public MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = [.. milestones];
        Array.Sort(_milestones);
        if (_milestones.Length > 0 && _milestones[0] < 0)
            throw new ArgumentException($"MultiStepLR: milestones must be ≥ 0, got {_milestones[0]}", nameof(milestones));
        _gamma = gamma;
        Apply();
    }

    /// <summary>The milestones, sorted.</summary>
    public IReadOnlyList<int> Milestones => _milestones;

    /// <summary>Factor per milestone.</summary>
    public double Gamma => _gamma;

    /// <inheritdoc/>
    public override double LearningRateAt(int step, double initial) => initial * Math.Pow(_gamma, CountUpTo(step));

    /// <inheritdoc/>
    protected internal override double ChainedLearningRateAt(int step, double current, double initial, int group)
    {
        int at = CountUpTo(step) - CountUpTo(step - 1); // milestones equal to step
        return at == 0 ? current : current * Math.Pow(_gamma, at);
    }

    /// <summary>Milestones ≤ step (Python's bisect_right).</summary>
    private int CountUpTo(int step)
    {
        int lo = 0, hi = _milestones.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_milestones[mid] <= step) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
