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
        var parameters = new Dictionary<string, Parameter>(r.NamedParameters(), StringComparer.Ordinal);
        bool batchFirst = r.BatchFirst && rank == 3;
        // ONNX's recurrent ops take [seq, batch, input] (their layout attribute aside, which runtimes implement unevenly).
        string seq = rank == 2 ? g.Node("Unsqueeze", hint + "_batched", [x.Name, g.Int64Initializer(hint + "_batch_axis", [1])])
                   : batchFirst ? g.Node("Transpose", hint + "_time_first", [x.Name], Ints("perm", 1, 0, 2))
                   : x.Name;
        string mergedShape = g.Int64Initializer(hint + "_merged_shape", [0, 0, -1]);
        string direction = r.Bidirectional ? "bidirectional" : "forward";
        for (int layer = 0; layer < r.NumLayers; layer++)
        {
            string suffix = $"_l{layer}", layerHint = $"{hint}_l{layer}";
            var (w, rw, b) = (new Tensor[r.Directions], new Tensor[r.Directions], new Tensor[r.Directions]);
            bool bias = parameters.ContainsKey("bias_ih" + suffix);
            for (int d = 0; d < r.Directions; d++)
            {
                string s = suffix + (d == 1 ? "_reverse" : "");
                w[d] = Reorder(parameters["weight_ih" + s].Data, gates, r.HiddenSize);
                rw[d] = Reorder(parameters["weight_hh" + s].Data, gates, r.HiddenSize);
                if (bias) b[d] = Tensor.Cat([Reorder(parameters["bias_ih" + s].Data, gates, r.HiddenSize), Reorder(parameters["bias_hh" + s].Data, gates, r.HiddenSize)]);
            }
            string[] inputs = bias
                ? [seq, g.Initializer(path + $"W{suffix}", Tensor.Stack(w)), g.Initializer(path + $"R{suffix}", Tensor.Stack(rw)), g.Initializer(path + $"B{suffix}", Tensor.Stack(b))]
                : [seq, g.Initializer(path + $"W{suffix}", Tensor.Stack(w)), g.Initializer(path + $"R{suffix}", Tensor.Stack(rw))];
            string y = g.Node(op, layerHint + "_y", inputs, [Int("hidden_size", r.HiddenSize), String("direction", direction), .. extra]);  // [seq, directions, batch, hidden]
            string timeBatch = g.Node("Transpose", layerHint + "_directions_last", [y], Ints("perm", 0, 2, 1, 3));                  // [seq, batch, directions, hidden]
            seq = g.Node("Reshape", rank == 3 && !batchFirst && layer == r.NumLayers - 1 ? hint : layerHint, [timeBatch, mergedShape]); // [seq, batch, directions·hidden]
        }
        return rank == 2 ? g.Node("Squeeze", hint, [seq, g.Int64Initializer(hint + "_batch_axis", [1])])
             : batchFirst ? g.Node("Transpose", hint, [seq], Ints("perm", 1, 0, 2))
             : seq;
    }

    /// <summary>The gate blocks of hidden rows each of <paramref name="t"/> (dim 0) in the order <paramref name="gates"/>.</summary>
    private static Tensor Reorder(Tensor t, int[] gates, int hidden)
    {
        var blocks = new Tensor[gates.Length];
        for (int i = 0; i < gates.Length; i++) blocks[i] = t.Narrow(0, gates[i] * hidden, hidden);
        return Tensor.Cat(blocks).Contiguous();
    }
}
