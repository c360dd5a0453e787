using Backprop.Autograd;
using Backprop.Ops.Attention;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// torch.nn.MultiheadAttention: project query, key and value with <c>in_proj_weight</c> [3E, E] (rows
/// q, k, v) and <c>in_proj_bias</c> [3E], split E into <c>numHeads</c> heads, scaled dot-product attention
/// per head, concatenate, project with <c>out_proj</c> (weight [E, E], bias [E]). Parameter names and
/// layouts are PyTorch's, so state dicts map one to one; initialisation too: in_proj_weight Xavier-uniform,
/// both biases 0, out_proj.weight U(−1/√E, 1/√E). Inputs are [L, N, E] (or [N, L, E] with
/// <c>batchFirst</c>, or unbatched [L, E]). Self-attention (query, key and value the same tensor object)
/// projects q, k and v with one GEMM and attends on the packed result without copying heads.
/// </summary>
/// <remarks>
/// Masks follow PyTorch's MultiheadAttention (not SDPA's) convention: a Bool mask's true = <b>not</b>
/// allowed, a floating mask is added to the scores; an Int64 mask is read as a boolean one (nonzero = not
/// allowed), as before the library had a bool dtype. With <c>kdim</c> or
/// <c>vdim</c> different from E the projections are the separate <c>q_proj_weight</c> [E, E],
/// <c>k_proj_weight</c> [E, kdim] and <c>v_proj_weight</c> [E, vdim] (in_proj_weight absent), as PyTorch;
/// <c>addBiasKv</c> appends the learned <c>bias_k</c>, <c>bias_v</c> [1, 1, E] as one more key and value, and
/// <c>addZeroAttn</c> a zero key and value after the heads are split, masks padded to allow both. One deliberate difference: PyTorch treats
/// <c>isCausal</c> as a hint that <c>attnMask</c> is the causal mask and raises without one; here
/// isCausal applies the causal mask itself (on top of attnMask when one is given), which gives PyTorch's
/// result whenever PyTorch accepts the call. A query whose every key is masked gets weights 0 on the fused
/// path (needWeights false, output = out_proj.bias) and NaN on the needWeights path, as in PyTorch ≥ 2.5,
/// whose fused path is SDPA with its safe softmax and whose weights path a plain softmax.
/// </remarks>
public sealed class MultiheadAttention : Module
{
    private readonly Generator? _generator;

    /// <summary>Creates the layer with PyTorch's initialisation.</summary>
    /// <exception cref="ArgumentException">embedDim is not divisible by numHeads, or dropout is outside [0, 1].</exception>
    /// <param name="embedDim">Model width E (the query's features and the output's).</param>
    /// <param name="numHeads">Heads; E must be divisible by it.</param>
    /// <param name="dropout">Dropout on the attention weights while training.</param>
    /// <param name="bias">Biases on the input and output projections.</param>
    /// <param name="batchFirst">Inputs and outputs are [N, L, E] instead of [L, N, E].</param>
    /// <param name="generator">Initialisation and dropout randomness.</param>
    /// <param name="dtype">Parameter dtype.</param>
    /// <param name="kdim">Features of the key (default E).</param>
    /// <param name="vdim">Features of the value (default E).</param>
    /// <param name="addBiasKv">Append learned bias_k, bias_v to the keys and values.</param>
    /// <param name="addZeroAttn">Append a zero key and value (after the heads are split).</param>
    public MultiheadAttention(int embedDim, int numHeads, double dropout = 0, bool bias = true, bool batchFirst = false,
                              Generator? generator = null, DType dtype = DType.Float32,
                              int? kdim = null, int? vdim = null, bool addBiasKv = false, bool addZeroAttn = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        if (embedDim % numHeads != 0)
            throw new ArgumentException($"MultiheadAttention: embedDim {embedDim} must be divisible by numHeads {numHeads}");
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentException($"MultiheadAttention: dropout must be in [0, 1], got {dropout}");
        (EmbedDim, NumHeads, Dropout, BatchFirst, _generator) = (embedDim, numHeads, dropout, batchFirst, generator);
        (KDim, VDim, AddZeroAttn) = (kdim ?? embedDim, vdim ?? embedDim, addZeroAttn);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(KDim, nameof(kdim));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(VDim, nameof(vdim));
        if (KDim == embedDim && VDim == embedDim)
            InProjWeight = RegisterParameter("in_proj_weight", Init.XavierUniform([3 * embedDim, embedDim], generator: generator, dtype: dtype));
        else
        {
            QProjWeight = RegisterParameter("q_proj_weight", Init.XavierUniform([embedDim, embedDim], generator: generator, dtype: dtype));
            KProjWeight = RegisterParameter("k_proj_weight", Init.XavierUniform([embedDim, KDim], generator: generator, dtype: dtype));
            VProjWeight = RegisterParameter("v_proj_weight", Init.XavierUniform([embedDim, VDim], generator: generator, dtype: dtype));
        }
        if (bias) InProjBias = RegisterParameter("in_proj_bias", Tensor.Zeros([3 * embedDim], dtype));
        else RegisterAbsentParameter("in_proj_bias");
        if (addBiasKv)
        {
            BiasK = RegisterParameter("bias_k", Init.XavierNormal([1, 1, embedDim], generator: generator, dtype: dtype));
            BiasV = RegisterParameter("bias_v", Init.XavierNormal([1, 1, embedDim], generator: generator, dtype: dtype));
        }
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias, generator, dtype));
        if (OutProj.Bias is { } ob)
            using (GradMode.Disable()) ob.Data.ZeroInPlace();
    }

    /// <summary>Model width E.</summary>
    public int EmbedDim { get; }

    /// <summary>Number of heads H.</summary>
    public int NumHeads { get; }

    /// <summary>Size of one head, E / H.</summary>
    public int HeadDim => EmbedDim / NumHeads;

    /// <summary>Dropout probability on the attention weights while training.</summary>
    public double Dropout { get; }

    /// <summary>Whether inputs and outputs are [N, L, E] instead of [L, N, E].</summary>
    public bool BatchFirst { get; }

    /// <summary>Features of the key, kdim (E unless given).</summary>
    public int KDim { get; }

    /// <summary>Features of the value, vdim (E unless given).</summary>
    public int VDim { get; }

    /// <summary>Whether a zero key and value are appended (add_zero_attn).</summary>
    public bool AddZeroAttn { get; }

    /// <summary>[3E, E]: the q, k and v projections stacked (rows 0..E−1 are q); null when kdim or vdim differs from E.</summary>
    public Parameter? InProjWeight { get; }

    /// <summary>[E, E]: the query projection when kdim or vdim differs from E (else null).</summary>
    public Parameter? QProjWeight { get; }

    /// <summary>[E, kdim]: the key projection when kdim or vdim differs from E (else null).</summary>
    public Parameter? KProjWeight { get; }

    /// <summary>[E, vdim]: the value projection when kdim or vdim differs from E (else null).</summary>
    public Parameter? VProjWeight { get; }

    /// <summary>[1, 1, E]: the key appended to every sequence with addBiasKv (else null).</summary>
    public Parameter? BiasK { get; }

    /// <summary>[1, 1, E]: the value appended to every sequence with addBiasKv (else null).</summary>
    public Parameter? BiasV { get; }

    // Self-attention can project q, k and v with one GEMM and attend on the packed result.
    private bool Packable => InProjWeight is not null && BiasK is null && !AddZeroAttn;

    /// <summary>[3E], or null without bias.</summary>
    public Parameter? InProjBias { get; }

    /// <summary>The output projection (E → E).</summary>
    public Linear OutProj { get; }

    /// <summary>Self-attention without masks: the output of <c>Forward(x, x, x, needWeights: false)</c>.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, input, input, needWeights: false).Output;

    /// <summary>
    /// Attention of <paramref name="query"/> [L, N, E] over <paramref name="key"/> [S, N, E] and
    /// <paramref name="value"/> [S, N, E] (batch first: [N, L, E], …; unbatched: [L, E], …), as
    /// torch.nn.MultiheadAttention.forward. Returns the output (the query's layout) and, when
    /// <paramref name="needWeights"/>, the attention weights (after dropout, as PyTorch) [N, L, S] averaged
    /// over heads or [N, H, L, S] (unbatched: without N).
    /// </summary>
    /// <param name="query">Queries.</param>
    /// <param name="key">Keys.</param>
    /// <param name="value">Values.</param>
    /// <param name="keyPaddingMask">[N, S] (unbatched [S]): Bool true (or Int64 nonzero) = ignore that key; floating = added to its scores.</param>
    /// <param name="needWeights">Also return the weights (computed with separate ops; false takes the fused path).</param>
    /// <param name="attnMask">[L, S] or [N·H, L, S]: Bool true (or Int64 nonzero) = not allowed; floating = added.</param>
    /// <param name="averageAttnWeights">Average the returned weights over heads.</param>
    /// <param name="isCausal">Query i attends keys j ≤ i only (see the remarks on the class).</param>
    /// <exception cref="ArgumentException">A shape does not fit (the message names it and what was expected).</exception>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null, bool needWeights = true,
                                                    Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        bool self = ReferenceEquals(query, key) && ReferenceEquals(key, value);
        if (query.Rank == 2)
        {
            CheckInputs(query, key, value, batched: false);
            int b = BatchFirst ? 0 : 1;
            Tensor q1 = query.Unsqueeze(b), k1 = self ? q1 : key.Unsqueeze(b), v1 = self ? q1 : value.Unsqueeze(b);
            var (o, w) = Forward(q1, k1, v1, keyPaddingMask?.Unsqueeze(0), needWeights, attnMask, averageAttnWeights, isCausal);
            return (o.Squeeze(b), w?.Squeeze(0));
        }
        CheckInputs(query, key, value, batched: true);
        int n = BatchFirst ? query.Shape[0] : query.Shape[1], L = BatchFirst ? query.Shape[1] : query.Shape[0];
        int S = BatchFirst ? key.Shape[1] : key.Shape[0];
        Tensor? mask = CombinedMask(attnMask, keyPaddingMask, n, L, S);
        double p = Training ? Dropout : 0;

        if (self && !needWeights && Packable)
        {
            Tensor qkv = Functional.Linear(query, InProjWeight!, InProjBias);                     // [N, L, 3E] or [L, N, 3E]
            Tensor attended = ScaledDotProductAttentionNode.ForwardPacked(qkv, NumHeads, BatchFirst, mask, isCausal, p, _generator);
            return (OutProj.Call(attended), null);
        }

        if (isCausal && (BiasK is not null || AddZeroAttn))
        {
            // The causal mask covers the given keys; the appended ones stay visible to every query.
            Tensor causal = Tensor.Full(new Shape(L, S), double.NegativeInfinity, query.DType).Triu(1);
            mask = mask is null ? causal : mask + causal;
            isCausal = false;
        }
        Tensor q = Heads(Project(query, 0), n, L), kp = Project(key, 1), vp = Project(value, 2);         // [N, H, L, D], [N, S, E]
        if (BiasK is not null)
        {
            kp = Tensor.Cat([kp, BiasK.Data.Expand(n, 1, EmbedDim)], 1);                          // [N, S + 1, E]
            vp = Tensor.Cat([vp, BiasV!.Data.Expand(n, 1, EmbedDim)], 1);
            mask = PadKeys(mask);
            S++;
        }
        Tensor k = Heads(kp, n, S), v = Heads(vp, n, S);                                            // [N, H, S, D]
        if (AddZeroAttn)
        {
            Tensor zero = Tensor.Zeros([n, NumHeads, 1, HeadDim], k.DType);
            k = Tensor.Cat([k, zero], 2);
            v = Tensor.Cat([v, zero], 2);
            mask = PadKeys(mask);
            S++;
        }
        Tensor y, weights;
        if (!needWeights)
        {
            y = ScaledDotProductAttentionNode.Attend(q, k, v, mask, isCausal, 1 / Math.Sqrt(HeadDim), p, _generator);
            weights = null!;
        }
        else
        {
            Tensor scores = (q * Math.Sqrt(1.0 / HeadDim)).MatMul(k.T());                         // [N, H, L, S]
            if (mask is not null) scores = scores + mask;
            if (isCausal) scores = scores + Tensor.Full(new Shape(L, S), double.NegativeInfinity, query.DType).Triu(1);
            weights = scores.Softmax(-1);
            if (p > 0) weights = Functional.Dropout(weights, p, training: true, _generator);
            y = weights.MatMul(v);
        }
        Tensor merged = y.Transpose(1, 2).Reshape(n, L, EmbedDim);                                // [N, H, L, D] -> [N, L, E]
        Tensor output = OutProj.Call(merged);
        if (!BatchFirst) output = output.Transpose(0, 1);
        return (output, needWeights ? (averageAttnWeights ? weights.Mean(1) : weights) : null);
    }

    /// <summary>
    /// Causal self-attention over <paramref name="x"/> ([N, T, E] batch first, else [T, N, E]). With a
    /// <paramref name="cache"/>, x holds only the new positions: their keys and values are appended to
    /// the cache and each new query attends every cached position up to its own (inference only).
    /// Without one, the same as <c>Forward(x, x, x, needWeights: false, isCausal: true)</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A cache is given while gradients are recorded, or it is full.</exception>
    public Tensor Forward(Tensor x, KeyValueCache? cache)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (cache is null) return Forward(x, x, x, needWeights: false, isCausal: true).Output;
        if (GradMode.IsEnabled)
            throw new InvalidOperationException("MultiheadAttention: a key/value cache is for inference; run the forward inside `using (GradMode.Disable())`");
        if (!Packable)
            throw new InvalidOperationException("MultiheadAttention: a key/value cache needs the packed in_proj_weight and no add_bias_kv/add_zero_attn (kdim = vdim = E)");
        if (x.Rank != 3 || x.Shape[2] != EmbedDim)
            throw new ArgumentException($"MultiheadAttention: with a cache the input must be {(BatchFirst ? "[N, T, E]" : "[T, N, E]")} with E = {EmbedDim}, got {x.Shape}");
        var packing = new ScaledDotProductAttentionNode.Packing(NumHeads, BatchFirst);
        Tensor qkv = Functional.Linear(x, InProjWeight!, InProjBias).Contiguous();               // [N, T, 3E] or [T, N, 3E]
        var (q, k, v) = ScaledDotProductAttentionNode.PackedViews(qkv, packing);                  // [N, H, T, D] views
        var (keys, values) = cache.Append(k, v);                                                 // [N, H, cached, D]
        var y = Tensor.Uninitialized(new Shape(x.Shape[0], x.Shape[1], EmbedDim), x.DType);
        ScaledDotProductAttentionNode.Infer(q, keys, values, causal: true, causalOffset: keys.Shape[2] - q.Shape[2],
                                            ScaledDotProductAttentionNode.HeadsView(y, packing, EmbedDim));
        return OutProj.Call(y);
    }

    /// <summary>A mask broadcastable to [N, H, L, S] widened by one key that every query may attend (a zero column), or null.</summary>
    private static Tensor? PadKeys(Tensor? mask)
    {
        if (mask is null) return null;
        var dims = mask.Shape.ToArray();
        dims[^1] = 1;
        return Tensor.Cat([mask, Tensor.Zeros(new Shape(dims), mask.DType)], mask.Rank - 1);
    }

    /// <summary>Input i (0 = query, 1 = key, 2 = value) times its projection (rows of in_proj_weight, or q/k/v_proj_weight), in the batch-first layout [N, ·, E].</summary>
    private Tensor Project(Tensor x, int i)
    {
        Tensor w = InProjWeight is { } packed ? packed.Data.Narrow(0, i * EmbedDim, EmbedDim)
                 : (i == 0 ? QProjWeight! : i == 1 ? KProjWeight! : VProjWeight!).Data;
        Tensor? b = InProjBias?.Data.Narrow(0, i * EmbedDim, EmbedDim);
        Tensor y = Functional.Linear(x, w, b);
        return BatchFirst ? y : y.Transpose(0, 1);
    }

    /// <summary>[N, len, E] -> [N, H, len, D] (a view).</summary>
    private Tensor Heads(Tensor x, int n, int len) => x.Reshape(n, len, NumHeads, HeadDim).Transpose(1, 2);

    private void CheckInputs(Tensor query, Tensor key, Tensor value, bool batched)
    {
        string layout = !batched ? "[L, E]" : BatchFirst ? "[N, L, E]" : "[L, N, E]";
        if (query.Rank != (batched ? 3 : 2) || key.Rank != query.Rank || value.Rank != query.Rank)
            throw new ArgumentException($"MultiheadAttention: query, key and value must all be {layout} (3-D batched or 2-D unbatched), got query {query.Shape}, key {key.Shape}, value {value.Shape}");
        if (query.Size(-1) != EmbedDim || key.Size(-1) != KDim || value.Size(-1) != VDim)
            throw new ArgumentException($"MultiheadAttention: query {query.Shape}, key {key.Shape} and value {value.Shape} must have {EmbedDim}, {KDim} and {VDim} features (embedDim, kdim, vdim)");
        for (int d = 0; d < key.Rank - 1; d++)
            if (key.Shape[d] != value.Shape[d])
                throw new ArgumentException($"MultiheadAttention: key {key.Shape} and value {value.Shape} must have the same sequence and batch sizes");
        int nd = BatchFirst ? 0 : 1;
        if (batched && query.Shape[nd] != key.Shape[nd])
            throw new ArgumentException($"MultiheadAttention: query {query.Shape} and key {key.Shape} have different batch sizes ({layout})");
    }

    /// <summary>attnMask and keyPaddingMask as one additive mask broadcastable to [N, H, L, S], or null.</summary>
    private Tensor? CombinedMask(Tensor? attnMask, Tensor? keyPaddingMask, int n, int L, int S)
    {
        Tensor? mask = null;
        if (attnMask is not null)
        {
            bool fits = attnMask.Rank == 2 ? attnMask.Shape == new Shape(L, S)
                      : attnMask.Rank == 3 && attnMask.Shape == new Shape(n * NumHeads, L, S);
            if (!fits)
                throw new ArgumentException($"MultiheadAttention: attnMask {attnMask.Shape} should be [L, S] = [{L}, {S}] or [N·H, L, S] = [{n * NumHeads}, {L}, {S}]");
            mask = Additive(attnMask, "attnMask");
            if (mask.Rank == 3) mask = mask.Reshape(n, NumHeads, L, S);
        }
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.Shape != new Shape(n, S))
                throw new ArgumentException($"MultiheadAttention: keyPaddingMask {keyPaddingMask.Shape} should be [N, S] = [{n}, {S}]");
            Tensor kpm = Additive(keyPaddingMask, "keyPaddingMask").Reshape(n, 1, 1, S);
            mask = mask is null ? kpm : mask + kpm;
        }
        return mask;
    }

    /// <summary>
    /// A bool mask (true = masked, as PyTorch) as 0/−∞, or a floating mask as it is. An Int64 mask (nonzero =
    /// masked) is still taken as a boolean one: it was the boolean mask before the library had a bool dtype.
    /// </summary>
    private Tensor Additive(Tensor mask, string name)
    {
        if (mask.DType == DType.Bool || mask.DType == DType.Int64)
            return Tensor.Zeros(mask.Shape, OutProj.Weight.DType).MaskedFill(mask.DType == DType.Bool ? mask : mask.Ne(0), double.NegativeInfinity);
        if (mask.DType != OutProj.Weight.DType)
            throw new ArgumentException($"MultiheadAttention: {name} must be Bool (true = masked) or {OutProj.Weight.DType.Name()} (added to the scores), got {mask.DType.Name()} {mask.Shape}");
        return mask;
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"MultiheadAttention(E={EmbedDim}, heads={NumHeads}{(KDim != EmbedDim ? $", kdim={KDim}" : "")}{(VDim != EmbedDim ? $", vdim={VDim}" : "")}"
        + $"{(Dropout > 0 ? $", dropout={Dropout}" : "")}{(BiasK is not null ? ", bias_kv" : "")}{(AddZeroAttn ? ", zero_attn" : "")}{(BatchFirst ? ", batch first" : "")})";
}
