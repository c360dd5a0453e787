namespace Backprop.Training;

/// <summary>
/// The one warning a <see cref="GradientMonitor"/> raises: which layer's gradients vanished or exploded, when,
/// and what helps.
/// </summary>
/// <param name="Problem">Vanishing or exploding.</param>
/// <param name="Layer">The layer's name, as in <see cref="GradientRecord.Layer"/>.</param>
/// <param name="Step">The step of the record that decided it.</param>
/// <param name="GradNorm">The layer's gradient norm at that step.</param>
/// <param name="Description">What happened, in one sentence with the numbers.</param>
/// <param name="Remedy">What usually helps, in library terms.</param>
public sealed record GradientWarning(GradientProblem Problem, string Layer, long Step, double GradNorm, string Description, string Remedy)
{
    /// <summary>The description and the remedy.</summary>
    public string Message => Description + " " + Remedy;

    /// <inheritdoc/>
    public override string ToString() => Message;
}
