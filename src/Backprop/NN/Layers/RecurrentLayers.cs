using Backprop.Kernels.Recurrent;
using Backprop.Ops.Recurrent;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// A multi-layer, optionally bidirectional recurrent net over whole sequences, as torch.nn.RNN/LSTM/GRU:
/// parameters <c>weight_ih_l{k}</c>, <c>weight_hh_l{k}</c>, <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c> (and
/// <c>_reverse</c>) in PyTorch's order and layout; input [seq, batch, input] (or [batch, seq, input] with
/// <c>batchFirst</c>, or unbatched [seq, input]); output [seq, batch, directions·hidden]; final states
/// [layers·directions, batch, hidden]; dropout between layers while training; variable-length batches
/// (PyTorch's packed-sequence semantics, see <see cref="Rnn.Forward(Tensor, Tensor?, long[])"/>). Each
/// (layer, direction) runs as one fused op by default (<see cref="Fused"/>, <see cref="RecurrenceNode"/>):
/// the input projection of every step is one GEMM, each step one small product with the recurrent weights
/// packed once per sequence plus the gate math in one SIMD kernel, and the backward computes each weight
/// gradient as one product over all steps. The output keeps the input's sequence length (padded steps are
/// zero), as pad_packed_sequence with total_length = seq.
/// </summary>
public abstract class RecurrentLayer : Module
{
    private readonly int _gates;
    private readonly Parameter[] _ih, _hh;
    private readonly Parameter?[] _bih, _bhh;

    private protected RecurrentLayer(int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst, double dropout,
                                     bool bidirectional, int gates, Generator? generator, DType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentException($"{GetType().Name}: dropout must be in [0, 1], got {dropout}");
        (InputSize, HiddenSize, NumLayers, BatchFirst, Dropout, Bidirectional, _gates, Generator) =
            (inputSize, hiddenSize, numLayers, batchFirst, dropout, bidirectional, gates, generator);
        int directions = Directions, count = numLayers * directions;
        (_ih, _hh, _bih, _bhh) = (new Parameter[count], new Parameter[count], new Parameter?[count], new Parameter?[count]);
        double bound = 1 / Math.Sqrt(hiddenSize);
        for (int layer = 0; layer < numLayers; layer++)
            for (int d = 0; d < directions; d++)
            {
                int at = layer * directions + d, layerInput = layer == 0 ? inputSize : hiddenSize * directions;
                string suffix = $"_l{layer}{(d == 1 ? "_reverse" : "")}";
                _ih[at] = RegisterParameter("weight_ih" + suffix, Init.Uniform([gates * hiddenSize, layerInput], -bound, bound, generator, dtype));
                _hh[at] = RegisterParameter("weight_hh" + suffix, Init.Uniform([gates * hiddenSize, hiddenSize], -bound, bound, generator, dtype));
                if (!bias) continue;
                _bih[at] = RegisterParameter("bias_ih" + suffix, Init.Uniform([gates * hiddenSize], -bound, bound, generator, dtype));
                _bhh[at] = RegisterParameter("bias_hh" + suffix, Init.Uniform([gates * hiddenSize], -bound, bound, generator, dtype));
            }
    }

    /// <summary>Features of each input step.</summary>
    public int InputSize { get; }

    /// <summary>Features of each hidden state.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked layers.</summary>
    public int NumLayers { get; }

    /// <summary>Whether inputs and outputs are [batch, seq, features].</summary>
    public bool BatchFirst { get; }

    /// <summary>Dropout probability on the outputs of every layer but the last, while training.</summary>
    public double Dropout { get; }

    /// <summary>Whether each layer also runs the sequence backwards.</summary>
    public bool Bidirectional { get; }

    /// <summary>1, or 2 when bidirectional.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Random numbers for the dropout between layers (null: a fresh seed).</summary>
    public Generator? Generator { get; }

    /// <summary>
    /// Whether each (layer, direction) runs as one fused op (the default): the time loop with its gate
    /// math in SIMD kernels and a backward that computes each weight gradient as one product over all
    /// steps. False runs the same computation step by step as a chain of differentiable ops, which
    /// records every intermediate tensor (slower; the values agree to rounding).
    /// </summary>
    public bool Fused { get; set; } = true;

    private protected abstract RecurrentCellKind Kind { get; }

    /// <summary>
    /// Runs the sequence; <paramref name="h0"/> and <paramref name="c0"/> default to zeros (c0 only for an LSTM);
    /// <paramref name="lengths"/> (null: every sequence is full) makes a variable-length batch.
    /// </summary>
    private protected (Tensor Output, Tensor H, Tensor? C) Run(Tensor input, Tensor? h0, Tensor? c0, long[]? lengths)
    {
        string op = GetType().Name;
        bool lstm = Kind == RecurrentCellKind.Lstm;
        bool unbatched = input.Rank == 2;
        if (input.Rank is not (2 or 3) || input.Shape[input.Rank - 1] != InputSize)
            throw new ArgumentException($"{op}: expected an input of shape {(BatchFirst ? "[batch, seq, " : "[seq, batch, ")}{InputSize}] or [seq, {InputSize}], got {input.Shape}");
        // The layout stays as given: [seq, batch, in], or [batch, seq, in] when batch first (an unbatched input is [seq, in]).
        bool batchFirst = BatchFirst && !unbatched;
        Tensor x = unbatched ? input.Unsqueeze(1) : input;
        int steps = x.Shape[batchFirst ? 1 : 0], batch = x.Shape[batchFirst ? 0 : 1], states = NumLayers * Directions;
        if (steps == 0)
            throw new ArgumentException($"{op}: the input {input.Shape} has no steps; expected a sequence length of at least 1");
        Tensor? h = State(h0, "h0", unbatched, states, batch, input);
        Tensor? c = lstm ? State(c0, "c0", unbatched, states, batch, input) : null;
        int[]? valid = Lengths(lengths, input, unbatched, steps, batch);
        var hn = new Tensor[states];
        var cn = new Tensor[states];
        for (int layer = 0; layer < NumLayers; layer++)
        {
            var outputs = new Tensor[Directions];
            for (int d = 0; d < Directions; d++)
            {
                int at = layer * Directions + d;
                Tensor? hs = h?.Select(0, at), cs = c?.Select(0, at);
                if (Fused)
                {
                    // One node per (layer, direction): the outputs, then h_n (then c_n), in one flat tensor.
                    Tensor y = RecurrenceNode.Forward(Kind, x, hs, cs, _ih[at], _hh[at], _bih[at], _bhh[at], valid, batchFirst, reverse: d == 1);
                    int n = steps * batch * HiddenSize, m = batch * HiddenSize;
                    outputs[d] = y.Narrow(0, 0, n).Reshape(batchFirst ? [batch, steps, HiddenSize] : [steps, batch, HiddenSize]);
                    hn[at] = y.Narrow(0, n, m).Reshape(batch, HiddenSize);
                    if (lstm) cn[at] = y.Narrow(0, n + m, m).Reshape(batch, HiddenSize);
                }
                else
                {
                    var (o, hd, cd) = RecurrenceComposite.Forward(Kind, x, hs, cs, _ih[at], _hh[at], _bih[at], _bhh[at], valid, batchFirst, reverse: d == 1);
                    (outputs[d], hn[at]) = (o, hd);
                    if (lstm) cn[at] = cd!;
                }
            }
            x = Directions == 1 ? outputs[0] : Tensor.Cat(outputs, 2);             // [.., directions·hidden]
            if (layer < NumLayers - 1 && Dropout > 0 && Training)
                x = Functional.Dropout(x, Dropout, training: true, Generator);
        }
        Tensor output = unbatched ? x.Squeeze(1) : x;
        Tensor hOut = Tensor.Stack(hn), cOut = lstm ? Tensor.Stack(cn) : null!;
        return unbatched ? (output, hOut.Squeeze(1), lstm ? cOut.Squeeze(1) : null) : (output, hOut, lstm ? cOut : null);
    }

    /// <summary>The lengths of a tensor: Int64, [batch].</summary>
    private protected long[]? LengthsOf(Tensor? lengths)
    {
        if (lengths is null) return null;
        if (lengths.DType != DType.Int64 || lengths.Rank != 1)
            throw new ArgumentException($"{GetType().Name}: lengths must be an Int64 tensor of shape [batch], got {lengths.DType.Name()} {lengths.Shape}");
        return lengths.ToArray<long>();
    }

    private int[]? Lengths(long[]? lengths, Tensor input, bool unbatched, int steps, int batch)
    {
        if (lengths is null) return null;
        string op = GetType().Name;
        if (lengths.Length != batch)
            throw new ArgumentException($"{op}: lengths of shape [{lengths.Length}] do not fit input {input.Shape}, which holds {batch} sequence{(batch == 1 ? "" : "s")} ({(unbatched ? "unbatched [seq, input]" : BatchFirst ? "[batch, seq, input]" : "[seq, batch, input]")}); expected lengths of shape [{batch}]");
        var valid = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            if (lengths[b] < 1 || lengths[b] > steps)
                throw new ArgumentException($"{op}: length {lengths[b]} of sequence {b} is outside 1..{steps} for input {input.Shape} (sequence length {steps})");
            valid[b] = (int)lengths[b];
        }
        return valid;
    }

    private Tensor? State(Tensor? given, string name, bool unbatched, int states, int batch, Tensor input)
    {
        if (given is null) return null;
        Tensor s = unbatched && given.Rank == 2 ? given.Unsqueeze(1) : given;
        if (s.Rank != 3 || s.Shape[0] != states || s.Shape[1] != batch || s.Shape[2] != HiddenSize)
            throw new ArgumentException($"{GetType().Name}: expected {name} of shape {(unbatched ? $"[{states}, {HiddenSize}]" : $"[{states}, {batch}, {HiddenSize}]")} for input {input.Shape}, got {given.Shape}");
        if (s.DType != input.DType)
            throw new ArgumentException($"{GetType().Name}: {name} is {s.DType.Name()} but the input is {input.DType.Name()}");
        return s;
    }

    /// <inheritdoc/>
    protected override string ExtraRepr()
        => $"{GetType().Name}({InputSize} → {HiddenSize}, layers {NumLayers}{(Bidirectional ? ", bidirectional" : "")}{(BatchFirst ? ", batch first" : "")}{(Dropout > 0 ? $", dropout {Dropout}" : "")})";
}

/// <summary>An Elman RNN over sequences (torch.nn.RNN): h' = tanh or ReLU of x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh.</summary>
public sealed class Rnn : RecurrentLayer
{
    /// <summary>Creates the net; <paramref name="nonlinearity"/> is "tanh" (default) or "relu".</summary>
    public Rnn(int inputSize, int hiddenSize, int numLayers = 1, string nonlinearity = "tanh", bool bias = true, bool batchFirst = false,
               double dropout = 0, bool bidirectional = false, Generator? generator = null, DType dtype = DType.Float32)
        : base(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 1, generator, dtype)
    {
        if (nonlinearity is not ("tanh" or "relu"))
            throw new ArgumentException($"Rnn: unknown nonlinearity '{nonlinearity}' (use tanh or relu)");
        Nonlinearity = nonlinearity;
    }

    /// <summary>"tanh" or "relu".</summary>
    public string Nonlinearity { get; }

    private protected override RecurrentCellKind Kind => Nonlinearity == "relu" ? RecurrentCellKind.RnnRelu : RecurrentCellKind.RnnTanh;

    /// <summary>
    /// The output of every step and the final hidden state of every layer and direction; <paramref name="h0"/>
    /// null means zeros. With <paramref name="lengths"/> ([batch], each in 1..seq) sequence b has only its first
    /// lengths[b] steps, as a PyTorch packed sequence (pack_padded_sequence(enforce_sorted=False), then
    /// pad_packed_sequence(total_length=seq)): its outputs past them are zero, its final state is the one after
    /// its last step (the reverse direction starts there from h0), and its padding gets no gradient.
    /// </summary>
    /// <exception cref="ArgumentException">The input, h0 or lengths do not fit (the message names the shapes).</exception>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0, long[]? lengths = null)
    {
        var (output, h, _) = Run(input, h0, null, lengths);
        return (output, h);
    }

    /// <summary>As <see cref="Forward(Tensor, Tensor?, long[])"/> with the lengths in an Int64 tensor [batch].</summary>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0, Tensor lengths) => Forward(input, h0, LengthsOf(lengths));

    /// <summary>The output of every step, from zero states.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Output;
}

/// <summary>An LSTM over sequences (torch.nn.LSTM), gates i, f, g, o: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').</summary>
public sealed class Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
                         bool bidirectional = false, Generator? generator = null, DType dtype = DType.Float32)
    : RecurrentLayer(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 4, generator, dtype)
{
    private protected override RecurrentCellKind Kind => RecurrentCellKind.Lstm;

    /// <summary>
    /// The output of every step and the final (h, c) of every layer and direction; zero states when
    /// <paramref name="state"/> is null. <paramref name="lengths"/> makes a variable-length batch, as for
    /// <see cref="Rnn.Forward(Tensor, Tensor?, long[])"/> (the final c is also the one after each sequence's last step).
    /// </summary>
    /// <exception cref="ArgumentException">The input, states or lengths do not fit (the message names the shapes).</exception>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor input, (Tensor H, Tensor C)? state, long[]? lengths = null)
    {
        var (output, h, c) = Run(input, state?.H, state?.C, lengths);
        return (output, (h, c!));
    }

    /// <summary>As <see cref="Forward(Tensor, ValueTuple{Tensor, Tensor}?, long[])"/> with the lengths in an Int64 tensor [batch].</summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor input, (Tensor H, Tensor C)? state, Tensor lengths)
        => Forward(input, state, LengthsOf(lengths));

    /// <summary>The output of every step, from zero states.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Output;
}

/// <summary>
/// A GRU over sequences (torch.nn.GRU), gates r, z, n: n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
/// h' = (1 − z)·n + z·h.
/// </summary>
public sealed class Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
                        bool bidirectional = false, Generator? generator = null, DType dtype = DType.Float32)
    : RecurrentLayer(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 3, generator, dtype)
{
    private protected override RecurrentCellKind Kind => RecurrentCellKind.Gru;

    /// <summary>
    /// The output of every step and the final hidden state of every layer and direction; <paramref name="lengths"/>
    /// makes a variable-length batch, as for <see cref="Rnn.Forward(Tensor, Tensor?, long[])"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The input, h0 or lengths do not fit (the message names the shapes).</exception>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0, long[]? lengths = null)
    {
        var (output, h, _) = Run(input, h0, null, lengths);
        return (output, h);
    }

    /// <summary>As <see cref="Forward(Tensor, Tensor?, long[])"/> with the lengths in an Int64 tensor [batch].</summary>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0, Tensor lengths) => Forward(input, h0, LengthsOf(lengths));

    /// <summary>The output of every step, from zero states.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Output;
}
