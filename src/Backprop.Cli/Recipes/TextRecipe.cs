using System.Globalization;
using Backprop.Data;
using Backprop.IO;
using Backprop.NN;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Training;
using Backprop.Cli.Reporting;

namespace Backprop.Cli.Recipes;

/// <summary>
/// The text recipe behind <c>backprop train --model gpt|lstm</c>: a byte-level <see cref="TextCorpus"/>
/// (the last 10% of every file held out), a <see cref="CharGpt"/> trained on random windows or a
/// <see cref="CharLstm"/> trained on parallel streams with truncated BPTT, cross-entropy in nats per
/// character, AdamW with warm-up and a smooth per-epoch decay, gradient clipping at norm 1, and the
/// validation loss after every epoch. Checkpoints record the model's shape (so <c>sample</c> can rebuild
/// it) and the run's settings (a resume with other settings is refused).
/// </summary>
internal sealed class TextRecipe : ITrainingRecipe
{
    /// <summary>Names accepted for <see cref="TextOptions.Optimizer"/>.</summary>
    public static readonly string[] OptimizerNames = ["adamw", "adam", "sgd"];

    private const int EvaluationBatch = 64;

    private readonly TextCorpus _corpus;
    private readonly int _tokensPerRow;
    private double _smoothed = double.NaN;

    /// <summary>Loads the text (unless given), builds the model, the batches, the optimizer and the trainer, and restores <paramref name="resumeFrom"/> if given.</summary>
    /// <exception cref="IOException">The text is missing or cannot be read (FileNotFoundException: the message says how to get it).</exception>
    /// <exception cref="InvalidDataException">The text is empty or binary, or the checkpoint is damaged.</exception>
    /// <exception cref="ArgumentException">Bad options, text too short for one batch, or a checkpoint of another model or other settings.</exception>
    public TextRecipe(TextOptions options, string? resumeFrom = null, TextCorpus? corpus = null)
    {
        if (!TextModelConfig.Kinds.Contains(options.Model))
            throw new ArgumentException($"train: '{options.Model}' is not a text model (gpt or lstm)");
        if (!OptimizerNames.Contains(options.Optimizer))
            throw new ArgumentException($"train: unknown optimizer '{options.Optimizer}' (use adamw, adam or sgd)");
        if (options.Model == "gpt" && options.Width % options.Heads != 0)
            throw new ArgumentException($"train: --width {options.Width} must be divisible by --heads {options.Heads} (each head gets width / heads features)");
        Options = options;
        _corpus = corpus ?? TextCorpus.Load(options.Text);
        var rng = new Generator(options.Seed);
        Config = options.Config;
        _tokensPerRow = options.Context;

        IBatchSource training;
        IEnumerable<(Tensor, Tensor)> validation;
        try
        {
            if (options.Model == "gpt")
            {
                training = TextWindows.Random(_corpus.Training, options.Context, options.BatchSize, options.Seed, options.StepsPerEpoch);
                validation = TextWindows.Tiled(_corpus.Validation, options.Context, EvaluationBatch).Epoch(0);
            }
            else
            {
                training = new TextStreams(_corpus.Training, options.BatchSize, options.Context, options.Seed, options.StepsPerEpoch);
                validation = new TextStreams(_corpus.Validation, Math.Min(options.BatchSize, EvaluationBatch), options.Context).Epoch(0);
            }
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(
                $"train: the text in {_corpus.Path} ({_corpus.Training.Length:N0} training and {_corpus.Validation.Length:N0} validation bytes) does not fit the batches: " +
                $"{Reason(e)}; use more text, or a smaller --batch-size, --context or --steps-per-epoch", e);
        }

        // Everything random in the run (initialisation, dropout) draws from the run's own generator, saved in every checkpoint.
        Model = Config.Create(rng);
        if (Model is CharGpt gpt) gpt.CheckpointBlocks = options.CheckpointBlocks;
        Optimizer optimizer = options.Optimizer switch
        {
            "sgd" => new Sgd(Model.Parameters(), new SgdOptions(LearningRate: options.LearningRate, Momentum: 0.9)),
            "adam" => new Adam(Model.Parameters(), new AdamOptions(LearningRate: options.LearningRate, Beta2: 0.99)),
            _ => new AdamW(Model.Parameters(), new AdamOptions(LearningRate: options.LearningRate, Beta2: 0.99, WeightDecay: 0.01)),
        };
        Trainer = new Trainer(Model, optimizer, Loss, training)
        {
            EvaluationData = validation,
            StepScheduler = new WarmupDecayLR(optimizer, options.Warmup, options.LearningRateDecay, training.BatchCount),
            MaxGradNorm = 1.0,
            TrainingMetrics = [new MeanLoss()],
            EvaluationMetrics = [new MeanLoss()],
            Generator = rng,
        };
        if (resumeFrom is not null) Resume(resumeFrom);
    }

    /// <summary>A batch source's refusal without its type name and parameter suffix.</summary>
    private static string Reason(ArgumentException e)
    {
        string message = e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;
        return message.Replace("TextWindows: ", "", StringComparison.Ordinal).Replace("TextStreams: ", "", StringComparison.Ordinal);
    }

    /// <summary>The options of this run.</summary>
    public TextOptions Options { get; }

    /// <summary>The model's shape.</summary>
    public TextModelConfig Config { get; }

    /// <summary>The network (a <see cref="CharGpt"/> or a <see cref="CharLstm"/>).</summary>
    public Module Model { get; }

    /// <inheritdoc/>
    public Trainer Trainer { get; }

    /// <summary>The text.</summary>
    public TextCorpus Corpus => _corpus;

    /// <inheritdoc/>
    public string Name => Options.Model;

    /// <inheritdoc/>
    public long ParameterCount => Model.ParameterCount();

    /// <summary>Mean cross-entropy per predicted byte, in nats: logits [B, T, 256] against targets [B, T].</summary>
    public static Tensor Loss(Tensor logits, Tensor targets)
        => Functional.CrossEntropy(logits.Reshape(-1, TextCorpus.VocabularySize), targets.Reshape(-1));

    /// <inheritdoc/>
    public string Describe(int threads)
    {
        string skipped = _corpus.Skipped.Count == 0 ? "" : $", {_corpus.Skipped.Count} skipped";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Config} on {_corpus.Path} ({_corpus.Files.Count} file{(_corpus.Files.Count == 1 ? "" : "s")}{skipped}; {_corpus.Training.Length:N0} training and {_corpus.Validation.Length:N0} validation bytes), " +
            $"{Options.Optimizer} lr {Options.LearningRate} (warm-up {Options.Warmup}, ×{Options.LearningRateDecay}/epoch), batch {Options.BatchSize}, " +
            $"{Trainer.StepsPerEpoch} steps per epoch, {threads} thread(s), seed {Options.Seed}{(Options.CheckpointBlocks ? ", every block checkpointed" : "")}");
    }

    /// <inheritdoc/>
    public MetricsLine RunEpoch()
    {
        _smoothed = double.NaN;
        EpochResult r = Trainer.TrainEpoch();
        double tokensPerSec = r.Examples * (double)_tokensPerRow / r.TrainSeconds;
        return new MetricsLine(r.Epoch, r.Complete ? 0 : r.EpochStep,
        [
            new("step", Trainer.GlobalStep),
            new("train_loss", r.Training["loss"]),
            new("val_loss", r.Evaluation!["loss"]),
            new("tokens_per_sec", Math.Round(tokensPerSec, 1)),
            new("seconds", Math.Round(r.Seconds, 3)),
        ]);
    }

    /// <inheritdoc/>
    public string Progress(StepProgress p)
    {
        _smoothed = double.IsNaN(_smoothed) ? p.Loss : 0.95 * _smoothed + 0.05 * p.Loss;
        double tokensPerSec = p.Examples * (double)_tokensPerRow / p.Elapsed.TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture, $"loss {_smoothed:F3} nats/char  {tokensPerSec:N0} tokens/s");
    }

    /// <inheritdoc/>
    public string Summary(MetricsLine m, int epochs)
    {
        string where = m.Partial ? $"epoch {m.Epoch}/{epochs} (stopped at step {m.EpochStep})" : $"epoch {m.Epoch}/{epochs}";
        return string.Create(CultureInfo.InvariantCulture,
            $"{where}: train loss {m["train_loss"]:F4} | val loss {m["val_loss"]:F4} nats/char | step {m["step"]:F0}, {m["tokens_per_sec"]:N0} tokens/s, {m["seconds"]:F1} s");
    }

    /// <inheritdoc/>
    public void SavePlot(IReadOnlyList<MetricsLine> lines, IReadOnlyList<StepLoss> steps, string path)
        => CurvesPlot.SaveLossOnly(path, Name, "nats per character", lines, steps, Trainer.StepsPerEpoch, "val_loss", "validation");

    /// <inheritdoc/>
    public void SaveCheckpoint(string path)
    {
        var meta = Config.ToMetadata();
        foreach (var (key, value) in Options.RunMetadata()) meta[key] = value;
        meta["text"] = _corpus.Path;
        meta["text_bytes"] = _corpus.TotalBytes.ToString(CultureInfo.InvariantCulture);
        meta["steps_per_epoch"] = Trainer.StepsPerEpoch.ToString(CultureInfo.InvariantCulture);
        Trainer.SaveCheckpoint(path, meta);
    }

    private void Resume(string path)
    {
        Checkpoint c = ResumeCheck.LoadTraining(path);
        TextModelConfig saved;
        try
        {
            saved = TextModelConfig.FromMetadata(c.Metadata, path);
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException($"resume: {e.Message}", e);
        }
        if (saved != Config)
            throw new ArgumentException($"resume: {path} holds a {saved}, but this run builds a {Config}; use the same model flags to resume");
        void Expect(string key, string actual)
        {
            if (c.Metadata.TryGetValue(key, out string? value) && value != actual)
                throw new ArgumentException($"resume: {path} was trained with {key} = {value}, but this run uses {key} = {actual}; use the same settings to resume exactly");
        }
        foreach (var (key, value) in Options.RunMetadata())
            if (key != "epochs") Expect(key, value);
        Expect("text_bytes", _corpus.TotalBytes.ToString(CultureInfo.InvariantCulture));
        Expect("steps_per_epoch", Trainer.StepsPerEpoch.ToString(CultureInfo.InvariantCulture));
        Trainer.LoadCheckpoint(c);
    }
}
