using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;
using static Backprop.IO.Onnx.OnnxGraphBuilder;

namespace Backprop.IO.Onnx;

// Sequence layers: position embeddings, multi-head self-attention, the pre-LN transformer block. Sequence lengths are
// read from the input at run time (Shape, Slice, Range), so the time dim may be symbolic as well as the batch.
public static partial class OnnxExport
{
    /// <summary>Rows 0..T−1 of <paramref name="table"/> [maxLength, dim], T = dim <paramref name="dim"/> of <paramref name="input"/> at run time.</summary>
    internal static string LeadingRows(OnnxGraphBuilder g, string hint, string table, string input, int dim)
    {
        string length = g.Node("Shape", hint + "_length", [input], Int("start", dim), Int("end", dim + 1));           // [1]
        return g.Node("Slice", hint, [table, g.Int64Initializer(hint + "_zero", [0]), length, g.Int64Initializer(hint + "_axis", [0])]);
    }

    // input [..., T, dim] + table rows 0..T−1; the table is a constant of the graph (not a parameter).
    private static string SinusoidalPositions(OnnxGraphBuilder g, string path, SinusoidalPositionEmbedding s, OnnxValue x, string hint)
    {
        if (x.Example.Rank < 2) throw Unsupported(path, s, $"input {x.Example.Shape} is not [..., T, {s.Dim}]");
        Tensor table = s.Table.DType == g.DType ? s.Table : s.Table.To(g.DType);
        string rows = LeadingRows(g, hint + "_rows", g.Initializer(path + "table", table), x.Name, x.Example.Rank - 2);
        return g.Node("Add", hint, [x.Name, rows]);
    }

    // x + Attn(LN1(x)) (causal), then + FC2(GELU(FC1(LN2(x)))), GELU the erf form (the fused FeedForwardNode's); dropout removed.
    private static string TransformerBlock(OnnxGraphBuilder g, string path, TransformerBlock b, OnnxValue x)
    {
        string hint = Hint(path, "block");
        if (x.Example.Rank != 3) throw Unsupported(path, b, $"input {x.Example.Shape} is not [N, T, {b.DModel}]");
        OnnxValue h1 = Emit(g, b.Ln1, path + "ln1.", x);
        string attended = Attention(g, path + "attn.", b.Attn, h1, h1, h1, causal: true, hint + "_attn");
        string mid = g.Node("Add", hint + "_residual1", [x.Name, attended]);
        Tensor midExample = x.Example + b.Attn.Forward(h1.Example, h1.Example, h1.Example, needWeights: false, isCausal: true).Output;
        OnnxValue h2 = Emit(g, b.Ln2, path + "ln2.", new OnnxValue(mid, midExample));
        string hidden = Linear(g, path + "fc1.", h2, b.Fc1.Weight, b.Fc1.Bias, hint + "_fc1");
        var activated = new OnnxValue(Gelu(g, GeluApproximation.None, hidden, hint + "_gelu"), b.Fc1.Call(h2.Example).Gelu());
        string projected = Linear(g, path + "fc2.", activated, b.Fc2.Weight, b.Fc2.Bias, hint + "_fc2");
        return g.Node("Add", hint, [mid, projected]);
    }

    // Attention as MultiheadAttention's forward computes it (needWeights false): q, k, v = query/key/value·W_{q,k,v}ᵀ + b (rows of
    // in_proj_weight, or q/k/v_proj_weight), bias_k/bias_v appended as one more key and value, heads [N, H, ·, D], a zero key and value
    // appended (add_zero_attn), softmax(q·kᵀ/√D + masks)·v, heads merged, out_proj. Batch first inside: [L, N, E] is transposed in and
    // out, an unbatched [L, E] gets a batch dim of 1. Masks (graph values) as the forward takes them: keyPaddingMask [N, S] (unbatched
    // [S]), attnMask [L, S] or [N·H, L, S], and the causal mask over the given keys (appended keys stay visible to every query).
    internal static string Attention(OnnxGraphBuilder g, string path, MultiheadAttention a, OnnxValue query, OnnxValue key, OnnxValue value, bool causal, string hint,
                                     OnnxValue? keyPaddingMask = null, OnnxValue? attnMask = null)
    {
        int rank = query.Example.Rank, e = a.EmbedDim, heads = a.NumHeads, d = a.HeadDim;
        if (rank is not (2 or 3) || key.Example.Rank != rank || value.Example.Rank != rank)
            throw Unsupported(path, a, $"query {query.Example.Shape}, key {key.Example.Shape} and value {value.Example.Shape} are not all [L, N, E], [N, L, E] or [L, E]");
        var batchFirst = new Dictionary<string, string>(StringComparer.Ordinal);
        string BatchFirst(OnnxValue x, string name)                                                                              // [N, ·, features]
        {
            if (batchFirst.TryGetValue(x.Name, out string? done)) return done;
            return batchFirst[x.Name] = rank == 2 ? g.Node("Unsqueeze", hint + "_" + name + "_batched", [x.Name, g.Int64Initializer(hint + "_batch_axis", [0])])
                                      : a.BatchFirst ? x.Name
                                      : g.Node("Transpose", hint + "_" + name + "_batch_first", [x.Name], Ints("perm", 1, 0, 2));
        }
        string qIn = BatchFirst(query, "query"), kIn = BatchFirst(key, "key"), vIn = BatchFirst(value, "value");
        string Project(int i, string name, string input)                                                                         // [N, ·, E]
        {
            Tensor w = a.InProjWeight is { } packed ? packed.Data.Narrow(0, i * e, e) : (i == 0 ? a.QProjWeight! : i == 1 ? a.KProjWeight! : a.VProjWeight!).Data;
            string weightName = a.InProjWeight is null ? $"{name}_proj_weight_t" : $"in_proj_weight_{name}_t";
            Tensor? bias = a.InProjBias?.Data.Narrow(0, i * e, e);
            string projected = g.Node("MatMul", hint + "_" + name + (bias is null ? "" : "_matmul"), [input, g.Initializer(path + weightName, w.Transpose(0, 1).Contiguous())]);
            return bias is null ? projected : g.Node("Add", hint + "_" + name, [projected, g.Initializer(path + $"in_proj_bias_{name}", bias.Contiguous())]);
        }
        string qp = Project(0, "q", qIn), kp = Project(1, "k", kIn), vp = Project(2, "v", vIn);
        int appended = 0;
        if (a.BiasK is not null)
        {
            // [N, S, E] -> [N, S + 1, E]: bias_k/bias_v [1, 1, E] expanded over the batch
            string perSequence = g.Node("Concat", hint + "_bias_kv_shape", [g.Node("Shape", hint + "_batch_size", [kp], Int("start", 0), Int("end", 1)),
                                        g.Int64Initializer(hint + "_bias_kv_row", [1, e])], Int("axis", 0));
            kp = g.Node("Concat", hint + "_k_bias", [kp, g.Node("Expand", hint + "_bias_k", [g.Initializer(path + "bias_k", a.BiasK.Data), perSequence])], Int("axis", 1));
            vp = g.Node("Concat", hint + "_v_bias", [vp, g.Node("Expand", hint + "_bias_v", [g.Initializer(path + "bias_v", a.BiasV!.Data), perSequence])], Int("axis", 1));
            appended++;
        }
        string headsShape = g.Int64Initializer(hint + "_heads_shape", [0, 0, heads, d]);
        string Heads(string x, string name) => g.Node("Transpose", hint + "_" + name + "_heads", [g.Node("Reshape", hint + "_" + name + "_split", [x, headsShape])],
                                                      Ints("perm", 0, 2, 1, 3));                                                    // [N, H, ·, D]
        string q = Heads(qp, "q"), k = Heads(kp, "k"), v = Heads(vp, "v");
        if (a.AddZeroAttn)
        {
            string zeroKey = g.Int64Initializer(hint + "_zero_key_pads", [0, 0, 0, 0, 0, 0, 1, 0]);                               // one more row on dim 2
            (k, v) = (g.Node("Pad", hint + "_k_zero", [k, zeroKey]), g.Node("Pad", hint + "_v_zero", [v, zeroKey]));
            appended++;
        }
        string kT = g.Node("Transpose", hint + "_k_t", [k], Ints("perm", 0, 1, 3, 2));
        string scores = g.Node("Mul", hint + "_scores", [g.Node("MatMul", hint + "_qk", [q, kT]), g.Scalar(hint + "_scale", 1 / Math.Sqrt(d))]);
        // One additive mask broadcastable to [N, H, L, S] over the given keys, then widened by a 0 column per appended key.
        (string Name, int Rank)? mask = null;
        void AddMask(string m, int maskRank, string name) =>
            mask = mask is var (prev, prevRank) ? (g.Node("Add", hint + "_" + name, [prev, m]), Math.Max(prevRank, maskRank)) : (m, maskRank);
        if (attnMask is { } am)
        {
            string additive = Additive(g, path, a, am, hint + "_attn_mask");
            if (am.Example.Rank == 3)
            {
                // [N·H, L, S] -> [N, H, L, S], L and S read from the mask
                string shape = g.Node("Concat", hint + "_attn_mask_shape", [g.Int64Initializer(hint + "_attn_mask_heads", [-1, heads]),
                                      g.Node("Shape", hint + "_attn_mask_sizes", [am.Name], Int("start", 1))], Int("axis", 0));
                additive = g.Node("Reshape", hint + "_attn_mask_heads", [additive, shape]);
            }
            AddMask(additive, am.Example.Rank == 3 ? 4 : 2, "attn_mask_added");
        }
        if (keyPaddingMask is { } kpm)
        {
            long[] axes = rank == 2 ? [0, 1, 2] : [1, 2];                                                                      // [N, S] -> [N, 1, 1, S]
            AddMask(g.Node("Unsqueeze", hint + "_key_padding", [Additive(g, path, a, kpm, hint + "_key_padding"), g.Int64Initializer(hint + "_key_padding_axes", axes)]),
                    4, "key_padding_added");
        }
        if (causal) AddMask(CausalMask(g, qIn, kIn, hint), 2, "causal_added");
        if (mask is var (combined, maskRank))
        {
            if (appended > 0)
            {
                var pads = new long[2 * maskRank];
                pads[^1] = appended;                                                                                               // end of the last dim
                combined = g.Node("Pad", hint + "_mask_appended_keys", [combined, g.Int64Initializer(hint + "_mask_pads", pads)]);
            }
            scores = g.Node("Add", hint + "_masked_scores", [scores, combined]);
        }
        string weights = g.Node("Softmax", hint + "_weights", [scores], Int("axis", -1));
        if (keyPaddingMask is not null || attnMask is not null)
        {
            // A query whose every key is masked gets weights 0, as the engine's fused path (a safe softmax), not NaN.
            string rowMax = g.Node("ReduceMax", hint + "_row_max", [scores], Ints("axes", -1), Int("keepdims", 1));
            string none = g.Node("Equal", hint + "_no_key", [rowMax, g.Scalar(hint + "_minus_inf", double.NegativeInfinity)]);
            weights = g.Node("Where", hint + "_safe_weights", [none, g.Scalar(hint + "_zero_weight", 0), weights]);
        }
        string merged = g.Node("Transpose", hint + "_merge", [g.Node("MatMul", hint + "_attended", [weights, v])], Ints("perm", 0, 2, 1, 3));  // [N, L, H, D]
        var concatenated = new OnnxValue(g.Node("Reshape", hint + "_concat", [merged, g.Int64Initializer(hint + "_merged_shape", [0, 0, e])]), Tensor.Zeros([1, 1, e], g.DType));
        string output = Linear(g, path + "out_proj.", concatenated, a.OutProj.Weight, a.OutProj.Bias, rank == 3 && a.BatchFirst ? hint : hint + "_out");
        return rank == 2 ? g.Node("Squeeze", hint, [output, g.Int64Initializer(hint + "_batch_axis", [0])])
             : a.BatchFirst ? output
             : g.Node("Transpose", hint, [output], Ints("perm", 1, 0, 2));
    }

    // A mask as the module reads it: Bool true (or Int64 nonzero) = masked, as 0/−∞; a float mask (the graph's type) is added as it is.
    private static string Additive(OnnxGraphBuilder g, string path, MultiheadAttention a, OnnxValue mask, string hint)
    {
        if (mask.Example.DType == g.DType) return mask.Name;
        string masked = mask.Example.DType switch
        {
            DType.Bool => mask.Name,
            DType.Int64 => g.Node("Cast", hint + "_bool", [mask.Name], Int("to", (long)Proto.TensorProto.Types.DataType.Bool)),
            _ => throw Unsupported(path, a, $"a mask of dtype {mask.Example.DType} (Bool, Int64 or the graph's {g.DType} are exported)"),
        };
        return g.Node("Where", hint + "_additive", [masked, g.Scalar(hint + "_minus_inf", double.NegativeInfinity), g.Scalar(hint + "_allowed", 0)]);
    }

    // [L, S]: 0 where key j ≤ query i, −∞ after it (top left aligned), L and S read from the batch-first query and key [N, ·, ·] at run time.
    private static string CausalMask(OnnxGraphBuilder g, string query, string key, string hint)
    {
        string zero = g.Int64Initializer(hint + "_zero", [0], scalar: true), one = g.Int64Initializer(hint + "_one", [1], scalar: true);
        string Positions(string x, string name) => g.Node("Range", hint + "_" + name + "_positions",
            [zero, g.Node("Squeeze", hint + "_" + name + "_length", [g.Node("Shape", hint + "_" + name + "_length_1", [x], Int("start", 1), Int("end", 2))]), one]);
        string queries = g.Node("Unsqueeze", hint + "_queries", [Positions(query, "query"), g.Int64Initializer(hint + "_column_axis", [1])]);  // [L, 1]
        string keys = g.Node("Unsqueeze", hint + "_keys", [Positions(key, "key"), g.Int64Initializer(hint + "_row_axis", [0])]);               // [1, S]
        string future = g.Node("Greater", hint + "_future", [keys, queries]);
        return g.Node("Where", hint + "_causal_mask", [future, g.Scalar(hint + "_minus_inf", double.NegativeInfinity), g.Scalar(hint + "_no_mask", 0)]);
    }
}
