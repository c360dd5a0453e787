using System.Diagnostics;
using System.Globalization;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.IO;
using Backprop.Memory;
using Backprop.NN;
using Backprop.Optim;
using Backprop.Optim.Schedulers;
using Backprop.Tensors;

namespace Backprop.Training;

/// <summary>
/// Trains any model on any data with any loss: epochs of optimizer steps with optional
/// learning-rate schedules (per epoch and per step), gradient clipping, pluggable metrics,
/// evaluation after each epoch, divergence detection and checkpoints with exact resume.
/// Progress is reported through <see cref="StepCompleted"/> and <see cref="EpochCompleted"/>;
/// the trainer prints nothing.
/// </summary>
/// <remarks>
/// <para>Resume is exact, at an epoch boundary or inside an epoch: a checkpoint holds the model, the
/// optimizer state, the schedules' positions, the state of <see cref="Generator"/>, the epoch, the steps
/// taken in the epoch in progress and (for an <see cref="IStatefulModel"/>) the state carried into the
/// next step; the batches of an epoch depend only on the source's seed and the epoch number
/// (<see cref="IBatchSource"/>), so training 2 epochs gives the same weights as training 1, saving,
/// loading into a new trainer and training 1 more, and the same holds for a checkpoint taken after
/// any step. One thing is not restored: the training metrics of a resumed epoch (its mean loss,
/// accuracy, example count) cover only the steps after the resume.</para>
/// <para><see cref="RequestStop"/> (from a <see cref="StepCompleted"/> handler, a timer or another
/// thread) ends training after the current step: the epoch ends early, is evaluated, and
/// <see cref="Fit"/> saves a checkpoint of the position (<c>epoch-N-step-K.ckpt</c>: K steps into
/// epoch N) and returns. Resuming from it continues epoch N at step K + 1.</para>
/// <para>Truncated backpropagation through time: a model that implements <see cref="IStatefulModel"/>
/// is reset at the start of every epoch and carries its detached state from each step to the next.</para>
/// </remarks>
/// <example>
/// <code>
/// var trainer = new Trainer(model, optimizer, (y, t) => Functional.CrossEntropy(y, t), trainLoader)
/// {
///     EvaluationData = testLoader.Epoch(0),
///     EpochScheduler = new StepLR(optimizer, stepSize: 1, gamma: 0.7),
///     MaxGradNorm = 1.0,
///     TrainingMetrics = [new MeanLoss(), new Accuracy()],
///     EvaluationMetrics = [new MeanLoss(), new Accuracy()],
/// };
/// trainer.EpochCompleted += r => Console.WriteLine($"epoch {r.Epoch}: {r.Evaluation!["accuracy"]:P1}");
/// trainer.Fit(epochs: 5, checkpointDirectory: "checkpoints");
/// </code>
/// </example>
public sealed class Trainer
{
    /// <summary>The "format" metadata value of a training checkpoint.</summary>
    public const string CheckpointFormat = "backprop-train-1";

    // Metadata keys the trainer owns; a caller's extra metadata may not use them.
    private const string FormatKey = "format", EpochKey = "epoch", StepKey = "step", EpochStepKey = "epoch_step",
                         EpochScheduleKey = "epoch_schedule_steps", StepScheduleKey = "step_schedule_steps";

    /// <summary>The name prefix of the carried state's tensors in a checkpoint ("carried.0", "carried.1", …).</summary>
    private const string CarriedPrefix = "carried.";

    private readonly Parameter[] _parameters;
    private readonly MetricBatch _batch = new();
    private IMetric[] _trainingMetrics = [new MeanLoss()];
    private IMetric[] _evaluationMetrics = [new MeanLoss()];
    private double? _maxGradNorm, _maxGradValue;
    private LearningRateScheduler? _epochScheduler, _stepScheduler;
    private volatile bool _stopRequested;
    private GradientMonitor? _monitor;

    /// <summary>Creates a trainer; set the optional parts (schedules, clipping, metrics, evaluation data) with initialisers.</summary>
    /// <param name="model">The model to train; its parameters are the ones clipped.</param>
    /// <param name="optimizer">The optimizer over the model's parameters.</param>
    /// <param name="loss">Loss function (outputs, targets) → scalar tensor, e.g. <c>(y, t) => Functional.CrossEntropy(y, t)</c>.</param>
    /// <param name="trainingData">The training batches (a <see cref="DataLoader"/>, <see cref="TextWindows"/>, <see cref="TextStreams"/>, …); epoch e (from 0) trains on <c>trainingData.Epoch(e)</c>.</param>
    public Trainer(Module model, Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss, IBatchSource trainingData)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(trainingData);
        Model = model;
        Optimizer = optimizer;
        LossFunction = loss;
        TrainingData = trainingData;
        _parameters = [.. model.Parameters()];
    }

    /// <summary>The model being trained.</summary>
    public Module Model { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The loss function (outputs, targets) → scalar tensor.</summary>
    public Func<Tensor, Tensor, Tensor> LossFunction { get; }

    /// <summary>The training batches.</summary>
    public IBatchSource TrainingData { get; }

    /// <summary>Batches evaluated after every epoch (e.g. a non-shuffling <c>DataLoader.Epoch(0)</c>); null for none.</summary>
    public IEnumerable<(Tensor Inputs, Tensor Targets)>? EvaluationData { get; init; }

    /// <summary>A schedule of <see cref="Optimizer"/> stepped once after every epoch (e.g. <see cref="StepLR"/>); null for none.</summary>
    /// <exception cref="ArgumentException">It schedules another optimizer, or <see cref="StepScheduler"/> is set too.</exception>
    public LearningRateScheduler? EpochScheduler
    {
        get => _epochScheduler;
        init => _epochScheduler = CheckScheduler(value, _stepScheduler);
    }

    /// <summary>A schedule of <see cref="Optimizer"/> stepped once after every optimizer step (e.g. <see cref="OneCycleLR"/>); null for none.</summary>
    /// <exception cref="ArgumentException">It schedules another optimizer, or <see cref="EpochScheduler"/> is set too.</exception>
    public LearningRateScheduler? StepScheduler
    {
        get => _stepScheduler;
        init => _stepScheduler = CheckScheduler(value, _epochScheduler);
    }

    /// <summary>Clip the gradients' global norm to this value before each step (<see cref="GradClip.ClipGradNorm"/>); null for no norm clipping.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a positive finite number.</exception>
    public double? MaxGradNorm
    {
        get => _maxGradNorm;
        init => _maxGradNorm = value is double v && !(v > 0 && double.IsFinite(v))
            ? throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), v, "Trainer: MaxGradNorm must be a positive finite number")
            : value;
    }

    /// <summary>The p of the norm <see cref="MaxGradNorm"/> limits (2 by default; infinity for the largest magnitude).</summary>
    public double GradNormType { get; init; } = 2;

    /// <summary>Clamp every gradient element into [−value, value] before each step (<see cref="GradClip.ClipGradValue"/>); null for none. Applied before norm clipping.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or not a number.</exception>
    public double? MaxGradValue
    {
        get => _maxGradValue;
        init => _maxGradValue = value is double v && !(v >= 0)
            ? throw new ArgumentOutOfRangeException(nameof(MaxGradValue), v, "Trainer: MaxGradValue must be zero or more")
            : value;
    }

    /// <summary>Metrics accumulated over each training epoch (default: the mean loss, "loss").</summary>
    /// <exception cref="ArgumentException">Two metrics share a name.</exception>
    public IReadOnlyList<IMetric> TrainingMetrics
    {
        get => _trainingMetrics;
        init
        {
            Evaluation.CheckNames(value);
            _trainingMetrics = [.. value];
        }
    }

    /// <summary>Metrics computed on <see cref="EvaluationData"/> after each epoch (default: the mean loss, "loss").</summary>
    /// <exception cref="ArgumentException">Two metrics share a name.</exception>
    public IReadOnlyList<IMetric> EvaluationMetrics
    {
        get => _evaluationMetrics;
        init
        {
            Evaluation.CheckNames(value);
            _evaluationMetrics = [.. value];
        }
    }

    /// <summary>
    /// Records gradient health (norms, update ratios, dead units) every few steps and warns once when
    /// gradients vanish or explode (see <see cref="GradientMonitor"/>); null for none.
    /// </summary>
    /// <exception cref="ArgumentException">The monitor watches another model.</exception>
    public GradientMonitor? Monitor
    {
        get => _monitor;
        set => _monitor = value is not null && !ReferenceEquals(value.Model, Model)
            ? throw new ArgumentException("Trainer: the GradientMonitor watches another model than the trainer's")
            : value;
    }

    /// <summary>The run's random generator (initialisation, dropout), saved in checkpoints and restored on resume; null for none.</summary>
    public Generator? Generator { get; init; }

    /// <summary>Epochs completed so far (0 for a fresh run; the checkpoint's epoch after a resume).</summary>
    public int CompletedEpochs { get; private set; }

    /// <summary>Steps taken in the epoch in progress, epoch <see cref="CompletedEpochs"/> + 1: 0 at an epoch boundary, K after a stop (or a resume) K steps into it.</summary>
    public int EpochStep { get; private set; }

    /// <summary>Optimizer steps taken so far, over all epochs.</summary>
    public long GlobalStep { get; private set; }

    /// <summary>Steps per epoch.</summary>
    public int StepsPerEpoch => TrainingData.BatchCount;

    /// <summary>Raised after every optimizer step, with the running training metrics.</summary>
    public event Action<StepProgress>? StepCompleted;

    /// <summary>Raised after every epoch, once its evaluation is done and the epoch schedule has stepped.</summary>
    public event Action<EpochResult>? EpochCompleted;

    /// <summary>
    /// Trains until <see cref="CompletedEpochs"/> reaches <paramref name="epochs"/> or a stop is requested
    /// (<see cref="RequestStop"/>), saving into <paramref name="checkpointDirectory"/> when given
    /// <c>epoch-N.ckpt</c> after every epoch, and <c>epoch-N-step-K.ckpt</c> when a stop ends epoch N after K steps.
    /// </summary>
    /// <returns>The epochs trained by this call, in order (empty when the run is already that far); the last is partial (<see cref="EpochResult.Complete"/> false) after a stop inside an epoch.</returns>
    /// <exception cref="TrainingDivergedException">A loss was NaN or infinite; earlier epochs' checkpoints are kept.</exception>
    public List<EpochResult> Fit(int epochs, string? checkpointDirectory = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        var results = new List<EpochResult>();
        while (CompletedEpochs < epochs)
        {
            EpochResult result = TrainEpoch();
            if (checkpointDirectory is not null)
                SaveCheckpoint(Path.Combine(checkpointDirectory, CheckpointName(result)));
            results.Add(result);
            if (result.Stopped) break;
        }
        return results;
    }

    /// <summary>The file name <see cref="Fit"/> gives the checkpoint after <paramref name="result"/>: <c>epoch-N.ckpt</c>, or <c>epoch-N-step-K.ckpt</c> for an epoch a stop ended after K steps.</summary>
    public static string CheckpointName(EpochResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Complete
            ? string.Create(CultureInfo.InvariantCulture, $"epoch-{result.Epoch}.ckpt")
            : string.Create(CultureInfo.InvariantCulture, $"epoch-{result.Epoch}-step-{result.EpochStep}.ckpt");
    }

    /// <summary>
    /// Asks training to stop after the step in progress (or after the next step, when none is): the epoch
    /// ends there, is evaluated and reported like a complete one (<see cref="EpochResult.Stopped"/>), and
    /// <see cref="Fit"/> returns after saving its checkpoint. Safe to call from any thread and from a
    /// <see cref="StepCompleted"/> handler (e.g. when a time budget is spent). The request is cleared once honoured.
    /// </summary>
    public void RequestStop() => _stopRequested = true;

    /// <summary>Whether a stop was requested and not yet honoured.</summary>
    public bool StopRequested => _stopRequested;

    /// <summary>
    /// Trains the next epoch (or the rest of the epoch in progress, after a stop or a mid-epoch resume),
    /// evaluates on <see cref="EvaluationData"/> if set, and steps the epoch schedule. A stop request
    /// (<see cref="RequestStop"/>) ends the epoch after the current step; it is then evaluated but not
    /// counted as completed (<see cref="EpochResult.Complete"/> false) and the next call continues it.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A loss was NaN or infinite; the epoch is not counted as completed.</exception>
    public EpochResult TrainEpoch()
    {
        int epoch = CompletedEpochs + 1;
        int steps = TrainingData.BatchCount;
        int first = EpochStep;
        var stateful = Model as IStatefulModel;
        if (first == 0) stateful?.ResetState(); // a resumed epoch continues from the state its checkpoint carried
        Model.Train();
        foreach (IMetric metric in _trainingMetrics) metric.Reset();
        var clock = Stopwatch.StartNew();
        long examples = 0;
        int step = first;
        bool stopped = false;
        foreach (var (inputs, targets) in TrainingData.Epoch(epoch - 1, first))
        {
            step++;
            double loss, gradNorm;
            using (TensorScope.Begin(inputs, targets)) // the step's tensors, the batch included, are recycled when it ends
                (loss, gradNorm) = TrainStep(inputs, targets, epoch, step, steps, stateful);
            GlobalStep++;
            EpochStep = step;
            StepScheduler?.Step();
            examples += inputs.Shape[0];
            StepCompleted?.Invoke(new StepProgress(epoch, step, steps, GlobalStep, loss, gradNorm, examples, clock.Elapsed, _trainingMetrics));
            if (_stopRequested)
            {
                _stopRequested = false;
                stopped = true;
                break;
            }
        }
        bool complete = step >= steps;
        double trainSeconds = clock.Elapsed.TotalSeconds;
        Dictionary<string, double> training = Evaluation.Values(_trainingMetrics);
        Dictionary<string, double>? evaluation = EvaluationData is null ? null : Evaluate();
        if (complete)
        {
            CompletedEpochs = epoch;
            EpochStep = 0;
            EpochScheduler?.Step();
        }
        var result = new EpochResult(epoch, step - first, examples, training, evaluation, trainSeconds, clock.Elapsed.TotalSeconds)
        {
            EpochStep = step,
            Complete = complete,
            Stopped = stopped,
        };
        EpochCompleted?.Invoke(result);
        return result;
    }

    /// <summary>
    /// One training step on one batch: zero the gradients, forward, loss, divergence check, backward,
    /// gradient clipping, optimizer step, and the training metrics' update. Every tensor the step makes
    /// is dead when it returns (the caller's <see cref="TensorScope"/> recycles them); it returns the loss and the gradient norm before clipping (NaN without
    /// norm clipping).
    /// </summary>
    private (double Loss, double GradNorm) TrainStep(Tensor inputs, Tensor targets, int epoch, int step, int steps, IStatefulModel? stateful)
    {
        _monitor?.BeginStep(GlobalStep + 1);
        Optimizer.ZeroGrad();
        Tensor outputs = Model.Call(inputs);
        Tensor loss = LossFunction(outputs, targets);
        double lossValue = loss.Item();
        if (!double.IsFinite(lossValue))
            throw new TrainingDivergedException(lossValue, epoch, step, steps);
        loss.Backward();
        _monitor?.RecordGradients();
        if (_maxGradValue is double clipValue) GradClip.ClipGradValue(_parameters, clipValue);
        double gradNorm = _maxGradNorm is double maxNorm ? GradClip.ClipGradNorm(_parameters, maxNorm, GradNormType) : double.NaN;
        Optimizer.Step();
        _monitor?.EndStep();
        stateful?.DetachState(); // the next step starts where this one ended, without its graph

        using (GradMode.Disable())
        {
            _batch.Set(inputs, outputs, targets, lossValue);
            foreach (IMetric metric in _trainingMetrics) metric.Update(_batch);
            _batch.Clear();
        }
        return (lossValue, gradNorm);
    }

    /// <summary>
    /// The evaluation metrics on <see cref="EvaluationData"/>, by name (see <see cref="Evaluation.Run"/>). The
    /// state an <see cref="IStatefulModel"/> carries for training is put back afterwards, so training can go on.
    /// </summary>
    /// <exception cref="InvalidOperationException">The trainer has no evaluation data.</exception>
    public Dictionary<string, double> Evaluate()
    {
        if (EvaluationData is null)
            throw new InvalidOperationException("Trainer.Evaluate: no EvaluationData was set");
        var stateful = Model as IStatefulModel;
        Tensor[]? carried = null;
        if (stateful is not null)
            using (GradMode.Disable())
            {
                IReadOnlyList<Tensor> state = stateful.State;
                carried = new Tensor[state.Count];
                for (int i = 0; i < carried.Length; i++) carried[i] = state[i].Clone();
            }
        Dictionary<string, double> values = Evaluation.Run(Model, EvaluationData, _evaluationMetrics, LossFunction);
        stateful?.LoadState(carried!);
        return values;
    }

    /// <summary>
    /// The training state as a checkpoint: tensors "model.*", "optimizer.*", "rng" (when there is a
    /// <see cref="Generator"/>) and, inside an epoch, the state an <see cref="IStatefulModel"/> carries
    /// ("carried.0", …); metadata "format", the caller's <paramref name="metadata"/>, "epoch", "step",
    /// "epoch_step" (inside an epoch: the steps taken in it) and the schedules' positions.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="metadata"/> uses a key the trainer writes itself.</exception>
    public Checkpoint ToCheckpoint(IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, t) in Model.StateDict()) tensors.Add(new("model." + name, t));
        foreach (var (name, t) in Optimizer.StateDict()) tensors.Add(new("optimizer." + name, t));
        if (Generator is not null)
        {
            ulong[] state = Generator.GetState();
            var words = new long[state.Length];
            for (int i = 0; i < state.Length; i++) words[i] = unchecked((long)state[i]);
            tensors.Add(new("rng", Tensor.FromArray(words)));
        }
        if (EpochStep > 0 && Model is IStatefulModel stateful)
        {
            IReadOnlyList<Tensor> state = stateful.State;
            for (int i = 0; i < state.Count; i++)
                tensors.Add(new(CarriedPrefix + i.ToString(CultureInfo.InvariantCulture), state[i]));
        }
        var meta = new Dictionary<string, string> { [FormatKey] = CheckpointFormat };
        foreach (var (key, value) in metadata ?? [])
        {
            if (key is FormatKey or EpochKey or StepKey or EpochStepKey or EpochScheduleKey or StepScheduleKey)
                throw new ArgumentException($"Trainer.ToCheckpoint: the metadata key '{key}' is written by the trainer; use another name");
            meta[key] = value;
        }
        meta[EpochKey] = CompletedEpochs.ToString(CultureInfo.InvariantCulture);
        meta[StepKey] = GlobalStep.ToString(CultureInfo.InvariantCulture);
        if (EpochStep > 0) meta[EpochStepKey] = EpochStep.ToString(CultureInfo.InvariantCulture);
        if (EpochScheduler is not null) meta[EpochScheduleKey] = EpochScheduler.StepCount.ToString(CultureInfo.InvariantCulture);
        if (StepScheduler is not null) meta[StepScheduleKey] = StepScheduler.StepCount.ToString(CultureInfo.InvariantCulture);
        return new Checkpoint(tensors, meta);
    }

    /// <summary>Writes <see cref="ToCheckpoint"/> to <paramref name="path"/> crash-safely (see <see cref="Checkpoint.Save"/>).</summary>
    /// <exception cref="IOException">The file could not be written; a previous file at the path is untouched.</exception>
    public void SaveCheckpoint(string path, IEnumerable<KeyValuePair<string, string>>? metadata = null) => ToCheckpoint(metadata).Save(path);

    /// <summary>Reads a checkpoint file and restores it (see <see cref="LoadCheckpoint(Checkpoint)"/>); a refused file changes nothing.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is damaged, or the trainer's own entries are missing or ill-formed.</exception>
    /// <exception cref="ArgumentException">The model or optimizer state is incomplete, ill-typed or does not fit.</exception>
    public void LoadCheckpoint(string path) => LoadCheckpoint(Checkpoint.Load(path));

    /// <summary>
    /// Restores the model, the optimizer, the generator, the epoch and step counters, the schedules'
    /// positions and a carried state from a checkpoint written by <see cref="ToCheckpoint"/> (checkpoints
    /// without "step" or schedule positions, from earlier versions, count full epochs). Every entry is
    /// checked before any state changes, so a refused checkpoint leaves the trainer, its model, optimizer,
    /// schedules and generator exactly as they were.
    /// </summary>
    /// <remarks>
    /// The exception type follows who owns the refused entry. The trainer's own entries give
    /// <see cref="InvalidDataException"/>: "format" must be <see cref="CheckpointFormat"/>; "epoch" a whole
    /// number in [0, 2^31); "epoch_step" (optional) a whole number below <see cref="StepsPerEpoch"/>; "step"
    /// a whole number no larger than epoch × <see cref="StepsPerEpoch"/> + epoch_step; the schedules' positions whole numbers within the
    /// schedule's <see cref="LearningRateScheduler.MaxStepCount"/>; "rng" an int64 tensor of 6 words that
    /// <see cref="Generator.StateProblem"/> accepts (required when the trainer has a <see cref="Generator"/>);
    /// "carried.0", "carried.1", … only for an <see cref="IStatefulModel"/> (which checks them in its
    /// <see cref="IStatefulModel.LoadState"/>: an <see cref="ArgumentException"/>); no other tensor outside
    /// "model." and "optimizer.". The "model." entries give an
    /// <see cref="ArgumentException"/> wrapping the one of <see cref="Module.LoadStateDict"/> and the
    /// "optimizer." entries one wrapping that of <see cref="Optimizer.LoadStateDict"/> (names in these
    /// messages are without the prefix). Metadata the trainer does not own is not checked.
    /// </remarks>
    /// <exception cref="InvalidDataException">A trainer-owned entry is missing, ill-formed or inconsistent; the message names it.</exception>
    /// <exception cref="ArgumentException">The model or optimizer state is incomplete, ill-typed or does not fit; the message names the entries.</exception>
    public void LoadCheckpoint(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        IReadOnlyDictionary<string, string> meta = checkpoint.Metadata;

        // 1. Check everything and build the new state aside.
        string? format = meta.GetValueOrDefault(FormatKey);
        if (format != CheckpointFormat)
            throw Invalid($"not a training checkpoint: metadata '{FormatKey}' is {Quote(format)}, expected '{CheckpointFormat}'");
        if (!meta.ContainsKey(EpochKey))
            throw Invalid($"metadata '{EpochKey}' is missing (the number of completed epochs)");
        int epoch = (int)Count(meta, EpochKey, fallback: 0, max: int.MaxValue, "");
        int epochStep = (int)Count(meta, EpochStepKey, fallback: 0, max: Math.Max(0, StepsPerEpoch - 1),
            $" (the steps taken in the epoch in progress, fewer than this trainer's {StepsPerEpoch} steps per epoch)");
        long maxStep = (long)epoch * StepsPerEpoch + epochStep;
        long step = Count(meta, StepKey, fallback: maxStep, maxStep,
            $" (at most epoch {epoch} × {StepsPerEpoch} steps per epoch + {epochStep} steps into the next, with this trainer's data)");
        int epochSchedule = SchedulePosition(meta, EpochScheduleKey, EpochScheduler, fallback: epoch);
        int stepSchedule = SchedulePosition(meta, StepScheduleKey, StepScheduler, fallback: Math.Min(step, int.MaxValue));

        var modelEntries = new List<KeyValuePair<string, Tensor>>();
        var optimizerEntries = new List<KeyValuePair<string, Tensor>>();
        Tensor? rng = null;
        var carried = new SortedDictionary<int, Tensor>();
        var stateful = Model as IStatefulModel;
        foreach (var (name, t) in checkpoint.Tensors)
        {
            if (name is null || t is null)
                throw Invalid($"a null tensor entry ('{name}')");
            if (name.StartsWith("model.", StringComparison.Ordinal)) modelEntries.Add(new(name["model.".Length..], t));
            else if (name.StartsWith("optimizer.", StringComparison.Ordinal)) optimizerEntries.Add(new(name["optimizer.".Length..], t));
            else if (name == "rng")
                rng = rng is null ? t : throw Invalid("the tensor 'rng' appears more than once");
            else if (stateful is not null && name.StartsWith(CarriedPrefix, StringComparison.Ordinal)
                     && int.TryParse(name.AsSpan(CarriedPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                if (!carried.TryAdd(index, t)) throw Invalid($"the tensor {Quote(name)} appears more than once");
            }
            else
                throw Invalid($"unexpected tensor {Quote(name)} (a training checkpoint holds 'model.*', 'optimizer.*' and 'rng')");
        }
        ulong[]? rngState = rng is null ? null : GeneratorState(rng);
        if (Generator is not null && rngState is null)
            throw Invalid("the checkpoint has no generator state ('rng'), but this trainer has a Generator to restore");
        List<(Tensor Target, Tensor Source)> modelState;
        Optimizer.PreparedState optimizerState;
        try
        {
            modelState = Model.PrepareState(modelEntries);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Trainer.LoadCheckpoint: the 'model.' entries: {e.Message}", e);
        }
        try
        {
            optimizerState = Optimizer.PrepareState(optimizerEntries);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Trainer.LoadCheckpoint: the 'optimizer.' entries: {e.Message}", e);
        }
        var carriedState = new List<Tensor>(carried.Count);
        foreach (var (index, t) in carried)
        {
            if (index != carriedState.Count)
                throw Invalid($"the carried state has no tensor '{CarriedPrefix}{carriedState.Count}' before '{CarriedPrefix}{index}'");
            carriedState.Add(t);
        }
        if (stateful is not null)
        {
            // The last check, and atomic itself: if it refuses, nothing has changed yet.
            try
            {
                stateful.LoadState(epochStep > 0 ? carriedState : []);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Trainer.LoadCheckpoint: the '{CarriedPrefix}' entries (the carried state): {e.Message}", e);
            }
        }

        // 2. Commit: nothing below can fail.
        Module.CommitState(modelState);
        Optimizer.CommitState(optimizerState);
        if (Generator is not null) Generator.SetState(rngState!);
        CompletedEpochs = epoch;
        EpochStep = epochStep;
        GlobalStep = step;
        EpochScheduler?.SetStepCount(epochSchedule);
        StepScheduler?.SetStepCount(stepSchedule);
    }

    private static InvalidDataException Invalid(string message) => new($"Trainer.LoadCheckpoint: {message}");

    /// <summary>A metadata value or name for a message: quoted and cut short (a hostile file may hold anything), or "missing".</summary>
    private static string Quote(string? text) => text is null ? "missing" : text.Length <= 40 ? $"'{text}'" : $"'{text[..40]}…' ({text.Length} characters)";

    /// <summary>The count under <paramref name="key"/>, or <paramref name="fallback"/> when absent: digits only, at most <paramref name="max"/>.</summary>
    private static long Count(IReadOnlyDictionary<string, string> meta, string key, long fallback, long max, string why)
    {
        if (!meta.TryGetValue(key, out string? text)) return fallback;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > max)
            throw Invalid($"metadata '{key}' = {Quote(text)}, expected a whole number in [0, {max.ToString(CultureInfo.InvariantCulture)}]{why}");
        return value;
    }

    /// <summary>A schedule's position: checked as a count whether or not this trainer has the schedule, and against the schedule's range when it has.</summary>
    private static int SchedulePosition(IReadOnlyDictionary<string, string> meta, string key, LearningRateScheduler? scheduler, long fallback)
    {
        int max = scheduler?.MaxStepCount ?? int.MaxValue;
        string why = scheduler?.MaxStepCount is int m ? $" ({scheduler.GetType().Name} is defined for {m} steps)" : "";
        long position = Count(meta, key, fallback, max, why);
        if (position > max)
            throw Invalid($"metadata '{key}' is absent, and its default {position} is beyond the {scheduler!.GetType().Name}'s {max} steps");
        return (int)position;
    }

    /// <summary>The generator words in the tensor "rng", checked.</summary>
    private static ulong[] GeneratorState(Tensor rng)
    {
        if (rng.DType != DType.Int64 || rng.Rank != 1 || rng.Numel != 6)
            throw Invalid($"the tensor 'rng' is {rng.DType.Name()} {rng.Shape}, expected {DType.Int64.Name()} [6] (the generator's state words)");
        long[] words = rng.ToArray<long>();
        var state = new ulong[words.Length];
        for (int i = 0; i < words.Length; i++) state[i] = unchecked((ulong)words[i]);
        if (Generator.StateProblem(state) is string problem)
            throw Invalid($"the tensor 'rng' is not a generator state: {problem}");
        return state;
    }

    private LearningRateScheduler? CheckScheduler(LearningRateScheduler? scheduler, LearningRateScheduler? other)
    {
        if (scheduler is null) return null;
        if (!ReferenceEquals(scheduler.Optimizer, Optimizer))
            throw new ArgumentException($"Trainer: the {scheduler.GetType().Name} schedules another optimizer than the trainer's {Optimizer.GetType().Name}");
        // A scheduler sets the rate from the group's initial rate in closed form, so a second one would
        // overwrite the first instead of composing with it.
        if (other is not null)
            throw new ArgumentException($"Trainer: set EpochScheduler or StepScheduler, not both: each sets the learning rate in closed form from the initial rate, so the later would overwrite the earlier ({other.GetType().Name}, {scheduler.GetType().Name}); for a per-epoch shape under per-step stepping, use a per-step schedule over all steps");
        return scheduler;
    }
}
