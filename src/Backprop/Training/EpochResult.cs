namespace Backprop.Training;

/// <summary>What one epoch of <see cref="Trainer"/> produced.</summary>
/// <param name="Epoch">The epoch, counted from 1.</param>
/// <param name="Steps">Optimizer steps taken in it by this call (after a mid-epoch resume, only the rest of the epoch).</param>
/// <param name="Examples">Training examples seen in it.</param>
/// <param name="Training">The training metrics over the epoch, by name.</param>
/// <param name="Evaluation">The evaluation metrics after the epoch, by name, or null without evaluation data.</param>
/// <param name="TrainSeconds">Time spent in training steps.</param>
/// <param name="Seconds">Time of the whole epoch, evaluation included.</param>
public sealed record EpochResult(int Epoch, int Steps, long Examples, IReadOnlyDictionary<string, double> Training,
                                 IReadOnlyDictionary<string, double>? Evaluation, double TrainSeconds, double Seconds)
{
    /// <summary>Training throughput: examples per second of training steps.</summary>
    public double SamplesPerSec => Examples / TrainSeconds;

    /// <summary>Steps of the epoch taken when it ended (<see cref="Trainer.StepsPerEpoch"/> when complete; counts the steps before a resume too).</summary>
    public int EpochStep { get; init; }

    /// <summary>Whether the epoch ran to its last step (false when a stop ended it early; the next <see cref="Trainer.TrainEpoch"/> continues it).</summary>
    public bool Complete { get; init; } = true;

    /// <summary>Whether a <see cref="Trainer.RequestStop"/> ended this epoch (early, or at its last step).</summary>
    public bool Stopped { get; init; }
}
