using Backprop.Kernels.Recurrent;
using Backprop.Ops.MatMul;
using Backprop.Tensors;

namespace Backprop.Ops.Recurrent;

/// <summary>
/// One (layer, direction) of a recurrent net written with differentiable ops, step by step: the
/// unfused path of Rnn/Lstm/Gru (every intermediate is a recorded tensor), the reference the fused
/// <see cref="RecurrenceNode"/> is tested against, and what that node's backward differentiates when a
/// graph of the backward itself must be recorded. Same inputs, layouts and length semantics as the node.
/// </summary>
internal static class RecurrenceComposite
{
    /// <summary>
    /// Output [seq, batch, H] ([batch, seq, H] when <paramref name="batchFirst"/>), zero past each sequence's
    /// length, and the final states [batch, H] (c only for an LSTM).
    /// </summary>
    public static (Tensor Output, Tensor H, Tensor? C) Forward(RecurrentCellKind kind, Tensor x, Tensor? h0, Tensor? c0, Tensor wIh, Tensor wHh,
                                                               Tensor? bIh, Tensor? bHh, int[]? lengths, bool batchFirst, bool reverse)
    {
        Tensor xs = batchFirst ? x.Transpose(0, 1) : x;                               // [seq, batch, in]
        int steps = xs.Shape[0], batch = xs.Shape[1], hidden = wHh.Shape[1], gates = RecurrenceDriver.Gates(kind);
        bool lstm = kind == RecurrentCellKind.Lstm;
        Tensor[]? active = lengths is null ? null : Masks(lengths, steps);
        Tensor zero = Tensor.Zeros([1], x.DType);
        if (active is not null)
            xs = Tensor.Where(Tensor.Stack(active), xs, zero);                       // padding never enters, even NaN
        // One GEMM projects every step's input: [seq·batch, in] -> [seq, batch, gates·hidden].
        Tensor projected = LinearNode.Forward(xs.Reshape(steps * batch, xs.Shape[2]), wIh, bIh).Reshape(steps, batch, gates * hidden);
        Tensor h = h0 ?? Tensor.Zeros([batch, hidden], x.DType);
        Tensor? c = lstm ? c0 ?? Tensor.Zeros([batch, hidden], x.DType) : null;
        var perStep = new Tensor[steps];
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            var (h2, c2) = Step(kind, projected.Select(0, t), h, c, wHh, bHh, hidden);
            if (active is not null)
            {
                // A row without step t keeps its state and outputs zero.
                h2 = Tensor.Where(active[t], h2, h);
                if (lstm) c2 = Tensor.Where(active[t], c2!, c!);
                perStep[t] = Tensor.Where(active[t], h2, zero);
            }
            else
                perStep[t] = h2;
            (h, c) = (h2, c2);
        }
        Tensor output = Tensor.Stack(perStep);                                        // [seq, batch, hidden]
        return (batchFirst ? output.Transpose(0, 1) : output, h, c);
    }

    /// <summary>The state after one step from the step's input projection x·W_ihᵀ + b_ih [batch, gates·hidden].</summary>
    public static (Tensor H, Tensor? C) Step(RecurrentCellKind kind, Tensor projection, Tensor h, Tensor? c, Tensor wHh, Tensor? bHh, int hidden)
    {
        Tensor Gate(Tensor t, int index) => t.Narrow(1, index * hidden, hidden);
        switch (kind)
        {
            case RecurrentCellKind.Lstm:
            {
                Tensor gates = projection + LinearNode.Forward(h, wHh, bHh);                // [batch, 4·hidden]: i, f, g, o
                Tensor c2 = Gate(gates, 1).Sigmoid() * c! + Gate(gates, 0).Sigmoid() * Gate(gates, 2).Tanh();
                return (Gate(gates, 3).Sigmoid() * c2.Tanh(), c2);
            }
            case RecurrentCellKind.Gru:
            {
                Tensor hh = LinearNode.Forward(h, wHh, bHh);                                 // [batch, 3·hidden]: r, z, n
                Tensor r = (Gate(projection, 0) + Gate(hh, 0)).Sigmoid();
                Tensor z = (Gate(projection, 1) + Gate(hh, 1)).Sigmoid();
                Tensor n = (Gate(projection, 2) + r * Gate(hh, 2)).Tanh();
                return ((1.0 - z) * n + z * h, null);
            }
            default:
            {
                Tensor pre = projection + LinearNode.Forward(h, wHh, bHh);
                return (kind == RecurrentCellKind.RnnRelu ? pre.Relu() : pre.Tanh(), null);
            }
        }
    }

    /// <summary>Per step t, an Int64 [batch, 1] mask: 1 where sequence b has step t.</summary>
    private static Tensor[] Masks(int[] lengths, int steps)
    {
        var masks = new Tensor[steps];
        for (int t = 0; t < steps; t++)
        {
            var m = new bool[lengths.Length];
            for (int b = 0; b < m.Length; b++) m[b] = t < lengths[b];
            masks[t] = Tensor.FromArray(m, new Shape(lengths.Length, 1));
        }
        return masks;
    }
}
