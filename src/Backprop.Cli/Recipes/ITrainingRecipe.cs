using Backprop.Training;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Recipes;

/// <summary>What `backprop train` needs of a recipe (Fashion-MNIST or text): a trainer, one metrics line per (possibly partial) epoch, checkpoints, the console's words and the plot.</summary>
internal interface ITrainingRecipe
{
    /// <summary>The model name (mlp, cnn, gpt, lstm).</summary>
    string Name { get; }

    /// <summary>The library trainer running the recipe (subscribe to its events for progress; <see cref="Trainer.RequestStop"/> ends the run early).</summary>
    Trainer Trainer { get; }

    /// <summary>What the run trains on, with which settings: one console line without markup.</summary>
    string Describe(int threads);

    /// <summary>Trainable parameters.</summary>
    long ParameterCount { get; }

    /// <summary>Trains the next epoch (or the rest of the one in progress), evaluates, and returns its metrics line (partial after a stop).</summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    MetricsLine RunEpoch();

    /// <summary>Writes the training state and the run's settings to <paramref name="path"/> (crash-safe).</summary>
    void SaveCheckpoint(string path);

    /// <summary>The live progress text after a step (loss, throughput).</summary>
    string Progress(StepProgress progress);

    /// <summary>The console line after an epoch.</summary>
    string Summary(MetricsLine line, int epochs);

    /// <summary>Draws curves.png from every metrics line and every step's training loss so far.</summary>
    void SavePlot(IReadOnlyList<MetricsLine> lines, IReadOnlyList<StepLoss> steps, string path);
}
