using System.Globalization;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Cli.Recipes;

/// <summary>
/// The hyper-parameters that define a text model's shape, as recorded in its checkpoints ("model",
/// "context", "width", "heads", "layers", "dropout", "embedding"), so that <c>backprop sample</c> can
/// rebuild the model from the checkpoint alone.
/// </summary>
/// <param name="Kind">"gpt" or "lstm".</param>
/// <param name="Context">gpt: the most positions it attends over (learned position embeddings); lstm: the truncated-BPTT length of training.</param>
/// <param name="Width">gpt: the residual stream width d_model; lstm: the hidden size.</param>
/// <param name="Heads">gpt: attention heads (width must be divisible by it); lstm: unused (1).</param>
/// <param name="Layers">Transformer blocks, or stacked LSTM layers.</param>
/// <param name="Dropout">Dropout while training (gpt: embeddings and both residual branches; lstm: between layers and before the head).</param>
/// <param name="Embedding">lstm: the byte embedding size; gpt: unused (the width).</param>
internal sealed record TextModelConfig(string Kind, int Context, int Width, int Heads, int Layers, double Dropout, int Embedding)
{
    /// <summary>The text model names.</summary>
    public static readonly string[] Kinds = ["gpt", "lstm"];

    /// <summary>Builds the model this configuration describes.</summary>
    /// <exception cref="ArgumentException">The sizes do not fit (e.g. width not divisible by heads).</exception>
    public Module Create(Generator? generator) => Kind switch
    {
        "gpt" => new CharGpt(this, generator),
        "lstm" => new CharLstm(this, generator),
        _ => throw new ArgumentException($"text model: unknown kind '{Kind}' (gpt or lstm)"),
    };

    /// <summary>The checkpoint metadata entries of this configuration.</summary>
    public Dictionary<string, string> ToMetadata() => new()
    {
        ["model"] = Kind,
        ["context"] = Context.ToString(CultureInfo.InvariantCulture),
        ["width"] = Width.ToString(CultureInfo.InvariantCulture),
        ["heads"] = Heads.ToString(CultureInfo.InvariantCulture),
        ["layers"] = Layers.ToString(CultureInfo.InvariantCulture),
        ["dropout"] = Dropout.ToString("R", CultureInfo.InvariantCulture),
        ["embedding"] = Embedding.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Reads a configuration from checkpoint metadata written by <see cref="ToMetadata"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint is not a text model's (no "model" gpt/lstm), or an entry is missing or out of range; the message names <paramref name="path"/>.</exception>
    public static TextModelConfig FromMetadata(IReadOnlyDictionary<string, string> meta, string path)
    {
        string? kind = meta.GetValueOrDefault("model");
        if (kind is not ("gpt" or "lstm"))
            throw new InvalidDataException(kind is null
                ? $"{path} is not a text model's checkpoint (it records no model); `sample` needs a checkpoint of `train --model gpt` or `--model lstm`"
                : $"{path} holds a '{(kind.Length > 20 ? kind[..20] + "…" : kind)}' model, not a text model; `sample` needs a checkpoint of `train --model gpt` or `--model lstm`");
        int Int(string key, int max)
        {
            if (!meta.TryGetValue(key, out string? text) || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1 || v > max)
                throw new InvalidDataException($"{path}: the {kind} checkpoint's '{key}' is {(text is null ? "missing" : $"'{text}'")}, expected a whole number from 1 to {max}");
            return v;
        }
        double dropout = meta.TryGetValue("dropout", out string? d) && double.TryParse(d, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && p >= 0 && p < 1
            ? p : throw new InvalidDataException($"{path}: the {kind} checkpoint's 'dropout' is {(d is null ? "missing" : $"'{d}'")}, expected a number in [0, 1)");
        var config = new TextModelConfig(kind, Int("context", 1 << 16), Int("width", 1 << 14), Int("heads", 1 << 10), Int("layers", 256), dropout, Int("embedding", 1 << 14));
        if (kind == "gpt" && config.Width % config.Heads != 0)
            throw new InvalidDataException($"{path}: the gpt checkpoint's width {config.Width} is not divisible by its {config.Heads} heads");
        return config;
    }

    /// <summary>One line for the console: "gpt: context 128, width 192, 4 heads, 4 layers, dropout 0".</summary>
    public override string ToString() => Kind == "gpt"
        ? string.Create(CultureInfo.InvariantCulture, $"gpt: context {Context}, width {Width}, {Heads} heads, {Layers} layers, dropout {Dropout}")
        : string.Create(CultureInfo.InvariantCulture, $"lstm: embedding {Embedding}, hidden {Width}, {Layers} layer{(Layers == 1 ? "" : "s")}, BPTT length {Context}, dropout {Dropout}");
}
