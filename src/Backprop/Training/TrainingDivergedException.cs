using System.Globalization;

namespace Backprop.Training;

/// <summary>
/// Thrown by <see cref="Trainer"/> when a step's loss is NaN or infinite. The step is abandoned
/// before its backward pass and optimizer update, so the weights are those after the previous step.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Describes a loss of <paramref name="loss"/> at step <paramref name="step"/> of <paramref name="steps"/> in epoch <paramref name="epoch"/>.</summary>
    public TrainingDivergedException(double loss, int epoch, int step, int steps)
        : base($"the loss became {loss.ToString(CultureInfo.InvariantCulture)} at epoch {epoch}, step {step} of {steps}; training stopped before that step's update")
    {
        Loss = loss;
        Epoch = epoch;
        Step = step;
        Steps = steps;
    }

    /// <summary>The non-finite loss value.</summary>
    public double Loss { get; }

    /// <summary>The epoch that diverged, counted from 1.</summary>
    public int Epoch { get; }

    /// <summary>The step within the epoch whose loss was not finite, counted from 1.</summary>
    public int Step { get; }

    /// <summary>Steps in that epoch.</summary>
    public int Steps { get; }
}
