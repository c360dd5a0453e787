using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Attention;
using Backprop.Tensors;

namespace Backprop.Ops.Attention;

/// <summary>
/// torch.nn.functional.scaled_dot_product_attention as one op with its own fused forward and backward
/// (<see cref="AttentionKernel"/>): y = dropout(softmax(scale·q·kᵀ + mask))·v for q [..., L, E],
/// k [..., S, E], v [..., S, Ev], batch dims broadcast. The weights before dropout, [..., L, S], are the
/// one tensor saved. q, k and v are read in place through their strides (heads of a projection need no
/// copy), and a rank-4 output [B, H, L, Ev] is stored as [B, L, H, Ev], so transposing it back to
/// [B, L, H·Ev] is free. A packed form (<see cref="ForwardPacked"/>) takes the [B, T, 3E] output of a
/// fused q/k/v projection as its one input and returns its gradient in one tensor of that layout.
/// </summary>
internal sealed class ScaledDotProductAttentionNode : Node
{
    private const string Op = "ScaledDotProductAttention";

    private readonly SavedTensor _q;           // the packed [B, T, 3E] tensor in packed form
    private readonly SavedTensor? _k, _v, _mask;
    private readonly SavedTensor _probs;
    private readonly AttentionShape _shape;
    private readonly Packing? _packing;

    /// <summary>How q, k and v sit in one [B, T, 3E] (or [T, B, 3E]) tensor: [..., 3, heads, E/heads] along its last dim.</summary>
    internal sealed record Packing(int Heads, bool BatchFirst);

    private ScaledDotProductAttentionNode(Tensor q, Tensor? k, Tensor? v, Tensor? mask, Tensor probs, in AttentionShape shape, Packing? packing)
        : base(q, k, v, mask is { DType: not DType.Int64 } ? mask : null)
    {
        _q = Save(q);
        if (k is not null) _k = Save(k);
        if (v is not null) _v = Save(v);
        if (mask is not null) _mask = Save(mask);
        _probs = Save(probs);
        _shape = shape;
        _packing = packing;
    }

    /// <summary>The public op, with PyTorch's checks; see <see cref="NN.Functional.ScaledDotProductAttention"/>.</summary>
    public static Tensor Forward(Tensor query, Tensor key, Tensor value, Tensor? attnMask, double dropoutP, bool isCausal, double? scale, Generator? generator)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (isCausal && attnMask is not null)
            throw new ArgumentException($"{Op}: pass either attnMask {attnMask.Shape} or isCausal, not both (as PyTorch); fold the causal mask into attnMask");
        if (!(dropoutP >= 0 && dropoutP <= 1))
            throw new ArgumentException($"{Op}: dropoutP must be in [0, 1], got {dropoutP} (query {query.Shape})");
        if (scale is double sc && double.IsNaN(sc))
            throw new ArgumentException($"{Op}: scale is NaN (query {query.Shape})");
        return Attend(query, key, value, attnMask, isCausal, scale, dropoutP, generator);
    }

    /// <summary>
    /// The op for modules: as <see cref="Forward"/>, but a mask and the causal (top-left) mask may be
    /// combined, and the scale is given.
    /// </summary>
    internal static Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? mask, bool causal, double? scale, double dropoutP, Generator? generator)
    {
        mask = BoolMaskAsInt64(mask);
        Shape batch = Validate(query, key, value, mask);
        return Compute(query, key, value, mask, batch, causal, 0, scale ?? DefaultScale(query), dropoutP, generator, null);
    }

    /// <summary>
    /// Self-attention straight from a fused projection <paramref name="qkv"/> [B, T, 3E] ([T, B, 3E] unless
    /// <paramref name="batchFirst"/>), whose last dim is q, k, v each split into <paramref name="heads"/> heads;
    /// returns [B, T, E] (or [T, B, E]), heads side by side. The mask broadcasts to [B, heads, T, T].
    /// </summary>
    internal static Tensor ForwardPacked(Tensor qkv, int heads, bool batchFirst, Tensor? mask, bool causal, double dropoutP, Generator? generator)
    {
        var packing = new Packing(heads, batchFirst);
        mask = BoolMaskAsInt64(mask);
        if (!qkv.IsContiguous) qkv = qkv.Contiguous();
        var (q, k, v) = PackedViews(qkv, packing);
        Shape batch = new(q.Shape[0], heads);
        if (mask is not null) CheckMask(mask, q, k, batch);
        int e = qkv.Shape[2] / 3;
        var y = Tensor.Uninitialized(new Shape(qkv.Shape[0], qkv.Shape[1], e), qkv.DType);
        Tensor o = HeadsView(y, packing, e);
        AttentionShape shape = Describe(q, k, v, batch, causal, 0, DefaultScale(q), dropoutP, generator);
        bool record = GradMode.Records(qkv, mask is { DType: not DType.Int64 } ? mask : null);
        Tensor? probs = record ? Tensor.Uninitialized(ProbsShape(batch, shape), qkv.DType) : null;
        Run(q, k, v, mask, o, probs, shape);
        if (record) y.SetGradFn(new ScaledDotProductAttentionNode(qkv, null, null, mask, probs!, shape, packing));
        return y;
    }

    /// <summary>
    /// Attention without a graph (inference): q [B, H, L, E] against k, v [B, H, S, ·] where the queries are
    /// the last L of S positions (causal offset S − L when <paramref name="causal"/>), written into
    /// <paramref name="output"/> [B, H, L, Ev], which may be a view. k may be stored transposed (stride 1
    /// along S, as a key/value cache keeps it); the kernel then reads it as Kᵀ without a copy.
    /// </summary>
    internal static void Infer(Tensor q, Tensor k, Tensor v, bool causal, int causalOffset, Tensor output)
    {
        Shape batch = BatchOf(q);
        AttentionShape shape = Describe(q, k, v, batch, causal, causalOffset, DefaultScale(q), 0, null);
        DTypeSwitch.Float(q.DType, new ForwardKernel(Matrix(q), k, Matrix(v), null, output, null, shape));
    }

    /// <summary>
    /// The kernel reads a boolean mask as int64 (nonzero = may attend), the form it had before the library had a
    /// bool dtype and still takes: a bool mask is converted to it.
    /// </summary>
    private static Tensor? BoolMaskAsInt64(Tensor? mask) => mask is { DType: DType.Bool } ? mask.To(DType.Int64) : mask;

    /// <summary>1/√E, PyTorch's default scale.</summary>
    internal static double DefaultScale(Tensor q) => 1 / Math.Sqrt(q.Shape[q.Rank - 1]);

    private static Tensor Compute(Tensor q, Tensor k, Tensor v, Tensor? mask, Shape batch, bool causal, int causalOffset, double scale,
                                  double dropoutP, Generator? generator, Packing? packing)
    {
        int L = q.Size(-2), Ev = v.Size(-1);
        Shape outShape = Append(batch, L, Ev);
        // A [B, H, L, Ev] result is stored as [B, L, H, Ev]: the transpose back to [B, L, H·Ev] is then free.
        Tensor y = batch.Rank == 2 ? AllocateInOrder(outShape, [0, 2, 1, 3]) : Tensor.Uninitialized(outShape, q.DType);
        if (y.Numel == 0) return y;
        AttentionShape shape = Describe(q, k, v, batch, causal, causalOffset, scale, dropoutP, generator);
        bool record = GradMode.Records(q, k, v) || (mask is { DType: not DType.Int64 } && GradMode.Records(mask));
        Tensor? probs = record ? Tensor.Uninitialized(ProbsShape(batch, shape), q.DType) : null;
        Run(q, k, v, mask, y, probs, shape);
        if (record) y.SetGradFn(new ScaledDotProductAttentionNode(q, k, v, mask, probs!, shape, packing));
        return y;
        Tensor AllocateInOrder(Shape logical, int[] order) => Strided(logical, order, q.DType);
    }

    private static void Run(Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor output, Tensor? probs, in AttentionShape shape)
        => DTypeSwitch.Float(q.DType, new ForwardKernel(Matrix(q), Matrix(k), Matrix(v), mask, output, probs, shape));

    private readonly struct ForwardKernel(Tensor q, Tensor k, Tensor v, Tensor? mask, Tensor o, Tensor? probs, AttentionShape shape) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            int rank = shape.Batch.Rank;
            var ops = new AttentionOperands<T> { Q = Operand<T>(q, rank), K = Operand<T>(k, rank), V = Operand<T>(v, rank), O = Operand<T>(o, rank) };
            if (mask is { DType: DType.Int64 }) ops.BoolMask = Operand<long>(mask, rank);
            else if (mask is not null) ops.Mask = Operand<T>(mask, rank);
            if (probs is not null) (ops.Probs, ops.ProbsOffset) = (probs.Data<T>(), probs.Offset);
            AttentionKernel.Forward(shape, ops);
        }
    }

    // With S = scale·q·kᵀ + mask, P = softmax(S) (rows), P_d = P∘M/(1−p) and y = P_d·v:
    // dv = P_dᵀ·dy, dP = (dy·vᵀ)∘M/(1−p), dS = P∘(dP − rowsum(dP∘P)), dq = scale·dS·k, dk = scale·dSᵀ·q,
    // dmask = dS; batch dims that were broadcast are summed back.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (GradMode.IsEnabled && (dy.RequiresGrad || _q.Value.RequiresGrad || (_k?.Value.RequiresGrad ?? false)
                                   || (_v?.Value.RequiresGrad ?? false) || (_mask?.Value.RequiresGrad ?? false)))
            return Composite(dy);
        Tensor probs = _probs.Value;
        Tensor? mask = _mask?.Value;
        bool wantMask = NeedsInputGrad(3);
        Shape batch = BatchShape(_shape.Batch);
        Tensor? dScores = wantMask ? Tensor.Uninitialized(ProbsShape(batch, _shape), probs.DType) : null;
        if (_packing is { } packing)
        {
            Tensor qkv = _q.Value;
            if (!qkv.IsContiguous) qkv = qkv.Contiguous();
            var (q, k, v) = PackedViews(qkv, packing);
            Tensor? dqkv = NeedsInputGrad(0) ? Tensor.Uninitialized(qkv.Shape, qkv.DType) : null;
            var (dq, dk, dv) = dqkv is null ? (null, null, null) : PackedViews(dqkv, packing);
            Tensor dO = HeadsView(dy.IsContiguous ? dy : dy.Contiguous(), packing, qkv.Shape[2] / 3);
            RunBackward(q, k, v, probs, dO, dq, dk, dv, dScores);
            return [dqkv, null, null, dScores?.SumToShape(mask!.Shape)];
        }
        {
            Tensor q = Matrix(_q.Value), k = Matrix(_k!.Value), v = Matrix(_v!.Value);
            Tensor dO = Matrix(dy);
            Tensor? dq = NeedsInputGrad(0) ? GradientLike(q, batch) : null;
            Tensor? dk = NeedsInputGrad(1) ? GradientLike(k, batch) : null;
            Tensor? dv = NeedsInputGrad(2) ? GradientLike(v, batch) : null;
            RunBackward(q, k, v, probs, dO, dq, dk, dv, dScores);
            return [dq?.SumToShape(q.Shape), dk?.SumToShape(k.Shape), dv?.SumToShape(v.Shape), dScores?.SumToShape(mask!.Shape)];
        }
    }

    private void RunBackward(Tensor q, Tensor k, Tensor v, Tensor probs, Tensor dO, Tensor? dq, Tensor? dk, Tensor? dv, Tensor? dScores)
        => DTypeSwitch.Float(q.DType, new BackwardKernel(q, k, v, probs, dO, dq, dk, dv, dScores, _shape));

    private readonly struct BackwardKernel(Tensor q, Tensor k, Tensor v, Tensor probs, Tensor dO, Tensor? dq, Tensor? dk, Tensor? dv, Tensor? dScores,
                                           AttentionShape shape) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            int rank = shape.Batch.Rank;
            var ops = new AttentionOperands<T>
            {
                Q = Operand<T>(q, rank), K = Operand<T>(k, rank), V = Operand<T>(v, rank), DO = Operand<T>(dO, rank),
                Probs = probs.Data<T>(), ProbsOffset = probs.Offset,
                DScores = dScores?.Data<T>(),
            };
            if (dq is not null) ops.DQ = Operand<T>(dq, rank);
            if (dk is not null) ops.DK = Operand<T>(dk, rank);
            if (dv is not null) ops.DV = Operand<T>(dv, rank);
            AttentionKernel.Backward(shape, ops);
        }
    }

    /// <summary>
    /// The backward written with tensor ops, recorded when the backward itself is differentiated
    /// (createGraph): the weights are recomputed from q and k with the same masks and dropout factors.
    /// </summary>
    private Tensor?[] Composite(Tensor dy)
    {
        Tensor q, k, v;
        if (_packing is { } packing)
        {
            Tensor qkv = _q.Value;
            int e = qkv.Shape[2] / 3, d = e / packing.Heads;
            // [B, T, 3E] -> [B, T, 3, H, D] -> [3, B, H, T, D] (recorded views, so second derivatives reach qkv)
            Tensor five = packing.BatchFirst
                ? qkv.View(qkv.Shape[0], qkv.Shape[1], 3, packing.Heads, d).Permute(2, 0, 3, 1, 4)
                : qkv.View(qkv.Shape[0], qkv.Shape[1], 3, packing.Heads, d).Permute(2, 1, 3, 0, 4);
            (q, k, v) = (five.Select(0, 0), five.Select(0, 1), five.Select(0, 2));
            dy = packing.BatchFirst
                ? dy.Reshape(dy.Shape[0], dy.Shape[1], packing.Heads, d).Permute(0, 2, 1, 3)   // [B, T, E] -> [B, H, T, D]
                : dy.Reshape(dy.Shape[0], dy.Shape[1], packing.Heads, d).Permute(1, 2, 0, 3);  // [T, B, E] -> [B, H, T, D]
        }
        else
            (q, k, v) = (_q.Value, _k!.Value, _v!.Value);
        Tensor? mask = _mask?.Value;
        int L = _shape.L, S = _shape.S;
        Tensor scores = q.MatMul(k.T()) * _shape.Scale;                                   // [..., L, S]
        Tensor constantBias = Tensor.Zeros(new Shape(L, S), q.DType);
        if (_shape.Causal)
            constantBias = Tensor.Full(new Shape(L, S), double.NegativeInfinity, q.DType).Triu(_shape.CausalOffset + 1);
        if (mask is { DType: DType.Int64 })
            constantBias = constantBias + Tensor.Zeros(mask.Shape, q.DType).MaskedFill(mask.Eq(0), double.NegativeInfinity);
        scores = scores + constantBias;
        if (mask is not null && mask.DType != DType.Int64) scores = scores + mask;
        // Fully masked rows (all −∞) have weights 0, as the forward's safe softmax: the saved weights sum to 0 there.
        Tensor dead = _probs.Value.Detach().Sum(-1, keepDim: true).Eq(0);
        Tensor zero = Tensor.Scalar(0, q.DType);
        Tensor p = Tensor.Where(dead, zero, Tensor.Where(dead, zero, scores).Softmax(-1));
        Tensor? factors = null;
        if (_shape.DropoutP > 0)
        {
            factors = Tensor.Uninitialized(_probs.Value.Shape, q.DType);
            DTypeSwitch.Float(q.DType, new FactorsKernel(factors, _shape));
        }
        Tensor pd = factors is null ? p : p * factors;
        Tensor dv = pd.T().MatMul(dy);
        Tensor dp = dy.MatMul(v.T());
        if (factors is not null) dp = dp * factors;
        Tensor ds = p * (dp - (dp * p).Sum(-1, keepDim: true));
        Tensor dq = ds.MatMul(k) * _shape.Scale, dk = ds.T().MatMul(q) * _shape.Scale;
        Tensor? dmask = NeedsInputGrad(3) ? ds.SumToShape(mask!.Shape) : null;
        if (_packing is { } pk)
        {
            Tensor dqkv = Tensor.Stack([dq, dk, dv], 0);                                      // [3, B, H, T, D]
            dqkv = pk.BatchFirst ? dqkv.Permute(1, 3, 0, 2, 4) : dqkv.Permute(3, 1, 0, 2, 4); // [B, T, 3, H, D] or [T, B, 3, H, D]
            Tensor qkv = _q.Value;
            return [dqkv.Reshape(qkv.Shape.ToArray()), null, null, dmask];
        }
        return [NeedsInputGrad(0) ? dq.SumToShape(q.Shape) : null, NeedsInputGrad(1) ? dk.SumToShape(k.Shape) : null,
                NeedsInputGrad(2) ? dv.SumToShape(v.Shape) : null, dmask];
    }

    private readonly struct FactorsKernel(Tensor factors, AttentionShape shape) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => AttentionKernel.DropoutFactors(shape, factors.Elements<T>());
    }

    // ---------------- shapes and layouts ----------------

    /// <summary>Checks q, k, v and the mask as PyTorch does and returns the broadcast batch shape.</summary>
    private static Shape Validate(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        if (!q.DType.IsFloatingPoint())
            throw new ArgumentException($"{Op}: query must be floating point, got {q.DType.Name()} (shape {q.Shape})");
        if (k.DType != q.DType || v.DType != q.DType)
            throw new ArgumentException($"{Op}: query, key and value must have the same dtype, got query {q.DType.Name()} {q.Shape}, key {k.DType.Name()} {k.Shape}, value {v.DType.Name()} {v.Shape}");
        if (q.Rank < 2 || k.Rank < 2 || v.Rank < 2)
            throw new ArgumentException($"{Op}: query [..., L, E], key [..., S, E] and value [..., S, Ev] need at least 2 dimensions, got query {q.Shape}, key {k.Shape}, value {v.Shape}");
        if (q.Size(-1) != k.Size(-1))
            throw new ArgumentException($"{Op}: query {q.Shape} and key {k.Shape} must have the same last dimension E ({q.Size(-1)} vs {k.Size(-1)})");
        if (k.Size(-2) != v.Size(-2))
            throw new ArgumentException($"{Op}: key {k.Shape} and value {v.Shape} must have the same number of positions S ({k.Size(-2)} vs {v.Size(-2)})");
        Shape qb = BatchOf(q), kb = BatchOf(k), vb = BatchOf(v);
        if (!Shape.TryBroadcast(qb, kb, out Shape qk) || !Shape.TryBroadcast(qk, vb, out Shape batch))
            throw new ArgumentException($"{Op}: the batch dimensions of query {q.Shape}, key {k.Shape} and value {v.Shape} cannot be broadcast together");
        if (batch.Rank > AttentionBatch.MaxRank)
            throw new ArgumentException($"{Op}: at most {AttentionBatch.MaxRank} batch dimensions are supported, query {q.Shape} has {batch.Rank}");
        if (mask is not null)
        {
            if (mask.DType != DType.Int64 && mask.DType != q.DType)
                throw new ArgumentException($"{Op}: attnMask must be Bool (true = may attend; Int64 nonzero is read the same) or {q.DType.Name()} like the query (additive), got {mask.DType.Name()} {mask.Shape}");
            CheckMask(mask, q, k, batch);
        }
        return batch;
    }

    private static void CheckMask(Tensor mask, Tensor q, Tensor k, Shape batch)
    {
        Shape weights = Append(batch, q.Size(-2), k.Size(-2));
        if (!Shape.TryBroadcast(mask.Shape, weights, out Shape b) || b != weights)
            throw new ArgumentException($"{Op}: attnMask {mask.Shape} cannot be broadcast to the attention weights {weights} of query {q.Shape} and key {k.Shape}");
    }

    private static Shape BatchOf(Tensor x) => new(x.Shape.Dims[..(x.Rank - 2)]);

    private static Shape Append(Shape batch, int rows, int cols)
    {
        var dims = new int[batch.Rank + 2];
        batch.Dims.CopyTo(dims);
        dims[^2] = rows;
        dims[^1] = cols;
        return new Shape(dims);
    }

    private static Shape ProbsShape(Shape batch, in AttentionShape shape) => Append(batch, shape.L, shape.S);

    private static Shape BatchShape(in AttentionBatch batch)
    {
        var dims = new int[batch.Rank];
        for (int d = 0; d < dims.Length; d++) dims[d] = batch.Dims[d];
        return new Shape(dims);
    }

    private static AttentionShape Describe(Tensor q, Tensor k, Tensor v, Shape batch, bool causal, int causalOffset, double scale, double dropoutP, Generator? generator)
    {
        var shape = new AttentionShape
        {
            L = q.Size(-2), S = k.Size(-2), E = q.Size(-1), Ev = v.Size(-1), Scale = scale,
            Causal = causal, CausalOffset = causalOffset, DropoutP = dropoutP,
            DropoutSeed = dropoutP > 0 ? Generator.Use(generator).NextUInt64() : 0,
        };
        shape.Batch.Rank = batch.Rank;
        for (int d = 0; d < batch.Rank; d++) shape.Batch.Dims[d] = batch[d];
        return shape;
    }

    /// <summary>The operand description of x right-aligned to [batch (rank dims), rows, cols]; size-1 and missing dims get stride 0.</summary>
    private static AttentionOperand<T> Operand<T>(Tensor x, int batchRank) where T : unmanaged
    {
        var op = new AttentionOperand<T> { Array = x.Data<T>(), Offset = x.Offset };
        int total = batchRank + 2, lead = total - x.Rank;
        for (int d = 0; d < total; d++)
        {
            int xd = d - lead;
            nint stride = xd < 0 || x.Shape[xd] == 1 ? 0 : x.Strides[xd];
            if (d < batchRank) op.Batch[d] = stride;
            else if (d == batchRank) op.Row = stride;
            else op.Col = stride;
        }
        return op;
    }

    /// <summary>x itself when its rows are contiguous (last stride 1, or one column), else a contiguous copy outside the graph.</summary>
    private static Tensor Matrix(Tensor x) => x.Size(-1) <= 1 || x.Strides[^1] == 1 ? x : x.Detach().Contiguous();

    /// <summary>q, k and v of a packed [B, T, 3E] / [T, B, 3E] tensor as [B, H, T, D] views (no graph).</summary>
    internal static (Tensor Q, Tensor K, Tensor V) PackedViews(Tensor qkv, Packing packing)
    {
        int e = qkv.Shape[2] / 3, d = e / packing.Heads;
        int b = packing.BatchFirst ? qkv.Shape[0] : qkv.Shape[1], t = packing.BatchFirst ? qkv.Shape[1] : qkv.Shape[0];
        int s0 = qkv.Strides[0], s1 = qkv.Strides[1];
        int bs = packing.BatchFirst ? s0 : s1, ts = packing.BatchFirst ? s1 : s0;
        var shape = new Shape(b, packing.Heads, t, d);
        return (qkv.Strided(shape, [bs, d, ts, 1], qkv.Offset),
                qkv.Strided(shape, [bs, d, ts, 1], qkv.Offset + e),
                qkv.Strided(shape, [bs, d, ts, 1], qkv.Offset + 2 * e));
    }

    /// <summary>A contiguous [B, T, E] / [T, B, E] tensor seen as [B, H, T, E/H] (no graph).</summary>
    internal static Tensor HeadsView(Tensor y, Packing packing, int e)
    {
        int d = e / packing.Heads;
        int b = packing.BatchFirst ? y.Shape[0] : y.Shape[1], t = packing.BatchFirst ? y.Shape[1] : y.Shape[0];
        int bs = packing.BatchFirst ? y.Strides[0] : y.Strides[1], ts = packing.BatchFirst ? y.Strides[1] : y.Strides[0];
        return y.Strided(new Shape(b, packing.Heads, t, d), [bs, d, ts, 1], y.Offset);
    }

    /// <summary>
    /// A dense tensor for the gradient of x at the full batch shape: when x covers the whole batch, its
    /// dims are laid out in x's own memory order (by decreasing stride), so the gradient flows back
    /// through x's view ops (a head transpose, a reshape) without copies; otherwise contiguous.
    /// </summary>
    private static Tensor GradientLike(Tensor x, Shape batch)
    {
        Shape full = Append(batch, x.Size(-2), x.Size(-1));
        if (x.Shape != full) return Tensor.Uninitialized(full, x.DType);
        int rank = x.Rank;
        var order = new int[rank];
        for (int d = 0; d < rank; d++) order[d] = d;
        ReadOnlySpan<int> strides = x.Strides;
        // Insertion sort by decreasing stride, stable (few dims).
        for (int i = 1; i < rank; i++)
            for (int j = i; j > 0 && strides[order[j]] > strides[order[j - 1]]; j--)
                (order[j], order[j - 1]) = (order[j - 1], order[j]);
        return Strided(full, order, x.DType);
    }

    /// <summary>A tensor of logical shape <paramref name="logical"/> whose memory holds the dims in <paramref name="order"/> (outermost first).</summary>
    private static Tensor Strided(Shape logical, int[] order, DType dtype)
    {
        int rank = logical.Rank;
        var stored = new int[rank];
        for (int i = 0; i < rank; i++) stored[i] = logical[order[i]];
        Tensor storage = Tensor.Uninitialized(new Shape(stored), dtype);
        var strides = new int[rank];
        int stride = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            strides[order[i]] = stride;
            stride *= stored[i];
        }
        return storage.Strided(logical, strides, 0);
    }
}
