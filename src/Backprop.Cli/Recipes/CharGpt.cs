using Backprop.Autograd;
using Backprop.Data;
using Backprop.IO.Onnx;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Cli.Recipes;

/// <summary>
/// A GPT over bytes: token embedding + learned position embedding, dropout, N pre-LayerNorm
/// <see cref="TransformerBlock"/>s (causal attention, GELU MLP of 4·width), a final LayerNorm and a linear
/// head to 256 logits (no bias, no weight tying). Input int64 byte values [batch, T ≤ context], output
/// logits [batch, T, 256]. Parameter names: <c>tok_emb.weight</c>, <c>pos_emb.weight</c>,
/// <c>blocks.{i}.*</c> (see <see cref="TransformerBlock"/>), <c>ln_f.*</c>, <c>head.weight</c>.
/// </summary>
/// <remarks>
/// Initialisation is GPT-2's, not PyTorch's per-module defaults (deliberately: it trains markedly faster
/// from the start, which matters for a run of a few minutes): every weight matrix and embedding
/// ~ N(0, 0.02), the two projections that write into the residual stream (<c>attn.out_proj</c>, <c>fc2</c>)
/// ~ N(0, 0.02/√(2·layers)), biases 0, LayerNorms 1 and 0.
/// </remarks>
internal sealed class CharGpt : Module, IOnnxExportable
{
    private readonly Tensor _positions;  // 0, 1, …, context − 1 (int64), sliced for every forward
    private readonly Generator? _generator;

    public CharGpt(TextModelConfig config, Generator? generator)
    {
        if (config.Width % config.Heads != 0)
            throw new ArgumentException($"gpt: the width {config.Width} must be divisible by the {config.Heads} heads");
        Config = config;
        _generator = generator;
        TokenEmbedding = RegisterModule("tok_emb", new Embedding(TextCorpus.VocabularySize, config.Width, generator: generator));
        PositionEmbedding = RegisterModule("pos_emb", new Embedding(config.Context, config.Width, generator: generator));
        var blocks = new Module[config.Layers];
        for (int i = 0; i < blocks.Length; i++)
            blocks[i] = new TransformerBlock(config.Width, config.Heads, 4 * config.Width, config.Dropout, generator: generator);
        Blocks = RegisterModule("blocks", new Sequential(blocks));
        FinalNorm = RegisterModule("ln_f", new LayerNorm(config.Width));
        Head = RegisterModule("head", new Linear(config.Width, TextCorpus.VocabularySize, bias: false, generator: generator));
        _positions = Tensor.Arange(config.Context, DType.Int64);
        _blockForward = Array.ConvertAll(blocks, b => (Func<Tensor[], Tensor>)(x => ((TransformerBlock)b).Forward(x[0])));
        InitializeLikeGpt2(generator);
    }

    private readonly Func<Tensor[], Tensor>[] _blockForward;

    /// <summary>
    /// Runs every block through <see cref="GradientCheckpoint.Run"/> while training (`train --checkpoint`): its
    /// activations are recomputed during backward instead of stored. Same values and gradients, bit for bit.
    /// </summary>
    public bool CheckpointBlocks { get; set; }

    private void InitializeLikeGpt2(Generator? generator)
    {
        double residual = 0.02 / Math.Sqrt(2.0 * Config.Layers);
        using (GradMode.Disable())
            foreach (var (name, p) in NamedParameters())
            {
                Tensor data = p.Data;
                if (name.Contains(".ln", StringComparison.Ordinal) || name.StartsWith("ln_f", StringComparison.Ordinal))
                    continue; // LayerNorms keep 1 and 0
                if (name.EndsWith("bias", StringComparison.Ordinal))
                {
                    data.ZeroInPlace();
                    continue;
                }
                double std = name.EndsWith("out_proj.weight", StringComparison.Ordinal) || name.EndsWith("fc2.weight", StringComparison.Ordinal) ? residual : 0.02;
                data.CopyFrom(Init.Normal(data.Shape, 0, std, generator));
            }
    }

    public TextModelConfig Config { get; }

    public Embedding TokenEmbedding { get; }

    public Embedding PositionEmbedding { get; }

    public Sequential Blocks { get; }

    public LayerNorm FinalNorm { get; }

    public Linear Head { get; }

    /// <summary>Logits [batch, T, 256] for byte values [batch, T], T ≤ context (training and uncached inference).</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null, 0);

    /// <summary>
    /// Logits [batch, T, 256] for the bytes at positions <paramref name="start"/>.. of a sequence; with
    /// <paramref name="caches"/> (one per block, inference only) the input holds only the new positions and
    /// attends over everything cached before them.
    /// </summary>
    /// <exception cref="ArgumentException">The positions run past the context, or the input is not [batch, T] int64.</exception>
    public Tensor Forward(Tensor tokens, KeyValueCache[]? caches, int start)
    {
        if (tokens.Rank != 2 || tokens.DType != DType.Int64)
            throw new ArgumentException($"gpt: expected int64 byte values [batch, T], got {tokens.DType.Name()} {tokens.Shape}");
        int t = tokens.Shape[1];
        if (start < 0 || start + t > Config.Context)
            throw new ArgumentException($"gpt: positions {start}..{start + t - 1} run past the context of {Config.Context}");
        if (caches is not null && caches.Length != Config.Layers)
            throw new ArgumentException($"gpt: {caches.Length} key/value caches for {Config.Layers} blocks");
        Tensor x = TokenEmbedding.Call(tokens) + PositionEmbedding.Call(_positions.Narrow(0, start, t)); // [B, T, d] + [T, d]
        x = Functional.Dropout(x, Config.Dropout, Training, _generator);
        ModuleCall blocks = Blocks.BeginCall(x); // the blocks run one by one (each with its cache), hooked as one Sequential
        x = blocks.Input;
        for (int i = 0; i < Config.Layers; i++)
        {
            var block = (TransformerBlock)Blocks[i];
            if (CheckpointBlocks && caches is null)
            {
                x = GradientCheckpoint.Run(_blockForward[i], x); // the block's activations are recomputed in backward
                continue;
            }
            ModuleCall call = block.BeginCall(x);
            x = call.End(block.Forward(call.Input, caches?[i]));
        }
        x = blocks.End(x);
        return Head.Call(FinalNorm.Call(x));
    }

    /// <summary>
    /// The ONNX graph of <see cref="Forward(Tensor)"/> (positions from 0, dropout removed): the token lookup plus the first T rows
    /// of the position table, T read from the input at run time, so the graph takes any length up to the context.
    /// </summary>
    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
    {
        OnnxValue x = context.Add(context.Module("tok_emb", TokenEmbedding, input), context.LearnedPositions("pos_emb", PositionEmbedding, input, dim: 1));
        return context.Module("head", Head, context.Module("ln_f", FinalNorm, context.Module("blocks", Blocks, x)));
    }
}
