using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// A multi-layer, optionally bidirectional recurrent net over whole sequences, as torch.nn.RNN/LSTM/GRU:
/// parameters <c>weight_ih_l{k}</c>, <c>weight_hh_l{k}</c>, <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c> (and
/// <c>_reverse</c>) in PyTorch's order and layout; input [seq, batch, input] (or [batch, seq, input] with
/// <c>batchFirst</c>, or unbatched [seq, input]); output [seq, batch, directions·hidden]; final states
/// [layers·directions, batch, hidden]; dropout between layers while training. Each layer projects the
/// input of every step with one GEMM before the time loop; the loop itself is written with
/// differentiable ops, so backprop through time needs nothing else. Variable-length batches and a
/// fused recurrent step are not here yet (issue #10).
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
    /// The state after one step of direction <paramref name="at"/> from state <paramref name="h"/> (and
    /// <paramref name="c"/> for an LSTM) given the step's input projection x·W_ihᵀ + b_ih [batch, gates·hidden].
    /// </summary>
    private protected abstract (Tensor H, Tensor? C) Step(Tensor inputProjection, Tensor h, Tensor? c, Tensor wHh, Tensor? bHh);

    /// <summary>Gate <paramref name="index"/> ([batch, hidden]) of a [batch, gates·hidden] projection.</summary>
    private protected Tensor Gate(Tensor projection, int index) => projection.Narrow(1, index * HiddenSize, HiddenSize);

    /// <summary>Runs the sequence; <paramref name="h0"/> and <paramref name="c0"/> default to zeros (c0 only for an LSTM).</summary>
    private protected (Tensor Output, Tensor H, Tensor? C) Run(Tensor input, Tensor? h0, Tensor? c0, bool lstm)
    {
        string op = GetType().Name;
        bool unbatched = input.Rank == 2;
        if (input.Rank is not (2 or 3) || input.Shape[input.Rank - 1] != InputSize)
            throw new ArgumentException($"{op}: expected an input of shape {(BatchFirst ? "[batch, seq, " : "[seq, batch, ")}{InputSize}] or [seq, {InputSize}], got {input.Shape}");
        Tensor x = unbatched ? input.Unsqueeze(1) : BatchFirst ? input.Transpose(0, 1) : input; // [seq, batch, input]
        int steps = x.Shape[0], batch = x.Shape[1], states = NumLayers * Directions;
        Tensor h = State(h0, "h0", unbatched, states, batch, x.DType), c = lstm ? State(c0, "c0", unbatched, states, batch, x.DType) : null!;
        var hn = new Tensor[states];
        var cn = new Tensor[states];
        for (int layer = 0; layer < NumLayers; layer++)
        {
            var outputs = new Tensor[Directions];
            for (int d = 0; d < Directions; d++)
            {
                int at = layer * Directions + d;
                // One GEMM projects every step's input: [seq·batch, in] -> [seq, batch, gates·hidden].
                Tensor projected = Functional.Linear(x.Reshape(steps * batch, x.Shape[2]), _ih[at], _bih[at]).Reshape(steps, batch, _gates * HiddenSize);
                Tensor hs = h.Select(0, at);
                Tensor? cs = lstm ? c.Select(0, at) : null;
                var perStep = new Tensor[steps];
                for (int s = 0; s < steps; s++)
                {
                    int t = d == 0 ? s : steps - 1 - s;
                    (hs, cs) = Step(projected.Select(0, t), hs, cs, _hh[at], _bhh[at]);
                    perStep[t] = hs;
                }
                outputs[d] = Tensor.Stack(perStep);                                // [seq, batch, hidden]
                hn[at] = hs;
                if (lstm) cn[at] = cs!;
            }
            x = Directions == 1 ? outputs[0] : Tensor.Cat(outputs, 2);             // [seq, batch, directions·hidden]
            if (layer < NumLayers - 1 && Dropout > 0 && Training)
                x = Functional.Dropout(x, Dropout, training: true, Generator);
        }
        Tensor output = unbatched ? x.Squeeze(1) : BatchFirst ? x.Transpose(0, 1) : x;
        Tensor hOut = Tensor.Stack(hn), cOut = lstm ? Tensor.Stack(cn) : null!;
        return unbatched ? (output, hOut.Squeeze(1), lstm ? cOut.Squeeze(1) : null) : (output, hOut, lstm ? cOut : null);
    }

    private Tensor State(Tensor? given, string name, bool unbatched, int states, int batch, DType dtype)
    {
        if (given is null) return Tensor.Zeros([states, batch, HiddenSize], dtype);
        Tensor s = unbatched && given.Rank == 2 ? given.Unsqueeze(1) : given;
        if (s.Rank != 3 || s.Shape[0] != states || s.Shape[1] != batch || s.Shape[2] != HiddenSize)
            throw new ArgumentException($"{GetType().Name}: expected {name} of shape {(unbatched ? $"[{states}, {HiddenSize}]" : $"[{states}, {batch}, {HiddenSize}]")}, got {given.Shape}");
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

    /// <summary>The output of every step and the final hidden state of every layer and direction.</summary>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0)
    {
        var (output, h, _) = Run(input, h0, null, lstm: false);
        return (output, h);
    }

    /// <summary>The output of every step, from zero states.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Output;

    private protected override (Tensor H, Tensor? C) Step(Tensor inputProjection, Tensor h, Tensor? c, Tensor wHh, Tensor? bHh)
    {
        Tensor pre = inputProjection + Functional.Linear(h, wHh, bHh);
        return (Nonlinearity == "tanh" ? pre.Tanh() : pre.Relu(), null);
    }
}

/// <summary>An LSTM over sequences (torch.nn.LSTM), gates i, f, g, o: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').</summary>
public sealed class Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
                         bool bidirectional = false, Generator? generator = null, DType dtype = DType.Float32)
    : RecurrentLayer(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 4, generator, dtype)
{
    /// <summary>The output of every step and the final (h, c) of every layer and direction; zero states when <paramref name="state"/> is null.</summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor input, (Tensor H, Tensor C)? state)
    {
        var (output, h, c) = Run(input, state?.H, state?.C, lstm: true);
        return (output, (h, c!));
    }

    /// <summary>The output of every step, from zero states.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Output;

    private protected override (Tensor H, Tensor? C) Step(Tensor inputProjection, Tensor h, Tensor? c, Tensor wHh, Tensor? bHh)
    {
        Tensor gates = inputProjection + Functional.Linear(h, wHh, bHh);      // [batch, 4·hidden]: i, f, g, o
        Tensor c2 = Gate(gates, 1).Sigmoid() * c! + Gate(gates, 0).Sigmoid() * Gate(gates, 2).Tanh();
        return (Gate(gates, 3).Sigmoid() * c2.Tanh(), c2);
    }
}

/// <summary>
/// A GRU over sequences (torch.nn.GRU), gates r, z, n: n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),
/// h' = (1 − z)·n + z·h.
/// </summary>
public sealed class Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
                        bool bidirectional = false, Generator? generator = null, DType dtype = DType.Float32)
    : RecurrentLayer(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 3, generator, dtype)
{
    /// <summary>The output of every step and the final hidden state of every layer and direction.</summary>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0)
    {
        var (output, h, _) = Run(input, h0, null, lstm: false);
        return (output, h);
    }

    /// <summary>The output of every step, from zero states.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).Output;

    private protected override (Tensor H, Tensor? C) Step(Tensor inputProjection, Tensor h, Tensor? c, Tensor wHh, Tensor? bHh)
    {
        Tensor hh = Functional.Linear(h, wHh, bHh);                               // [batch, 3·hidden]: r, z, n
        Tensor r = (Gate(inputProjection, 0) + Gate(hh, 0)).Sigmoid();
        Tensor z = (Gate(inputProjection, 1) + Gate(hh, 1)).Sigmoid();
        Tensor n = (Gate(inputProjection, 2) + r * Gate(hh, 2)).Tanh();
        return ((1.0 - z) * n + z * h, null);
    }
}
