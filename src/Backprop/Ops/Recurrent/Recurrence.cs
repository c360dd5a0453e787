using System.Buffers;
using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Gemm;
using Backprop.Kernels.Recurrent;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Recurrent;

/// <summary>
/// One (layer, direction) of an RNN, LSTM or GRU over a whole sequence as one op, cuDNN-style. Forward:
/// the input projection of every step is one GEMM, x [rows, in]·W_ihᵀ plus the biases (b_ih + b_hh, except
/// GRU's b_hn, which must stay inside r·(W_hn h + b_hn)); then per step the recurrent product and the
/// fused gate math (<see cref="RecurrenceDriver"/>), keeping the gate activations and states the backward
/// needs in [seq, batch, ·] buffers made once per sequence. Backward: the time loop in reverse gives the
/// gate gradients of every step, then dW_ih = dGatesᵀ·x, dx = dGates·W_ih, dW_hh = dGatesᵀ·h_prev and the
/// bias gradients (column sums) are each one product over all steps.
/// <para>
/// The output is one flat tensor: the outputs of every step in the input's layout ([seq, batch, H] or,
/// batch first, [batch, seq, H]), then the final h [batch, H], then (LSTM) the final c; callers take views.
/// Inputs, in order: x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh (h0, c0 and the biases may be null).
/// With <c>lengths</c>, sequence b has steps 0..lengths[b] − 1 only (PyTorch's packed sequences): its
/// outputs past that are zero, its final state is the one after its last step (reversed: after step 0,
/// starting from h0 at its last step), and no gradient flows from or into its padding.
/// </para>
/// </summary>
internal sealed class RecurrenceNode : Node
{
    private readonly RecurrentCellKind _kind;
    private readonly int[]? _lengths;
    private readonly bool _batchFirst, _reverse;
    private readonly int _steps, _batch, _hidden, _inputSize;
    private readonly SavedTensor?[] _inputs;
    private readonly SavedTensor _x, _wIh, _wHh, _gates, _hPrev;
    private readonly SavedTensor? _cPrev, _tanhC, _hn;

    private RecurrenceNode(RecurrentCellKind kind, Tensor?[] inputs, Tensor xc, Tensor wIh, Tensor wHh, Tensor gates, Tensor hPrev,
                           Tensor? cPrev, Tensor? tanhC, Tensor? hn, int[]? lengths, bool batchFirst, bool reverse, int steps, int batch)
        : base(inputs)
    {
        (_kind, _lengths, _batchFirst, _reverse, _steps, _batch) = (kind, lengths, batchFirst, reverse, steps, batch);
        _hidden = wHh.Shape[1];
        _inputSize = wIh.Shape[1];
        _inputs = new SavedTensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is { } t) _inputs[i] = Save(t);
        _x = Save(xc);
        _wIh = Save(wIh);
        _wHh = Save(wHh);
        _gates = Save(gates);
        _hPrev = Save(hPrev);
        if (cPrev is not null) _cPrev = Save(cPrev);
        if (tanhC is not null) _tanhC = Save(tanhC);
        if (hn is not null) _hn = Save(hn);
    }

    /// <summary>
    /// Runs the sequence. x [seq, batch, in] (or [batch, seq, in] when <paramref name="batchFirst"/>); h0, c0
    /// [batch, H] or null (zeros); weights and biases as PyTorch's; lengths [batch] in 1..seq or null.
    /// Returns the flat [seq·batch·H + states·batch·H] output described on the class.
    /// </summary>
    /// <exception cref="ArgumentException">A shape, dtype or length does not fit (the message names them).</exception>
    public static Tensor Forward(RecurrentCellKind kind, Tensor x, Tensor? h0, Tensor? c0, Tensor wIh, Tensor wHh, Tensor? bIh, Tensor? bHh,
                                 int[]? lengths, bool batchFirst, bool reverse)
    {
        Validate(kind, x, h0, c0, wIh, wHh, bIh, bHh, lengths, batchFirst);
        bool lstm = kind == RecurrentCellKind.Lstm, gru = kind == RecurrentCellKind.Gru;
        int steps = x.Shape[batchFirst ? 1 : 0], batch = x.Shape[batchFirst ? 0 : 1], hidden = wHh.Shape[1];
        int gates = RecurrenceDriver.Gates(kind), rows = steps * batch;
        DType dtype = x.DType;
        Tensor xc = TimeMajor(x, lengths, batchFirst);
        Tensor wIhc = wIh.Detach().Contiguous(), wHhc = wHh.Detach().Contiguous();
        var y = Tensor.Uninitialized(new Shape(rows * hidden + (lstm ? 2 : 1) * batch * hidden), dtype); // the loop writes every element
        var gateBuffer = Tensor.Uninitialized(new Shape(rows, gates * hidden), dtype);
        var hPrev = Tensor.Uninitialized(new Shape(rows, hidden), dtype);
        Tensor? cPrev = lstm ? Tensor.Uninitialized(new Shape(rows, hidden), dtype) : null;
        Tensor? tanhC = lstm ? Tensor.Uninitialized(new Shape(rows, hidden), dtype) : null;
        Tensor? hn = gru ? Tensor.Uninitialized(new Shape(rows, hidden), dtype) : null;
        var k = new ForwardKernel(kind, xc, h0?.Detach().Contiguous(), c0?.Detach().Contiguous(), wIhc, wHhc, bIh?.Detach().Contiguous(), bHh?.Detach().Contiguous(),
                                  lengths, batchFirst, reverse, steps, batch, y, gateBuffer, hPrev, cPrev, tanhC, hn);
        DTypeSwitch.Float(dtype, k);
        Tensor?[] inputs = [x, h0, c0, wIh, wHh, bIh, bHh];
        if (Records(inputs))
            y.SetGradFn(new RecurrenceNode(kind, inputs, xc, wIhc, wHhc, gateBuffer, hPrev, cPrev, tanhC, hn, lengths, batchFirst, reverse, steps, batch));
        return y;
    }

    // Per step (see the cell kernels for each cell's derivative): the reverse time loop turns the output
    // gradients into dGates [rows, G·H] (and, GRU, d(W_hn h + b_hn) [rows, H]) and dh0, dc0; then
    // dW_ih = dGatesᵀ·x, dx = dGates·W_ih, db_ih = Σ_rows dGates, dW_hh = dGhᵀ·h_prev, db_hh = Σ_rows dGh,
    // where dGh = dGates (GRU: with the n columns replaced by d(W_hn h + b_hn)).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (GradMode.IsEnabled) return RecordedBackward(dy);
        DType dtype = dy.DType;
        int gates = RecurrenceDriver.Gates(_kind), rows = _steps * _batch, h = _hidden;
        Tensor x = _x.Value, wIh = _wIh.Value, wHh = _wHh.Value;
        var dGates = Tensor.Uninitialized(new Shape(rows, gates * h), dtype);
        Tensor? dHn = _kind == RecurrentCellKind.Gru ? Tensor.Uninitialized(new Shape(rows, h), dtype) : null;
        var dh = Tensor.Uninitialized(new Shape(_batch, h), dtype);
        Tensor? dc = _kind == RecurrentCellKind.Lstm ? Tensor.Uninitialized(new Shape(_batch, h), dtype) : null;
        Tensor? dx = NeedsInputGrad(0) ? Tensor.Uninitialized(x.Shape, dtype) : null;                  // [seq, batch, in]
        Tensor? dWih = NeedsInputGrad(3) ? NewInputGradient(3, wIh.Shape, dtype, clear: false) : null;
        Tensor? dWhh = NeedsInputGrad(4) ? NewInputGradient(4, wHh.Shape, dtype, clear: false) : null;
        Tensor? dbIh = NeedsInputGrad(5) ? NewInputGradient(5, new Shape(gates * h), dtype, clear: false) : null;
        Tensor? dbHh = NeedsInputGrad(6) ? NewInputGradient(6, new Shape(gates * h), dtype, clear: false) : null;
        var k = new BackwardKernel(this, dy.Contiguous(), x, wIh, wHh, _gates.Value, _hPrev.Value, _cPrev?.Value, _tanhC?.Value, _hn?.Value,
                                   dGates, dHn, dh, dc, dx, dWih, dWhh, dbIh, dbHh);
        DTypeSwitch.Float(dtype, k);
        if (dx is not null && _batchFirst) dx = dx.Transpose(0, 1).Contiguous();                       // -> [batch, seq, in]
        return [dx, NeedsInputGrad(1) ? dh : null, NeedsInputGrad(2) ? dc : null, dWih, dWhh, dbIh, dbHh];
    }

    /// <summary>
    /// The backward as a recorded graph (createGraph): the same sequence is recomputed with differentiable
    /// ops (<see cref="RecurrenceComposite"/>) from the saved inputs and differentiated, so the gradients
    /// returned are functions of the inputs and of dy that can be differentiated again. Each input enters
    /// the recomputation through a <see cref="RecomputeBoundaryNode"/>, which stops that inner backward at the
    /// input (nothing upstream runs twice) and afterwards passes gradients through like an identity.
    /// </summary>
    private Tensor?[] RecordedBackward(Tensor dy)
    {
        var args = new Tensor?[_inputs.Length];
        var boundaries = new List<RecomputeBoundaryNode>();
        var wrt = new List<Tensor>();
        var slots = new List<int>();
        for (int i = 0; i < args.Length; i++)
        {
            if (_inputs[i]?.Value is not { } t) continue;
            if (!NeedsInputGrad(i))
            {
                args[i] = t.Detach();
                continue;
            }
            var (alias, boundary) = RecomputeBoundaryNode.Forward(t);
            args[i] = alias;
            boundaries.Add(boundary);
            wrt.Add(alias);
            slots.Add(i);
        }
        var (output, h, c) = RecurrenceComposite.Forward(_kind, args[0]!, args[1], args[2], args[3]!, args[4]!, args[5], args[6], _lengths, _batchFirst, _reverse);
        var parts = new List<Tensor> { output.Reshape(output.Numel), h.Reshape(h.Numel) };
        if (c is not null) parts.Add(c.Reshape(c.Numel));
        Tensor y = Tensor.Cat(parts);
        Tensor?[] grads;
        try
        {
            grads = Gradients.Grad([y], [.. wrt], [dy], retainGraph: true, createGraph: true, allowUnused: true);
        }
        finally
        {
            foreach (RecomputeBoundaryNode b in boundaries) b.Cut = false;
        }
        var result = new Tensor?[args.Length];
        for (int i = 0; i < slots.Count; i++) result[slots[i]] = grads[i];
        return result;
    }

    private static bool Records(Tensor?[] inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (Tensor? t in inputs)
            if (t is { RequiresGrad: true }) return true;
        return false;
    }

    /// <summary>
    /// x as [seq, batch, in], contiguous: the work buffers keep the rows of one step together (with batch-first
    /// rows the step's rows would sit seq·width apart, a power-of-two stride that maps them all to the same
    /// cache sets). With lengths, the rows past each sequence's length are zeroed in a copy: what lies there
    /// never reaches a number (not even NaN·0).
    /// </summary>
    private static Tensor TimeMajor(Tensor x, int[]? lengths, bool batchFirst)
    {
        Tensor d = x.Detach();
        Tensor xt = batchFirst ? d.Transpose(0, 1).Contiguous() : d.Contiguous();
        if (lengths is null) return xt;
        if (ReferenceEquals(xt.Storage, x.Storage)) xt = xt.Clone();
        DTypeSwitch.Float(x.DType, new ZeroPadding(xt, lengths));
        return xt;
    }

    private readonly struct ZeroPadding(Tensor x, int[] lengths) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Span<T> v = x.Elements<T>();
            int steps = x.Shape[0], batch = x.Shape[1], n = x.Shape[2];
            for (int b = 0; b < batch; b++)
                for (int t = lengths[b]; t < steps; t++)
                    v.Slice((t * batch + b) * n, n).Clear();
        }
    }

    private static void Validate(RecurrentCellKind kind, Tensor x, Tensor? h0, Tensor? c0, Tensor wIh, Tensor wHh, Tensor? bIh, Tensor? bHh, int[]? lengths, bool batchFirst)
    {
        string op = kind switch { RecurrentCellKind.Lstm => "Lstm", RecurrentCellKind.Gru => "Gru", _ => "Rnn" };
        int gates = RecurrenceDriver.Gates(kind);
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: {x.DType.Name()} inputs are not supported (input {x.Shape}); convert them with To(DType.Float32)");
        if (wHh.Rank != 2 || wHh.Shape[0] != gates * wHh.Shape[1])
            throw new ArgumentException($"{op}: weight_hh must be [{gates}·hidden, hidden], got {wHh.Shape}");
        int hidden = wHh.Shape[1];
        if (wIh.Rank != 2 || wIh.Shape[0] != gates * hidden)
            throw new ArgumentException($"{op}: weight_ih must be [{gates * hidden}, input] to match weight_hh {wHh.Shape}, got {wIh.Shape}");
        if (x.Rank != 3 || x.Shape[2] != wIh.Shape[1])
            throw new ArgumentException($"{op}: expected an input of shape {(batchFirst ? "[batch, seq, " : "[seq, batch, ")}{wIh.Shape[1]}] for weight_ih {wIh.Shape}, got {x.Shape}");
        int steps = x.Shape[batchFirst ? 1 : 0], batch = x.Shape[batchFirst ? 0 : 1];
        if (steps == 0 || batch == 0)
            throw new ArgumentException($"{op}: the input {x.Shape} has no {(steps == 0 ? "steps" : "sequences")}; expected at least one step of at least one sequence");
        foreach (Tensor? t in (ReadOnlySpan<Tensor?>)[h0, c0, wIh, wHh, bIh, bHh])
            if (t is not null) Tensor.CheckSameDType(x, t, op);
        foreach (var (state, name) in (ReadOnlySpan<(Tensor?, string)>)[(h0, "h0"), (c0, "c0")])
            if (state is not null && (state.Rank != 2 || state.Shape[0] != batch || state.Shape[1] != hidden))
                throw new ArgumentException($"{op}: expected {name} of shape [{batch}, {hidden}] for input {x.Shape}, got {state.Shape}");
        foreach (var (bias, name) in (ReadOnlySpan<(Tensor?, string)>)[(bIh, "bias_ih"), (bHh, "bias_hh")])
            if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != gates * hidden))
                throw new ArgumentException($"{op}: {name} must have shape [{gates * hidden}] to match weight_hh {wHh.Shape}, got {bias.Shape}");
        if (lengths is null) return;
        if (lengths.Length != batch)
            throw new ArgumentException($"{op}: {lengths.Length} lengths for input {x.Shape} with {batch} sequences");
        foreach (int n in lengths)
            if (n < 1 || n > steps)
                throw new ArgumentException($"{op}: length {n} is outside 1..{steps} for input {x.Shape}");
    }

    private readonly unsafe struct ForwardKernel(RecurrentCellKind kind, Tensor x, Tensor? h0, Tensor? c0, Tensor wIh, Tensor wHh, Tensor? bIh, Tensor? bHh,
                                                 int[]? lengths, bool batchFirst, bool reverse, int steps, int batch,
                                                 Tensor y, Tensor gates, Tensor hPrev, Tensor? cPrev, Tensor? tanhC, Tensor? hn) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            int hidden = wHh.Shape[1], input = wIh.Shape[1], g = RecurrenceDriver.Gates(kind), gh = g * hidden, rows = steps * batch;
            T[] rented = ArrayPool<T>.Shared.Rent(gh + hidden);
            try
            {
                // The biases that add to the input projection (GRU's b_hn stays apart) and b_hn.
                Span<T> bias = rented.AsSpan(0, gh), biasHn = rented.AsSpan(gh, hidden);
                bias.Clear();
                biasHn.Clear();
                ReadOnlySpan<T> bi = bIh is null ? default : bIh.ReadOnlyElements<T>(), bh = bHh is null ? default : bHh.ReadOnlyElements<T>();
                int folded = kind == RecurrentCellKind.Gru ? 2 * hidden : gh;
                if (!bi.IsEmpty) bi.CopyTo(bias);
                if (!bh.IsEmpty)
                {
                    for (int j = 0; j < folded; j++) bias[j] += bh[j];
                    if (kind == RecurrentCellKind.Gru) bh.Slice(folded, hidden).CopyTo(biasHn);
                }
                GemmKernel.Multiply(false, true, rows, gh, input, T.One, x.ReadOnlyElements<T>(), Math.Max(input, 1), wIh.ReadOnlyElements<T>(), Math.Max(input, 1),
                                    T.Zero, gates.Elements<T>(), gh, bIh is null && bHh is null ? default : bias, relu: false);
                Span<T> yv = y.Elements<T>();
                int outputs = rows * hidden;
                fixed (T* pWhh = wHh.Elements<T>())
                fixed (T* pBiasHn = biasHn)
                fixed (T* pH0 = Elements<T>(h0))
                fixed (T* pC0 = Elements<T>(c0))
                fixed (T* pGates = gates.Elements<T>())
                fixed (T* pHPrev = hPrev.Elements<T>())
                fixed (T* pCPrev = Elements<T>(cPrev))
                fixed (T* pTanhC = Elements<T>(tanhC))
                fixed (T* pHn = Elements<T>(hn))
                fixed (T* pY = yv)
                fixed (int* pLengths = lengths)
                {
                    var buffers = new RecurrenceBuffers<T>
                    {
                        Kind = kind, Steps = steps, Batch = batch, Hidden = hidden,
                        TimeRows = batch, BatchRows = 1, OutTimeRows = batchFirst ? 1 : batch, OutBatchRows = batchFirst ? steps : 1,
                        Reverse = reverse, Lengths = pLengths,
                        WHh = pWhh, BiasHn = pBiasHn, H0 = pH0, C0 = pC0, Gates = pGates, HPrev = pHPrev, CPrev = pCPrev, TanhC = pTanhC, HN = pHn,
                        Output = pY, HFinal = pY + outputs, CFinal = kind == RecurrentCellKind.Lstm ? pY + outputs + batch * hidden : null,
                    };
                    RecurrenceDriver.Forward(buffers);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(rented);
            }
        }
    }

    private readonly unsafe struct BackwardKernel(RecurrenceNode node, Tensor dy, Tensor x, Tensor wIh, Tensor wHh, Tensor gates, Tensor hPrev,
                                                  Tensor? cPrev, Tensor? tanhC, Tensor? hn, Tensor dGates, Tensor? dHn, Tensor dh, Tensor? dc,
                                                  Tensor? dx, Tensor? dWih, Tensor? dWhh, Tensor? dbIh, Tensor? dbHh) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            RecurrentCellKind kind = node._kind;
            int steps = node._steps, batch = node._batch, hidden = node._hidden, input = node._inputSize;
            int g = RecurrenceDriver.Gates(kind), gh = g * hidden, rows = steps * batch, outputs = rows * hidden;
            fixed (T* pWhh = wHh.Elements<T>())
            fixed (T* pGates = gates.Elements<T>())
            fixed (T* pHPrev = hPrev.Elements<T>())
            fixed (T* pCPrev = Elements<T>(cPrev))
            fixed (T* pTanhC = Elements<T>(tanhC))
            fixed (T* pHn = Elements<T>(hn))
            fixed (T* pDy = dy.Elements<T>())
            fixed (T* pDGates = dGates.Elements<T>())
            fixed (T* pDHn = Elements<T>(dHn))
            fixed (T* pDh = dh.Elements<T>())
            fixed (T* pDc = Elements<T>(dc))
            fixed (int* pLengths = node._lengths)
            {
                var buffers = new RecurrenceBuffers<T>
                {
                    Kind = kind, Steps = steps, Batch = batch, Hidden = hidden,
                    TimeRows = batch, BatchRows = 1, OutTimeRows = node._batchFirst ? 1 : batch, OutBatchRows = node._batchFirst ? steps : 1,
                    Reverse = node._reverse, Lengths = pLengths,
                    WHh = pWhh, Gates = pGates, HPrev = pHPrev, CPrev = pCPrev, TanhC = pTanhC, HN = pHn,
                    DOut = pDy, DHFinal = pDy + outputs, DCFinal = kind == RecurrentCellKind.Lstm ? pDy + outputs + batch * hidden : null,
                    DGates = pDGates, DHN = pDHn, DH = pDh, DC = pDc,
                };
                RecurrenceDriver.Backward(buffers);
            }

            ReadOnlySpan<T> dG = dGates.ReadOnlyElements<T>(), xv = x.ReadOnlyElements<T>(), wIhv = wIh.ReadOnlyElements<T>(), hp = hPrev.ReadOnlyElements<T>();
            int ldx = Math.Max(input, 1);
            // dx and dW_ih side by side (LinearGrads), with db_ih summed by the dW thread.
            if (dx is not null && dWih is not null)
                LinearGrads.Compute(rows, input, gh, dG, false, gh, wIhv, false, ldx, xv, false, ldx, dx.Elements<T>(), dWih.Elements<T>(),
                                    dbIh is null ? default : dbIh.Elements<T>());
            else
            {
                if (dx is not null) GemmKernel.Multiply(false, false, rows, input, gh, T.One, dG, gh, wIhv, ldx, T.Zero, dx.Elements<T>(), ldx);
                if (dWih is not null) GemmKernel.Multiply(true, false, gh, input, rows, T.One, dG, gh, xv, ldx, T.Zero, dWih.Elements<T>(), ldx);
                if (dbIh is not null) SumKernel.SumMiddle(dG, 1, rows, gh, dbIh.Elements<T>());
            }
            bool gru = kind == RecurrentCellKind.Gru;
            if (dWhh is not null)
            {
                Span<T> dw = dWhh.Elements<T>();
                // dW_hh = dGhᵀ [G·H, rows] · h_prev [rows, H]; GRU's n rows come from d(W_hn h + b_hn).
                GemmKernel.Multiply(true, false, gru ? 2 * hidden : gh, hidden, rows, T.One, dG, gh, hp, hidden, T.Zero, dw, hidden);
                if (gru)
                    GemmKernel.Multiply(true, false, hidden, hidden, rows, T.One, dHn!.ReadOnlyElements<T>(), hidden, hp, hidden, T.Zero, dw.Slice(2 * hidden * hidden), hidden);
            }
            if (dbHh is not null)
            {
                Span<T> db = dbHh.Elements<T>();
                if (dbIh is not null) dbIh.ReadOnlyElements<T>().CopyTo(db);
                else SumKernel.SumMiddle(dG, 1, rows, gh, db);
                if (gru) SumKernel.SumMiddle(dHn!.ReadOnlyElements<T>(), 1, rows, hidden, db.Slice(2 * hidden, hidden));
            }
        }
    }

    private static Span<T> Elements<T>(Tensor? t) where T : unmanaged => t is null ? default : t.Elements<T>();
}
