namespace Backprop.Training;

/// <summary>What <see cref="Trainer.StepCompleted"/> reports after every optimizer step.</summary>
/// <param name="Epoch">The epoch being trained, counted from 1.</param>
/// <param name="Step">The step within the epoch, counted from 1.</param>
/// <param name="Steps">Steps in the epoch.</param>
/// <param name="GlobalStep">Optimizer steps taken since the start of training, this one included.</param>
/// <param name="Loss">This step's loss.</param>
/// <param name="GradNorm">The gradient norm before clipping, or NaN when the trainer does not clip by norm.</param>
/// <param name="Examples">Examples trained on so far in this epoch.</param>
/// <param name="Elapsed">Time since the epoch started.</param>
/// <param name="Metrics">The training metrics; their values are live (the running values over the epoch so far), so read them inside the handler.</param>
public readonly record struct StepProgress(int Epoch, int Step, int Steps, long GlobalStep, double Loss, double GradNorm,
                                           long Examples, TimeSpan Elapsed, IReadOnlyList<IMetric> Metrics)
{
    /// <summary>Training throughput of this epoch so far.</summary>
    public double SamplesPerSec => Examples / Elapsed.TotalSeconds;

    /// <summary>The running value of the training metric called <paramref name="name"/> at this moment (read it inside the handler).</summary>
    /// <exception cref="KeyNotFoundException">No training metric has that name.</exception>
    public double Metric(string name)
    {
        for (int i = 0; i < Metrics.Count; i++)
            if (Metrics[i].Name == name) return Metrics[i].Value;
        throw new KeyNotFoundException($"StepProgress: no training metric named '{name}'");
    }
}
