using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// What the single-step recurrent cells share: PyTorch's parameters <c>weight_ih</c> [gates·hidden, input],
/// <c>weight_hh</c> [gates·hidden, hidden], <c>bias_ih</c> and <c>bias_hh</c> [gates·hidden], all drawn from
/// U(−1/√hidden, 1/√hidden), and the shape checks of one step (batched [batch, input] or unbatched [input]).
/// Each step is written with differentiable ops, so it trains with backprop through time as it is.
/// </summary>
public abstract class RecurrentCell : Module
{
    private protected RecurrentCell(int inputSize, int hiddenSize, int gates, bool bias, Generator? generator, DType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        double bound = 1 / Math.Sqrt(hiddenSize);
        WeightIh = RegisterParameter("weight_ih", Init.Uniform([gates * hiddenSize, inputSize], -bound, bound, generator, dtype));
        WeightHh = RegisterParameter("weight_hh", Init.Uniform([gates * hiddenSize, hiddenSize], -bound, bound, generator, dtype));
        if (bias)
        {
            BiasIh = RegisterParameter("bias_ih", Init.Uniform([gates * hiddenSize], -bound, bound, generator, dtype));
            BiasHh = RegisterParameter("bias_hh", Init.Uniform([gates * hiddenSize], -bound, bound, generator, dtype));
        }
        else
        {
            RegisterAbsentParameter("bias_ih");
            RegisterAbsentParameter("bias_hh");
        }
    }

    /// <summary>Features of each input step.</summary>
    public int InputSize { get; }

    /// <summary>Features of the hidden state.</summary>
    public int HiddenSize { get; }

    /// <summary>[gates·hidden, input].</summary>
    public Parameter WeightIh { get; }

    /// <summary>[gates·hidden, hidden].</summary>
    public Parameter WeightHh { get; }

    /// <summary>[gates·hidden], or null.</summary>
    public Parameter? BiasIh { get; }

    /// <summary>[gates·hidden], or null.</summary>
    public Parameter? BiasHh { get; }

    /// <summary>The input as [batch, input] and whether it came unbatched ([input]).</summary>
    private protected (Tensor Input, bool Unbatched) CheckInput(Tensor input)
    {
        if (input.Rank is not (1 or 2) || input.Shape[input.Rank - 1] != InputSize)
            throw new ArgumentException($"{GetType().Name}: expected an input of shape [batch, {InputSize}] or [{InputSize}], got {input.Shape}");
        return input.Rank == 1 ? (input.Unsqueeze(0), true) : (input, false);
    }

    /// <summary>A state tensor as [batch, hidden] (zeros when null), checked against the input's batch.</summary>
    private protected Tensor CheckState(Tensor? state, Tensor input, bool unbatched, string what)
    {
        int batch = input.Shape[0];
        if (state is null) return Tensor.Zeros([batch, HiddenSize], input.DType);
        Tensor s = unbatched && state.Rank == 1 ? state.Unsqueeze(0) : state;
        if (s.Rank != 2 || s.Shape[0] != batch || s.Shape[1] != HiddenSize)
            throw new ArgumentException($"{GetType().Name}: expected {what} of shape {(unbatched ? $"[{HiddenSize}]" : $"[{batch}, {HiddenSize}]")} for input {(unbatched ? $"[{InputSize}]" : input.Shape.ToString())}, got {state.Shape}");
        return s;
    }

    /// <summary>x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh, each [batch, gates·hidden].</summary>
    private protected (Tensor FromInput, Tensor FromHidden) Projections(Tensor x, Tensor h)
        => (Functional.Linear(x, WeightIh, BiasIh), Functional.Linear(h, WeightHh, BiasHh));

    /// <summary>Gate <paramref name="index"/> ([batch, hidden]) of a [batch, gates·hidden] projection.</summary>
    private protected Tensor Gate(Tensor projection, int index) => projection.Narrow(1, index * HiddenSize, HiddenSize);

    /// <summary>Drops the batch dimension again for an unbatched input.</summary>
    private protected static Tensor Unbatch(Tensor t, bool unbatched) => unbatched ? t.Squeeze(0) : t;

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{GetType().Name}({InputSize} → {HiddenSize}{(BiasIh is null ? ", no bias" : "")})";
}

/// <summary>One step of an Elman RNN: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or ReLU), as torch.nn.RNNCell.</summary>
public sealed class RnnCell : RecurrentCell
{
    /// <summary>Creates the cell; <paramref name="nonlinearity"/> is "tanh" (default) or "relu".</summary>
    /// <exception cref="ArgumentException">An unknown nonlinearity.</exception>
    public RnnCell(int inputSize, int hiddenSize, bool bias = true, string nonlinearity = "tanh", Generator? generator = null, DType dtype = DType.Float32)
        : base(inputSize, hiddenSize, 1, bias, generator, dtype)
    {
        if (nonlinearity is not ("tanh" or "relu"))
            throw new ArgumentException($"RnnCell: unknown nonlinearity '{nonlinearity}' (use tanh or relu)");
        Nonlinearity = nonlinearity;
    }

    /// <summary>"tanh" or "relu".</summary>
    public string Nonlinearity { get; }

    /// <summary>The next hidden state [batch, hidden] (or [hidden]) from the input and the previous state (zeros when null).</summary>
    public Tensor Forward(Tensor input, Tensor? hidden)
    {
        var (x, unbatched) = CheckInput(input);
        Tensor h = CheckState(hidden, x, unbatched, "the hidden state");
        var (xi, hh) = Projections(x, h);
        Tensor pre = xi + hh;
        return Unbatch(Nonlinearity == "tanh" ? pre.Tanh() : pre.Relu(), unbatched);
    }

    /// <summary>One step from a zero hidden state.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null);
}

/// <summary>
/// One step of an LSTM, as torch.nn.LSTMCell (gates in the order i, f, g, o):
/// c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').
/// </summary>
public sealed class LstmCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
    : RecurrentCell(inputSize, hiddenSize, 4, bias, generator, dtype)
{
    /// <summary>The next (h, c), each [batch, hidden] (or [hidden]), from the input and the previous state (zeros when null).</summary>
    public (Tensor H, Tensor C) Forward(Tensor input, (Tensor H, Tensor C)? state)
    {
        var (x, unbatched) = CheckInput(input);
        Tensor h = CheckState(state?.H, x, unbatched, "h");
        Tensor c = CheckState(state?.C, x, unbatched, "c");
        var (xi, hh) = Projections(x, h);
        Tensor gates = xi + hh;                                                // [batch, 4·hidden]: i, f, g, o
        Tensor i = Gate(gates, 0).Sigmoid(), f = Gate(gates, 1).Sigmoid(), g = Gate(gates, 2).Tanh(), o = Gate(gates, 3).Sigmoid();
        Tensor c2 = f * c + i * g;
        Tensor h2 = o * c2.Tanh();
        return (Unbatch(h2, unbatched), Unbatch(c2, unbatched));
    }

    /// <summary>The next hidden state h from a zero state.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).H;
}

/// <summary>
/// One step of a GRU, as torch.nn.GRUCell (gates in the order r, z, n): r = σ(·), z = σ(·),
/// n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.
/// </summary>
public sealed class GruCell(int inputSize, int hiddenSize, bool bias = true, Generator? generator = null, DType dtype = DType.Float32)
    : RecurrentCell(inputSize, hiddenSize, 3, bias, generator, dtype)
{
    /// <summary>The next hidden state [batch, hidden] (or [hidden]) from the input and the previous state (zeros when null).</summary>
    public Tensor Forward(Tensor input, Tensor? hidden)
    {
        var (x, unbatched) = CheckInput(input);
        Tensor h = CheckState(hidden, x, unbatched, "the hidden state");
        var (xi, hh) = Projections(x, h);                                      // [batch, 3·hidden]: r, z, n
        Tensor r = (Gate(xi, 0) + Gate(hh, 0)).Sigmoid();
        Tensor z = (Gate(xi, 1) + Gate(hh, 1)).Sigmoid();
        Tensor n = (Gate(xi, 2) + r * Gate(hh, 2)).Tanh();
        return Unbatch((1.0 - z) * n + z * h, unbatched);
    }

    /// <summary>One step from a zero hidden state.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null);
}
