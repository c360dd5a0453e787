using Backprop.IO.Onnx.Proto;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Tensors;
using static Backprop.IO.Onnx.OnnxGraphBuilder;

namespace Backprop.IO.Onnx;

// Rnn, Lstm and Gru as ONNX's RNN, LSTM and GRU ops, one node per layer (both directions in it), from zero states.
public static partial class OnnxExport
{
    // PyTorch's gate blocks (rows of weight_ih/weight_hh and the biases) in ONNX's order: LSTM i, f, g, o → i, o, f, c (= g);
    // GRU r, z, n → z, r, h (= n), with linear_before_reset = 1 for PyTorch's r·(W_hn h + b_hn); RNN has one block.
    private static readonly int[] LstmGates = [0, 3, 1, 2], GruGates = [1, 0, 2], RnnGates = [0];

    private static string Recurrent(OnnxGraphBuilder g, string path, RecurrentLayer r, OnnxValue x, string hint)
        => Recurrent(g, path, r, x, null, null, null, hint, states: false).Output;

    /// <summary>
    /// The layer from initial states <paramref name="h0"/>/<paramref name="c0"/> ([layers·directions, batch, hidden] graph values; null:
    /// zeros), over the first <paramref name="lengths"/>[b] steps of sequence b (an int64 [batch] graph value; null: all steps) as ONNX's
    /// sequence_lens, which has PyTorch's packed-sequence semantics (zeros past each length, final states after each sequence's last step);
    /// with <paramref name="states"/> also the final states in the same layout (else their names are empty).
    /// </summary>
    internal static (string Output, string H, string? C) Recurrent(OnnxGraphBuilder g, string path, RecurrentLayer r, OnnxValue x, string? h0, string? c0, string? lengths,
                                                                  string hint, bool states = true)
    {
        int rank = x.Example.Rank;
        if (rank is not (2 or 3)) throw Unsupported(path, r, $"input {x.Example.Shape} is not [seq, batch, input], [batch, seq, input] or [seq, input]");
        var (op, gates, extra) = r switch
        {
            Lstm => ("LSTM", LstmGates, Array.Empty<AttributeProto>()),
            Gru => ("GRU", GruGates, [Int("linear_before_reset", 1)]),
            Rnn rnn => ("RNN", RnnGates, [Strings("activations", Enumerable.Repeat(rnn.Nonlinearity == "relu" ? "Relu" : "Tanh", r.Directions).ToArray())]),
            _ => throw Unsupported(path, r, "no ONNX mapping for this recurrent layer"),
        };
        bool lstm = op == "LSTM";
        if (c0 is not null && !lstm) throw Unsupported(path, r, "only an LSTM has a cell state c0");
        var parameters = new Dictionary<string, Parameter>(r.NamedParameters(), StringComparer.Ordinal);
        bool batchFirst = r.BatchFirst && rank == 3;
        // ONNX's recurrent ops take [seq, batch, input] (their layout attribute aside, which runtimes implement unevenly).
        string seq = rank == 2 ? g.Node("Unsqueeze", hint + "_batched", [x.Name, g.Int64Initializer(hint + "_batch_axis", [1])])
                   : batchFirst ? g.Node("Transpose", hint + "_time_first", [x.Name], Ints("perm", 1, 0, 2))
                   : x.Name;
        // States [layers·directions, batch, hidden] (unbatched: without the batch dim).
        if (rank == 2 && h0 is not null) h0 = g.Node("Unsqueeze", hint + "_h0_batched", [h0, g.Int64Initializer(hint + "_state_batch_axis", [1])]);
        if (rank == 2 && c0 is not null) c0 = g.Node("Unsqueeze", hint + "_c0_batched", [c0, g.Int64Initializer(hint + "_state_batch_axis", [1])]);
        string mergedShape = g.Int64Initializer(hint + "_merged_shape", [0, 0, -1]);
        string sequenceLengths = lengths is null ? "" : g.Node("Cast", hint + "_sequence_lens", [lengths], Int("to", (long)TensorProto.Types.DataType.Int32));
        string direction = r.Bidirectional ? "bidirectional" : "forward";
        int dirs = r.Directions;
        var (hn, cn) = (new string[r.NumLayers], new string[r.NumLayers]);
        for (int layer = 0; layer < r.NumLayers; layer++)
        {
            string suffix = $"_l{layer}", layerHint = $"{hint}_l{layer}";
            var (w, rw, b) = (new Tensor[dirs], new Tensor[dirs], new Tensor[dirs]);
            bool bias = parameters.ContainsKey("bias_ih" + suffix);
            for (int d = 0; d < dirs; d++)
            {
                string s = suffix + (d == 1 ? "_reverse" : "");
                w[d] = Reorder(parameters["weight_ih" + s].Data, gates, r.HiddenSize);
                rw[d] = Reorder(parameters["weight_hh" + s].Data, gates, r.HiddenSize);
                if (bias) b[d] = Tensor.Cat([Reorder(parameters["bias_ih" + s].Data, gates, r.HiddenSize), Reorder(parameters["bias_hh" + s].Data, gates, r.HiddenSize)]);
            }
            // Inputs X, W, R, B, sequence_lens, initial_h, initial_c; "" skips an optional one, trailing ones are left off.
            var inputs = new List<string> { seq, g.Initializer(path + $"W{suffix}", Tensor.Stack(w)), g.Initializer(path + $"R{suffix}", Tensor.Stack(rw)),
                                            bias ? g.Initializer(path + $"B{suffix}", Tensor.Stack(b)) : "", sequenceLengths,
                                            h0 is null ? "" : LayerStates(g, h0, layer, dirs, layerHint + "_h0"),
                                            c0 is null ? "" : LayerStates(g, c0, layer, dirs, layerHint + "_c0") };
            while (inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);
            string[] outputs = states ? (lstm ? [layerHint + "_y", layerHint + "_h", layerHint + "_c"] : [layerHint + "_y", layerHint + "_h"]) : [layerHint + "_y"];
            string[] produced = g.Node(op, outputs, inputs.ToArray(), [Int("hidden_size", r.HiddenSize), String("direction", direction), .. extra]);
            if (states) (hn[layer], cn[layer]) = (produced[1], lstm ? produced[2] : "");
            string timeBatch = g.Node("Transpose", layerHint + "_directions_last", [produced[0]], Ints("perm", 0, 2, 1, 3));          // [seq, batch, directions, hidden]
            seq = g.Node("Reshape", rank == 3 && !batchFirst && layer == r.NumLayers - 1 ? hint : layerHint, [timeBatch, mergedShape]); // [seq, batch, directions·hidden]
        }
        string output = rank == 2 ? g.Node("Squeeze", hint, [seq, g.Int64Initializer(hint + "_batch_axis", [1])])
                      : batchFirst ? g.Node("Transpose", hint, [seq], Ints("perm", 1, 0, 2))
                      : seq;
        if (!states) return (output, "", null);
        string Stacked(string[] perLayer, string name)
        {
            string all = perLayer.Length == 1 ? perLayer[0] : g.Node("Concat", hint + "_" + name + "_stacked", perLayer, Int("axis", 0));   // [layers·directions, batch, hidden]
            return rank == 2 ? g.Node("Squeeze", hint + "_" + name, [all, g.Int64Initializer(hint + "_state_batch_axis", [1])]) : all;
        }
        return (output, Stacked(hn, "h"), lstm ? Stacked(cn, "c") : null);
    }

    // Rows layer·directions.. of the states [layers·directions, batch, hidden]: this layer's [directions, batch, hidden].
    private static string LayerStates(OnnxGraphBuilder g, string states, int layer, int dirs, string hint)
        => g.Node("Slice", hint, [states, g.Int64Initializer(hint + "_start", [layer * dirs]), g.Int64Initializer(hint + "_end", [(layer + 1) * dirs]),
                                  g.Int64Initializer(hint + "_axis", [0])]);

    /// <summary>The gate blocks of hidden rows each of <paramref name="t"/> (dim 0) in the order <paramref name="gates"/>.</summary>
    private static Tensor Reorder(Tensor t, int[] gates, int hidden)
    {
        var blocks = new Tensor[gates.Length];
        for (int i = 0; i < gates.Length; i++) blocks[i] = t.Narrow(0, gates[i] * hidden, hidden);
        return Tensor.Cat(blocks).Contiguous();
    }
}
