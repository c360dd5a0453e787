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
        string attended = SelfAttention(g, path + "attn.", b.Attn, h1, causal: true, hint + "_attn");
        string mid = g.Node("Add", hint + "_residual1", [x.Name, attended]);
        Tensor midExample = x.Example + b.Attn.Forward(h1.Example, h1.Example, h1.Example, needWeights: false, isCausal: true).Output;
        OnnxValue h2 = Emit(g, b.Ln2, path + "ln2.", new OnnxValue(mid, midExample));
        string hidden = Linear(g, path + "fc1.", h2, b.Fc1.Weight, b.Fc1.Bias, hint + "_fc1");
        var activated = new OnnxValue(Gelu(g, GeluApproximation.None, hidden, hint + "_gelu"), b.Fc1.Call(h2.Example).Gelu());
        string projected = Linear(g, path + "fc2.", activated, b.Fc2.Weight, b.Fc2.Bias, hint + "_fc2");
        return g.Node("Add", hint, [mid, projected]);
    }

    // Self-attention as MultiheadAttention computes it with query = key = value: q, k, v = x·W_{q,k,v}ᵀ + b (rows of in_proj_weight),
    // heads [N, H, T, D], softmax(q·kᵀ/√D (+ causal mask)) · v, heads merged, out_proj. Batch first inside; [T, N, E] is transposed
    // in and out, an unbatched [T, E] gets a batch dim of 1.
    // Masks (graph values) as the module's forward takes them: keyPaddingMask [N, S] (unbatched [S]), attnMask [L, S] or [N·H, L, S].
    internal static string SelfAttention(OnnxGraphBuilder g, string path, MultiheadAttention a, OnnxValue x, bool causal, string hint,
                                         OnnxValue? keyPaddingMask = null, OnnxValue? attnMask = null)
    {
        if (a.InProjWeight is null || a.BiasK is not null || a.AddZeroAttn)
            throw Unsupported(path, a, "only the packed in_proj_weight is exported (kdim = vdim = embedDim, no add_bias_kv, no add_zero_attn)");
        int rank = x.Example.Rank, e = a.EmbedDim, heads = a.NumHeads, d = a.HeadDim;
        if (rank is not (2 or 3)) throw Unsupported(path, a, $"input {x.Example.Shape} is not [L, N, E], [N, L, E] or [L, E]");
        string input = rank == 2 ? g.Node("Unsqueeze", hint + "_batched", [x.Name, g.Int64Initializer(hint + "_batch_axis", [0])])
                     : a.BatchFirst ? x.Name
                     : g.Node("Transpose", hint + "_batch_first", [x.Name], Ints("perm", 1, 0, 2));          // [N, L, E]
        Tensor w = a.InProjWeight.Data;
        string headsShape = g.Int64Initializer(hint + "_heads_shape", [0, 0, heads, d]);
        string Head(int i, string name, long[] perm)
        {
            Tensor? bias = a.InProjBias?.Data.Narrow(0, i * e, e);
            string wt = g.Initializer(path + $"in_proj_weight_{name}_t", w.Narrow(0, i * e, e).Transpose(0, 1).Contiguous());
            string projected = g.Node("MatMul", hint + "_" + name + (bias is null ? "" : "_matmul"), [input, wt]);
            if (bias is not null) projected = g.Node("Add", hint + "_" + name, [projected, g.Initializer(path + $"in_proj_bias_{name}", bias.Contiguous())]);
            string split = g.Node("Reshape", hint + "_" + name + "_split", [projected, headsShape]);
            return g.Node("Transpose", hint + "_" + name + "_heads", [split], Ints("perm", perm));
        }
        string q = Head(0, "q", [0, 2, 1, 3]), kT = Head(1, "k", [0, 2, 3, 1]), v = Head(2, "v", [0, 2, 1, 3]);  // [N, H, L, D], [N, H, D, L], [N, H, L, D]
        string scores = g.Node("Mul", hint + "_scores", [g.Node("MatMul", hint + "_qk", [q, kT]), g.Scalar(hint + "_scale", 1 / Math.Sqrt(d))]);
        if (causal) scores = g.Node("Add", hint + "_causal_scores", [scores, CausalMask(g, input, hint)]);
        if (keyPaddingMask is { } kpm)
        {
            // [N, S] -> [N, 1, 1, S] (unbatched [S] -> [1, 1, 1, S])
            long[] axes = rank == 2 ? [0, 1, 2] : [1, 2];
            string padding = g.Node("Unsqueeze", hint + "_key_padding", [Additive(g, path, a, kpm, hint + "_key_padding"), g.Int64Initializer(hint + "_key_padding_axes", axes)]);
            scores = g.Node("Add", hint + "_padded_scores", [scores, padding]);
        }
        if (attnMask is { } am)
        {
            string mask = Additive(g, path, a, am, hint + "_attn_mask");
            if (am.Example.Rank == 3)
            {
                // [N·H, L, S] -> [N, H, L, S], L and S read from the mask
                string shape = g.Node("Concat", hint + "_attn_mask_shape", [g.Int64Initializer(hint + "_attn_mask_heads", [-1, heads]),
                                      g.Node("Shape", hint + "_attn_mask_sizes", [am.Name], Int("start", 1))], Int("axis", 0));
                mask = g.Node("Reshape", hint + "_attn_mask_heads", [mask, shape]);
            }
            scores = g.Node("Add", hint + "_masked_scores", [scores, mask]);
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

    // [L, L]: 0 where key j ≤ query i, −∞ after it, L read from the batch-first input [N, L, E] at run time.
    private static string CausalMask(OnnxGraphBuilder g, string input, string hint)
    {
        string length = g.Node("Squeeze", hint + "_length", [g.Node("Shape", hint + "_length_1", [input], Int("start", 1), Int("end", 2))]);
        string positions = g.Node("Range", hint + "_positions", [g.Int64Initializer(hint + "_zero", [0], scalar: true), length, g.Int64Initializer(hint + "_one", [1], scalar: true)]);
        string queries = g.Node("Unsqueeze", hint + "_queries", [positions, g.Int64Initializer(hint + "_column_axis", [1])]);  // [L, 1]
        string keys = g.Node("Unsqueeze", hint + "_keys", [positions, g.Int64Initializer(hint + "_row_axis", [0])]);           // [1, L]
        string future = g.Node("Greater", hint + "_future", [keys, queries]);
        return g.Node("Where", hint + "_causal_mask", [future, g.Scalar(hint + "_minus_inf", double.NegativeInfinity), g.Scalar(hint + "_no_mask", 0)]);
    }
}
