using System.Globalization;

namespace Backprop.Optim.Schedulers;

/// <summary>
/// Lowers the learning rate when a metric stops improving (torch ReduceLROnPlateau, with its defaults and
/// decision rule): call <see cref="Step(double)"/> with the metric once per epoch. After more than
/// <see cref="Patience"/> steps in a row without a significant improvement, every group's rate becomes
/// max(lr · factor, minLr) (skipped for a group when that changes it by no more than eps); then
/// <see cref="Cooldown"/> steps pass in which bad steps are not counted.
/// </summary>
/// <remarks>
/// It changes each group's current rate, so it does not combine with a <see cref="LearningRateScheduler"/>
/// on the same optimizer (which sets the rates in closed form and would undo the reductions). With the
/// trainer: <c>trainer.EpochCompleted += r => plateau.Step(r.Evaluation!["loss"])</c>, and save
/// <see cref="StateDict"/> as checkpoint metadata (the rates themselves are in the optimizer's state).
/// A NaN metric is never an improvement.
/// </remarks>
public sealed class ReduceLROnPlateau
{
    private readonly double[] _minLrs;

    /// <summary>Attaches to <paramref name="optimizer"/>; the defaults are PyTorch's.</summary>
    /// <param name="optimizer">The optimizer whose groups' rates are reduced.</param>
    /// <param name="mode">Whether the metric should fall (<see cref="PlateauMode.Min"/>) or rise.</param>
    /// <param name="factor">New rate = rate · factor; in [0, 1).</param>
    /// <param name="patience">Steps without improvement tolerated; the rate falls on the next bad one.</param>
    /// <param name="threshold">The margin an improvement must beat (see <paramref name="thresholdMode"/>).</param>
    /// <param name="thresholdMode">Relative or absolute margin.</param>
    /// <param name="cooldown">Steps after a reduction in which bad steps are not counted.</param>
    /// <param name="minLr">Lower bound on every group's rate.</param>
    /// <param name="eps">A reduction smaller than or equal to this is skipped.</param>
    /// <param name="minLrs">A lower bound per group instead of <paramref name="minLr"/> (PyTorch's list form of min_lr).</param>
    /// <exception cref="ArgumentException">factor outside [0, 1); a negative patience or cooldown; a threshold, eps or bound that is
    /// NaN, infinite or (bounds) negative; both minLr and minLrs; minLrs of the wrong length.</exception>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10,
                             double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0,
                             double minLr = 0, double eps = 1e-8, IReadOnlyList<double>? minLrs = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!(factor >= 0 && factor < 1)) throw new ArgumentException($"ReduceLROnPlateau: factor must be in [0, 1), got {factor}", nameof(factor));
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        if (!double.IsFinite(threshold)) throw new ArgumentException($"ReduceLROnPlateau: threshold must be finite, got {threshold}", nameof(threshold));
        if (!double.IsFinite(eps)) throw new ArgumentException($"ReduceLROnPlateau: eps must be finite, got {eps}", nameof(eps));
        if (!Enum.IsDefined(mode)) throw new ArgumentException($"ReduceLROnPlateau: unknown mode {mode}", nameof(mode));
        if (!Enum.IsDefined(thresholdMode)) throw new ArgumentException($"ReduceLROnPlateau: unknown threshold mode {thresholdMode}", nameof(thresholdMode));
        int groups = optimizer.ParamGroups.Count;
        if (minLrs is not null)
        {
            if (minLr != 0) throw new ArgumentException("ReduceLROnPlateau: give minLr (one bound) or minLrs (one per group), not both", nameof(minLrs));
            if (minLrs.Count != groups)
                throw new ArgumentException($"ReduceLROnPlateau: expected {groups} minimum rates (one per parameter group), got {minLrs.Count}", nameof(minLrs));
            _minLrs = [.. minLrs];
        }
        else
            _minLrs = Enumerable.Repeat(minLr, groups).ToArray();
        foreach (double m in _minLrs)
            if (!(m >= 0) || double.IsInfinity(m)) throw new ArgumentException($"ReduceLROnPlateau: a minimum rate must be finite and ≥ 0, got {m}", minLrs is null ? nameof(minLr) : nameof(minLrs));
        Optimizer = optimizer;
        (Mode, Factor, Patience, Threshold, ThresholdMode, Cooldown, Eps) = (mode, factor, patience, threshold, thresholdMode, cooldown, eps);
        Best = mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
    }

    /// <summary>The optimizer whose rates are reduced.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Whether lower or higher metrics are better.</summary>
    public PlateauMode Mode { get; }

    /// <summary>New rate = rate · factor.</summary>
    public double Factor { get; }

    /// <summary>Steps without improvement tolerated before a reduction.</summary>
    public int Patience { get; }

    /// <summary>The margin an improvement must beat.</summary>
    public double Threshold { get; }

    /// <summary>Relative or absolute margin.</summary>
    public ThresholdMode ThresholdMode { get; }

    /// <summary>Steps after a reduction in which bad steps are not counted.</summary>
    public int Cooldown { get; }

    /// <summary>Reductions of at most this size are skipped.</summary>
    public double Eps { get; }

    /// <summary>The lower bound of each group's rate.</summary>
    public IReadOnlyList<double> MinLearningRates => _minLrs;

    /// <summary>The best metric so far (+∞ in min mode, −∞ in max mode before the first step).</summary>
    public double Best { get; private set; }

    /// <summary>Bad steps in a row (PyTorch's num_bad_epochs).</summary>
    public int NumBadEpochs { get; private set; }

    /// <summary>Steps of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>Number of Step calls (PyTorch's last_epoch).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>True while bad steps are not counted after a reduction.</summary>
    public bool InCooldown => CooldownCounter > 0;

    /// <summary>Whether <paramref name="metric"/> is a significant improvement over <paramref name="best"/> (PyTorch's is_better).</summary>
    public bool IsBetter(double metric, double best) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => metric < best * (1 - Threshold),
        (PlateauMode.Min, ThresholdMode.Abs) => metric < best - Threshold,
        (PlateauMode.Max, ThresholdMode.Rel) => metric > best * (Threshold + 1),
        _ => metric > best + Threshold,
    };

    /// <summary>Records one epoch's metric and reduces the rates if it is the (patience + 1)-th bad step in a row.</summary>
    public void Step(double metric)
    {
        LastEpoch++;
        if (IsBetter(metric, Best))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else
            NumBadEpochs++;
        if (InCooldown)
        {
            CooldownCounter--;
            NumBadEpochs = 0; // bad steps during cooldown do not count
        }
        if (NumBadEpochs > Patience)
        {
            Reduce();
            CooldownCounter = Cooldown;
            NumBadEpochs = 0;
        }
    }

    /// <summary><see cref="Step(double)"/> with a one-element tensor's value (a loss).</summary>
    public void Step(Tensors.Tensor metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        Step(metric.Item());
    }

    private void Reduce()
    {
        IReadOnlyList<ParamGroup> groups = Optimizer.ParamGroups;
        for (int i = 0; i < groups.Count; i++)
        {
            double old = groups[i].LearningRate;
            double lr = Math.Max(old * Factor, _minLrs[i]);
            if (old - lr > Eps) groups[i].LearningRate = lr;
        }
    }

    private static readonly string[] Keys = ["best", "num_bad_epochs", "cooldown_counter", "last_epoch"];

    /// <summary>
    /// The counters as text under <paramref name="prefix"/> + "best", "num_bad_epochs", "cooldown_counter" and
    /// "last_epoch" (round-trip numbers), ready for checkpoint metadata
    /// (<c>trainer.SaveCheckpoint(path, plateau.StateDict("plateau."))</c>). The hyperparameters are the
    /// constructor's; the rates are in the optimizer's state.
    /// </summary>
    public Dictionary<string, string> StateDict(string prefix = "") => new()
    {
        [prefix + Keys[0]] = Best.ToString("R", CultureInfo.InvariantCulture),
        [prefix + Keys[1]] = NumBadEpochs.ToString(CultureInfo.InvariantCulture),
        [prefix + Keys[2]] = CooldownCounter.ToString(CultureInfo.InvariantCulture),
        [prefix + Keys[3]] = LastEpoch.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Restores the counters from <see cref="StateDict"/> output (entries without <paramref name="prefix"/> are
    /// ignored, so checkpoint metadata can be passed whole). All four are checked before anything changes.
    /// </summary>
    /// <exception cref="ArgumentException">An entry is missing or not a number of its kind (best: a number or ±Infinity, not NaN;
    /// counters: whole numbers ≥ 0, cooldown_counter at most <see cref="Cooldown"/>).</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, string> state, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(prefix);
        string Get(string key) => state.TryGetValue(prefix + key, out string? v) && v is not null
            ? v : throw new ArgumentException($"ReduceLROnPlateau.LoadStateDict: missing '{prefix + key}'", nameof(state));
        string bestText = Get(Keys[0]);
        if (!double.TryParse(bestText, NumberStyles.Float, CultureInfo.InvariantCulture, out double best) || double.IsNaN(best))
            throw new ArgumentException($"ReduceLROnPlateau.LoadStateDict: '{prefix + Keys[0]}' = '{bestText}' is not a number", nameof(state));
        int Count(string key, int max)
        {
            string text = Get(key);
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v > max)
                throw new ArgumentException($"ReduceLROnPlateau.LoadStateDict: '{prefix + key}' = '{text}', expected a whole number in [0, {max}]", nameof(state));
            return v;
        }
        int bad = Count(Keys[1], int.MaxValue), cooldown = Count(Keys[2], Cooldown), last = Count(Keys[3], int.MaxValue);
        (Best, NumBadEpochs, CooldownCounter, LastEpoch) = (best, bad, cooldown, last);
    }
}
