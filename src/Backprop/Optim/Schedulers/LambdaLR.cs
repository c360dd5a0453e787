namespace Backprop.Optim.Schedulers;

/// <summary>
/// Sets each group's learning rate to its initial rate times a function of the step (torch LambdaLR):
/// lr = initial · λ(t), with one function for all groups or one per group. Like PyTorch's, the schedule
/// overwrites the rate (it is not chainable).
/// </summary>
/// <example>
/// <code>
/// // Linear warm-up over 100 steps, then constant.
/// var warmup = new LambdaLR(optimizer, step => Math.Min(1.0, (step + 1) / 100.0));
/// </code>
/// </example>
public sealed class LambdaLR : LearningRateScheduler
{
    private readonly Func<int, double>[] _lambdas;
    private readonly bool _perGroup;

    /// <summary>One function for every group; applies step 0.</summary>
    /// <exception cref="ArgumentNullException">lambda is null.</exception>
    public LambdaLR(Optimizer optimizer, Func<int, double> lambda) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(lambda);
        _lambdas = [lambda];
        Apply();
    }

    /// <summary>One function per parameter group, in group order; applies step 0.</summary>
    /// <exception cref="ArgumentException">The count differs from the optimizer's group count, or a function is null.</exception>
    public LambdaLR(Optimizer optimizer, IReadOnlyList<Func<int, double>> lambdas) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(lambdas);
        if (lambdas.Count != optimizer.ParamGroups.Count)
            throw new ArgumentException($"LambdaLR: expected {optimizer.ParamGroups.Count} functions (one per parameter group), got {lambdas.Count}", nameof(lambdas));
        _lambdas = [.. lambdas];
        for (int i = 0; i < _lambdas.Length; i++)
            if (_lambdas[i] is null) throw new ArgumentException($"LambdaLR: the function for group {i} is null", nameof(lambdas));
        _perGroup = true;
        Apply();
    }

    /// <inheritdoc/>
    internal override bool HasPerGroupSettings => _perGroup;

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The schedule has one function per group.</exception>
    public override double LearningRateAt(int step, double initial) => _perGroup ? throw PerGroupError() : initial * _lambdas[0](step);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">group is not a group of the optimizer (with one function per group).</exception>
    public override double LearningRateAt(int step, double initial, int group)
    {
        if (!_perGroup) return initial * _lambdas[0](step);
        ArgumentOutOfRangeException.ThrowIfNegative(group);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(group, _lambdas.Length);
        return initial * _lambdas[group](step);
    }
}
