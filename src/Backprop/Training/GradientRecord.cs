namespace Backprop.Training;

/// <summary>The health of one layer's gradients at one monitored step (see <see cref="GradientMonitor"/>).</summary>
/// <param name="Step">The optimizer step (1 for the first).</param>
/// <param name="Layer">The layer's dotted module name ("0", "blocks.1.fc2", …), or a parameter's name when the monitor records each parameter.</param>
/// <param name="GradNorm">L2 norm of the layer's gradients (all its parameters together) after backward, before clipping; NaN when none has a gradient or the layer has no parameters.</param>
/// <param name="WeightNorm">L2 norm of the layer's parameters before the optimizer step; NaN without parameters.</param>
/// <param name="UpdateRatio">‖Δw‖ / ‖w‖: the L2 norm of what the optimizer step changed, over <paramref name="WeightNorm"/>; NaN without parameters.</param>
/// <param name="DeadFraction">The fraction of the ReLU units the layer feeds that were zero for the whole batch; NaN when no ReLU module follows it.</param>
public readonly record struct GradientRecord(long Step, string Layer, double GradNorm, double WeightNorm, double UpdateRatio, double DeadFraction);
