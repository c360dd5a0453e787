using System.Globalization;
using Backprop.Data;

namespace Backprop.Cli.Recipes;

/// <summary>Settings of a text training run (`train --model gpt|lstm`), with each model's defaults.</summary>
internal sealed record TextOptions
{
    /// <summary>"gpt" or "lstm".</summary>
    public string Model { get; init; } = "gpt";

    /// <summary>A text file or a folder of them (default: Debian's fortunes).</summary>
    public string Text { get; init; } = TextCorpus.DefaultPath;

    /// <summary>gpt: tokens per window (the attention span); lstm: the truncated-BPTT length.</summary>
    public int Context { get; init; } = 128;

    /// <summary>gpt: d_model; lstm: the hidden size.</summary>
    public int Width { get; init; } = 128;

    /// <summary>gpt: attention heads.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Transformer blocks or LSTM layers.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Dropout while training.</summary>
    public double Dropout { get; init; }

    /// <summary>lstm: the byte embedding size.</summary>
    public int Embedding { get; init; } = 64;

    /// <summary>Epochs to reach.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>gpt: windows per step; lstm: parallel streams.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Peak learning rate (after warm-up).</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Learning-rate factor per epoch, applied smoothly step by step.</summary>
    public double LearningRateDecay { get; init; } = 0.7;

    /// <summary>Steps of linear learning-rate warm-up.</summary>
    public int Warmup { get; init; } = 50;

    /// <summary>"adamw" (β₂ 0.99, weight decay 0.01), "adam" (β₂ 0.99) or "sgd" (momentum 0.9).</summary>
    public string Optimizer { get; init; } = "adamw";

    /// <summary>Seed for initialisation, windows and dropout.</summary>
    public ulong Seed { get; init; }

    /// <summary>gpt: gradient checkpointing of every transformer block (activations recomputed in backward; same results, less memory, more time).</summary>
    public bool CheckpointBlocks { get; init; }

    /// <summary>Steps per epoch (evaluation, checkpoint and metrics line after each); null: one pass over the training text.</summary>
    public int? StepsPerEpoch { get; init; }

    /// <summary>The model shape these options describe.</summary>
    public TextModelConfig Config => new(Model, Context, Width, Model == "gpt" ? Heads : 1, Layers, Dropout, Model == "lstm" ? Embedding : Width);

    /// <summary>
    /// The defaults of <paramref name="model"/>: gpt context 128, width 128, 4 heads, 4 layers, batch 32, lr 0.003, warm-up 50;
    /// lstm BPTT length 128, hidden 256, 1 layer, embedding 64, batch 32, lr 0.005, warm-up 20.
    /// </summary>
    public static TextOptions Defaults(string model) => model == "lstm"
        ? new TextOptions { Model = "lstm", Context = 128, Width = 256, Heads = 1, Layers = 1, BatchSize = 32, LearningRate = 5e-3, Warmup = 20 }
        : new TextOptions { Model = "gpt" };

    /// <summary>The run settings recorded in a checkpoint, besides the model shape (a resume must match them to be exact).</summary>
    public Dictionary<string, string> RunMetadata() => new()
    {
        ["optimizer"] = Optimizer,
        ["epochs"] = Epochs.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = BatchSize.ToString(CultureInfo.InvariantCulture),
        ["lr"] = LearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["lr_decay"] = LearningRateDecay.ToString("R", CultureInfo.InvariantCulture),
        ["warmup"] = Warmup.ToString(CultureInfo.InvariantCulture),
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
    };
}
