using System.Globalization;

namespace Backprop.Cli.Reporting;

/// <summary>
/// One line of metrics.jsonl: the epoch it reports, the steps into that epoch when a stop ended it early
/// (0 for a complete epoch), and the named values in file order (train_loss, test_loss, val_loss, …).
/// </summary>
internal sealed record MetricsLine(int Epoch, int EpochStep, IReadOnlyList<KeyValuePair<string, double>> Values)
{
    /// <summary>Whether a stop ended the epoch before its last step.</summary>
    public bool Partial => EpochStep > 0;

    /// <summary>Where in the run the line was written: after <see cref="Epoch"/> epochs, or <see cref="EpochStep"/> steps into it.</summary>
    public RunPosition Position => Partial ? new RunPosition(Epoch - 1, EpochStep) : new RunPosition(Epoch, 0);

    /// <summary>The value called <paramref name="name"/>, or NaN when the line has none.</summary>
    public double this[string name]
    {
        get
        {
            foreach (var (key, value) in Values)
                if (key == name) return value;
            return double.NaN;
        }
    }
}

/// <summary>A point in a run: <see cref="Epochs"/> complete epochs and <see cref="Step"/> steps into the next (0 at an epoch boundary).</summary>
internal readonly record struct RunPosition(int Epochs, int Step) : IComparable<RunPosition>
{
    /// <inheritdoc/>
    public int CompareTo(RunPosition other) => Epochs != other.Epochs ? Epochs.CompareTo(other.Epochs) : Step.CompareTo(other.Step);

    public static bool operator >(RunPosition a, RunPosition b) => a.CompareTo(b) > 0;

    public static bool operator <(RunPosition a, RunPosition b) => a.CompareTo(b) < 0;

    public static bool operator >=(RunPosition a, RunPosition b) => a.CompareTo(b) >= 0;

    public static bool operator <=(RunPosition a, RunPosition b) => a.CompareTo(b) <= 0;

    /// <summary>"epoch 3" at a boundary, "epoch 4 step 120" inside one.</summary>
    public override string ToString() => Step == 0
        ? string.Create(CultureInfo.InvariantCulture, $"epoch {Epochs}")
        : string.Create(CultureInfo.InvariantCulture, $"epoch {Epochs + 1} step {Step}");
}
