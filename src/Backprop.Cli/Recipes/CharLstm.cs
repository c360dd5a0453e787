using Backprop.Data;
using Backprop.IO.Onnx;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using Backprop.Training;

namespace Backprop.Cli.Recipes;

/// <summary>
/// A character LSTM over bytes: embedding → <see cref="Lstm"/> (batch first, dropout between layers) →
/// dropout → linear head to 256 logits. Input int64 byte values [batch, T], output logits [batch, T, 256].
/// It carries its (h, c) state from one forward to the next (<see cref="IStatefulModel"/>): trained on
/// <see cref="TextStreams"/> with truncated backpropagation through time, and sampled one byte at a time.
/// Parameter names: <c>embed.weight</c>, <c>lstm.weight_ih_l{k}</c>, …, <c>head.weight</c>, <c>head.bias</c>.
/// </summary>
internal sealed class CharLstm : Module, IStatefulModel, IOnnxExportable
{
    private readonly Generator? _generator;
    private Tensor? _h, _c;               // the carried state, [layers, batch, hidden] (null: zeros)
    private (Tensor H, Tensor C)? _last;  // where the last forward ended, with its graph

    public CharLstm(TextModelConfig config, Generator? generator)
    {
        Config = config;
        _generator = generator;
        Embed = RegisterModule("embed", new Embedding(TextCorpus.VocabularySize, config.Embedding, generator: generator));
        Lstm = RegisterModule("lstm", new Lstm(config.Embedding, config.Width, config.Layers, batchFirst: true, dropout: config.Dropout, generator: generator));
        Head = RegisterModule("head", new Linear(config.Width, TextCorpus.VocabularySize, generator: generator));
    }

    public TextModelConfig Config { get; }

    public Embedding Embed { get; }

    public Lstm Lstm { get; }

    public Linear Head { get; }

    /// <summary>Logits [batch, T, 256] for byte values [batch, T], starting from the carried state.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 2 || input.DType != DType.Int64)
            throw new ArgumentException($"lstm: expected int64 byte values [batch, T], got {input.DType.Name()} {input.Shape}");
        if (_h is not null && _h.Shape[1] != input.Shape[0])
            throw new ArgumentException($"lstm: the carried state is for a batch of {_h.Shape[1]}, the input {input.Shape} has {input.Shape[0]} rows; ResetState() first");
        (Tensor H, Tensor C)? state = _h is null ? null : (_h, _c!);
        ModuleCall lstm = Lstm.BeginCall(Embed.Call(input));
        var (output, last) = Lstm.Forward(lstm.Input, state);
        _last = last;
        return Head.Call(Functional.Dropout(lstm.End(output), Config.Dropout, Training, _generator));
    }

    /// <summary>
    /// The ONNX graph of <see cref="Forward"/> from zero states (as after <see cref="ResetState"/>; the graph carries no state
    /// between runs): embedding, the LSTM op per layer, the head; dropout removed.
    /// </summary>
    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
        => context.Module("head", Head, context.Module("lstm", Lstm, context.Module("embed", Embed, input)));

    /// <inheritdoc/>
    public void ResetState() => (_h, _c, _last) = (null, null, null);

    /// <inheritdoc/>
    public void DetachState()
    {
        if (_last is not var (h, c)) return;
        _h = StateBuffer.Carry(_h, h);
        _c = StateBuffer.Carry(_c, c);
        _last = null;
    }

    /// <inheritdoc/>
    public IReadOnlyList<Tensor> State => _h is null ? [] : [_h, _c!];

    /// <inheritdoc/>
    public void LoadState(IReadOnlyList<Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Count == 0)
        {
            ResetState();
            return;
        }
        if (state.Count != 2)
            throw new ArgumentException($"lstm: the carried state is h and c, got {state.Count} tensors");
        Tensor h = state[0], c = state[1];
        if (h.Rank != 3 || h.Shape[0] != Config.Layers || h.Shape[2] != Config.Width || c.Shape != h.Shape || h.DType != DType.Float32 || c.DType != DType.Float32)
            throw new ArgumentException($"lstm: the carried h {h.DType.Name()} {h.Shape} and c {c.DType.Name()} {c.Shape} should both be float32 [{Config.Layers}, batch, {Config.Width}]");
        _h = StateBuffer.Carry(null, h);
        _c = StateBuffer.Carry(null, c);
        _last = null;
    }
}
