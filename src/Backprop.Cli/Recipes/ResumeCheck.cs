using Backprop.IO;
using Backprop.Training;

namespace Backprop.Cli.Recipes;

/// <summary>The checks every recipe makes before resuming from a checkpoint.</summary>
internal static class ResumeCheck
{
    /// <summary>Loads <paramref name="path"/>, which must be a training checkpoint.</summary>
    /// <exception cref="ArgumentException">The file is some other checkpoint.</exception>
    public static Checkpoint LoadTraining(string path)
    {
        Checkpoint c = Checkpoint.Load(path);
        if (!c.Metadata.TryGetValue("format", out string? format) || format != Trainer.CheckpointFormat)
            throw new ArgumentException($"resume: {path} is not a training checkpoint");
        return c;
    }

    /// <summary>
    /// Throws at the first of this run's settings that the checkpoint saved with another value (the epoch
    /// count may change), naming it as <paramref name="describe"/> does and ending with <paramref name="hint"/>.
    /// </summary>
    public static void SameSettings(Checkpoint c, string path, Dictionary<string, string> run, Func<string, string> describe, string hint)
    {
        foreach (var (key, value) in run)
            if (key != "epochs" && c.Metadata.TryGetValue(key, out string? saved) && saved != value)
                throw new ArgumentException($"resume: {path} was trained with other settings ({describe(key)} differs); {hint}");
    }
}
