using Backprop.Optim;
using Backprop.Optim.Schedulers;

namespace Backprop.Cli.Recipes;

/// <summary>
/// A per-step schedule for the text models: a linear warm-up from lr/warmup to lr over the first
/// <c>warmup</c> steps, times an exponential decay of <c>decay</c> per epoch applied smoothly, step by step:
/// lr(s) = lr · min(1, (s + 1) / warmup) · decay^(s / stepsPerEpoch). The rate at step s never depends on how
/// long the run is, so a run cut short by --max-minutes has the rates of a longer run up to that point.
/// </summary>
internal sealed class WarmupDecayLR : LearningRateScheduler
{
    private readonly int _warmup, _stepsPerEpoch;
    private readonly double _decay;

    public WarmupDecayLR(Optimizer optimizer, int warmup, double decay, int stepsPerEpoch) : base(optimizer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepsPerEpoch);
        (_warmup, _decay, _stepsPerEpoch) = (warmup, decay, stepsPerEpoch);
        Apply();
    }

    public override double LearningRateAt(int step, double initial)
        => initial * (_warmup == 0 ? 1 : Math.Min(1.0, (step + 1.0) / _warmup)) * Math.Pow(_decay, (double)step / _stepsPerEpoch);
}
