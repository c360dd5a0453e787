namespace Backprop.Training;

/// <summary>What a <see cref="GradientWarning"/> is about.</summary>
public enum GradientProblem
{
    /// <summary>A layer's gradient norm collapsed towards zero: the layers before it hardly learn.</summary>
    Vanishing,

    /// <summary>A layer's gradient norm became very large, grew fast, or stopped being finite.</summary>
    Exploding,
}
