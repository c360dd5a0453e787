using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Gemm;
using Backprop.Threading;

namespace Backprop.Kernels.Attention;

/// <summary>The operands of one attention call (absent ones have a null array).</summary>
internal struct AttentionOperands<T> where T : unmanaged
{
    public AttentionOperand<T> Q, K, V, O;
    /// <summary>Additive float mask (any strides).</summary>
    public AttentionOperand<T> Mask;
    /// <summary>Boolean mask as int64, nonzero = may attend (any strides).</summary>
    public AttentionOperand<long> BoolMask;
    /// <summary>The attention weights before dropout, contiguous [slices, L, S]: written by the forward when present, read by the backward.</summary>
    public T[]? Probs;
    public int ProbsOffset;
    /// <summary>Backward only: the output gradient and the input gradients (null when not wanted).</summary>
    public AttentionOperand<T> DO, DQ, DK, DV;
    /// <summary>Backward only: the gradient of the scores (= of an additive mask), contiguous [slices, L, S], or null.</summary>
    public T[]? DScores;
}

/// <summary>
/// Fused scaled dot-product attention over a batch of slices (one per batch·head), each:
/// forward  P = softmax(scale·Q·Kᵀ + mask), O = dropout(P)·V;
/// backward dV = P_dᵀ·dO, dP = dO·Vᵀ (∘ the dropout mask), dS = P∘(dP − rowsum(dP∘P)), dQ = scale·dS·K, dK = scale·dSᵀ·Q.
/// Every product is an <see cref="AttentionGemm"/> call on the slice's rows in place (any row stride), so
/// q, k, v and the gradients may be views (e.g. heads of a packed [B, T, 3, H, D] projection). With a causal
/// mask only the allowed triangle is multiplied, in blocks of <see cref="RowBlock"/> rows. A row whose every
/// score is −∞ (fully masked) gets weights 0 and output 0, as PyTorch's math backend (its _safe_softmax,
/// since 2.5). Slices run in parallel on <see cref="Parallelism.ThreadCount"/> threads, each computed the
/// same way whichever thread takes it; the dropout mask is a hash of (seed, element index), so forward,
/// backward and the composite double-backward see the same mask without storing it.
/// </summary>
internal static unsafe class AttentionKernel
{
    /// <summary>Rows per block of the causal triangle (a multiple of the 4-row register tile).</summary>
    private const int RowBlock = 8;

    /// <summary>Multiply-adds below which all slices run on the calling thread.</summary>
    private const long SerialWork = 1 << 16;

    /// <summary>Runs the forward for every slice: O (and Probs when present) written whole.</summary>
    public static void Forward<T>(in AttentionShape shape, in AttentionOperands<T> ops) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int slices = shape.Batch.Count;
        if (slices == 0 || shape.L == 0) return;
        fixed (T* q = ops.Q.Array, k = ops.K.Array, v = ops.V.Array, o = ops.O.Array, mask = ops.Mask.Array, probs = ops.Probs)
        fixed (long* boolMask = ops.BoolMask.Array)
        {
            var body = new ForwardBody<T>
            {
                Shape = shape,
                Q = Pin(q, ops.Q), K = Pin(k, ops.K), V = Pin(v, ops.V), O = Pin(o, ops.O),
                Mask = Pin(mask, ops.Mask), BoolMask = Pin(boolMask, ops.BoolMask),
                Probs = probs == null ? null : probs + ops.ProbsOffset,
            };
            Run(shape, slices, ref body);
        }
    }

    /// <summary>Runs the backward for every slice from the saved Probs: DQ, DK, DV (those present) and DScores written whole.</summary>
    public static void Backward<T>(in AttentionShape shape, in AttentionOperands<T> ops) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int slices = shape.Batch.Count;
        if (slices == 0) return;
        fixed (T* q = ops.Q.Array, k = ops.K.Array, v = ops.V.Array, probs = ops.Probs, dO = ops.DO.Array)
        fixed (T* dq = ops.DQ.Array, dk = ops.DK.Array, dv = ops.DV.Array, dScores = ops.DScores)
        {
            var body = new BackwardBody<T>
            {
                Shape = shape,
                Q = Pin(q, ops.Q), K = Pin(k, ops.K), V = Pin(v, ops.V), DO = Pin(dO, ops.DO),
                DQ = Pin(dq, ops.DQ), DK = Pin(dk, ops.DK), DV = Pin(dv, ops.DV),
                Probs = probs + ops.ProbsOffset, DScores = dScores,
            };
            Run(shape, slices, ref body);
        }
    }

    private static void Run<TBody>(in AttentionShape shape, int slices, ref TBody body) where TBody : struct, IRangeBody
    {
        long work = (long)slices * shape.L * shape.S * Math.Max(shape.E + shape.Ev, 1);
        if (Parallelism.ThreadCount == 1 || slices == 1 || work < SerialWork)
            body.Invoke(0, slices);
        else
            Parallelism.ParallelFor(slices, 1, ref body, Parallelism.BalancedChunks);
    }

    /// <summary>An operand with its array pinned.</summary>
    private struct Pinned<T> where T : unmanaged
    {
        public T* Base;
        public nint Row, Col;
        public BatchStrides Batch;

        public readonly T* Slice(in AttentionBatch batch, int s) => Base + batch.Offset(s, Batch);
    }

    private static Pinned<T> Pin<T>(T* array, in AttentionOperand<T> op) where T : unmanaged
        => new() { Base = array == null ? null : array + op.Offset, Row = op.Row, Col = op.Col, Batch = op.Batch };

    private struct ForwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public AttentionShape Shape;
        public Pinned<T> Q, K, V, O, Mask;
        public Pinned<long> BoolMask;
        public T* Probs;

        public readonly void Invoke(int start, int end)
        {
            for (int s = start; s < end; s++) ForwardSlice(s);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void ForwardSlice(int s)
        {
            ref readonly AttentionShape sh = ref Shape;
            int L = sh.L, S = sh.S, E = sh.E, Ev = sh.Ev;
            nint area = (nint)L * S;
            bool dropout = sh.DropoutP > 0;
            T* ws = (T*)AttentionWorkspace.Get((E * (nint)S + 2 * area) * sizeof(T));
            T* kt = ws;                                                        // Kᵀ [E, S], row stride ldkt
            nint ldkt = S;
            T* p = Probs != null ? Probs + s * area : ws + E * (nint)S;        // weights [L, S]
            T* pd = dropout ? ws + E * (nint)S + area : p;                    // weights after dropout
            T* q = Q.Slice(sh.Batch, s), k = K.Slice(sh.Batch, s), v = V.Slice(sh.Batch, s), o = O.Slice(sh.Batch, s);

            if (K.Col != 1 && E > 1 && (K.Row == 1 || S == 1))
            {
                kt = k;                                                        // keys stored transposed already (a key/value cache)
                ldkt = K.Col;
            }
            else
                TransposeKernel.Transpose(k, K.Row, K.Col, S, E, kt);
            T scale = T.CreateTruncating(sh.Scale);
            for (int i0 = 0; i0 < L; i0 += RowBlock)
            {
                int i1 = Math.Min(L, i0 + RowBlock);
                AttentionGemm.Multiply(i1 - i0, sh.ValidColumns(i1 - 1), E, scale, q + i0 * Q.Row, Q.Row, 1, kt, ldkt, p + i0 * S, S, accumulate: false);
            }
            T* mask = Mask.Base == null ? null : Mask.Slice(sh.Batch, s);
            long* boolMask = BoolMask.Base == null ? null : BoolMask.Slice(sh.Batch, s);
            T keep = sh.DropoutP < 1 ? T.CreateTruncating(1 / (1 - sh.DropoutP)) : T.Zero;
            for (int i = 0; i < L; i++)
            {
                T* row = p + i * S;
                int n = sh.ValidColumns(i);
                if (mask != null) AddMask(row, n, mask + i * Mask.Row, Mask.Col);
                if (boolMask != null) ApplyBoolMask(row, n, boolMask + i * BoolMask.Row, BoolMask.Col);
                AttentionRows.Softmax(row, n);
                new Span<T>(row + n, S - n).Clear();
                if (dropout) DropoutRow(sh, s, i, row, pd + i * S, n, keep);
            }
            for (int i0 = 0; i0 < L; i0 += RowBlock)
            {
                int i1 = Math.Min(L, i0 + RowBlock);
                AttentionGemm.Multiply(i1 - i0, Ev, sh.ValidColumns(i1 - 1), T.One, pd + i0 * S, S, 1, v, V.Row, o + i0 * O.Row, O.Row, accumulate: false);
            }
        }
    }

    private struct BackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public AttentionShape Shape;
        public Pinned<T> Q, K, V, DO, DQ, DK, DV;
        public T* Probs, DScores;

        public readonly void Invoke(int start, int end)
        {
            for (int s = start; s < end; s++) BackwardSlice(s);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void BackwardSlice(int s)
        {
            ref readonly AttentionShape sh = ref Shape;
            int L = sh.L, S = sh.S, E = sh.E, Ev = sh.Ev;
            nint area = (nint)L * S;
            bool dropout = sh.DropoutP > 0;
            T* ws = (T*)AttentionWorkspace.Get((Ev * (nint)S + 2 * area) * sizeof(T));
            T* vt = ws;                                            // Vᵀ [Ev, S]
            T* ds = ws + Ev * (nint)S;                             // dP, then dS [L, S]
            T* p = Probs + s * area;
            T* pd = dropout ? ds + area : p;
            T* q = Q.Slice(sh.Batch, s), k = K.Slice(sh.Batch, s), v = V.Slice(sh.Batch, s), dO = DO.Slice(sh.Batch, s);
            T keep = sh.DropoutP < 1 ? T.CreateTruncating(1 / (1 - sh.DropoutP)) : T.Zero;
            if (dropout)
                for (int i = 0; i < L; i++)
                {
                    int n = sh.ValidColumns(i);
                    DropoutRow(sh, s, i, p + i * S, pd + i * S, n, keep);
                }

            if (DV.Base != null) // dV = P_dᵀ·dO, key rows j attended by query rows [FirstRow(j), L)
            {
                T* dv = DV.Slice(sh.Batch, s);
                for (int j0 = 0; j0 < S; j0 += RowBlock)
                {
                    int j1 = Math.Min(S, j0 + RowBlock), i0 = sh.FirstRow(j0);
                    AttentionGemm.Multiply(j1 - j0, Ev, L - i0, T.One, pd + i0 * S + j0, 1, S, dO + i0 * DO.Row, DO.Row, dv + j0 * DV.Row, DV.Row, accumulate: false);
                }
            }
            if (DQ.Base == null && DK.Base == null && DScores == null) return;

            TransposeKernel.Transpose(v, V.Row, V.Col, S, Ev, vt);
            for (int i0 = 0; i0 < L; i0 += RowBlock) // dP_d = dO·Vᵀ
            {
                int i1 = Math.Min(L, i0 + RowBlock);
                AttentionGemm.Multiply(i1 - i0, sh.ValidColumns(i1 - 1), Ev, T.One, dO + i0 * DO.Row, DO.Row, 1, vt, S, ds + i0 * S, S, accumulate: false);
            }
            for (int i = 0; i < L; i++) // dS = P∘(dP − Σ_j dP∘P), dP = dP_d∘mask/(1−p)
            {
                int n = sh.ValidColumns(i);
                if (dropout) DropoutGradRow(sh, s, i, ds + i * S, n, keep);
                AttentionRows.SoftmaxGrad(ds + i * S, p + i * S, n);
                new Span<T>(ds + i * S + n, S - n).Clear();
            }
            if (DScores != null)
                new ReadOnlySpan<T>(ds, (int)area).CopyTo(new Span<T>(DScores + s * area, (int)area));

            T scale = T.CreateTruncating(sh.Scale);
            if (DQ.Base != null) // dQ = scale·dS·K
            {
                T* dq = DQ.Slice(sh.Batch, s);
                for (int i0 = 0; i0 < L; i0 += RowBlock)
                {
                    int i1 = Math.Min(L, i0 + RowBlock);
                    AttentionGemm.Multiply(i1 - i0, E, sh.ValidColumns(i1 - 1), scale, ds + i0 * S, S, 1, k, K.Row, dq + i0 * DQ.Row, DQ.Row, accumulate: false);
                }
            }
            if (DK.Base != null) // dK = scale·dSᵀ·Q
            {
                T* dk = DK.Slice(sh.Batch, s);
                for (int j0 = 0; j0 < S; j0 += RowBlock)
                {
                    int j1 = Math.Min(S, j0 + RowBlock), i0 = sh.FirstRow(j0);
                    AttentionGemm.Multiply(j1 - j0, E, L - i0, scale, ds + i0 * S + j0, 1, S, q + i0 * Q.Row, Q.Row, dk + j0 * DK.Row, DK.Row, accumulate: false);
                }
            }
        }
    }

    private static void AddMask<T>(T* row, int n, T* mask, nint col) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (col == 1)
        {
            var r = new Span<T>(row, n);
            TensorPrimitives.Add(r, new ReadOnlySpan<T>(mask, n), r);
        }
        else
            for (int j = 0; j < n; j++) row[j] += mask[j * col];
    }

    private static void ApplyBoolMask<T>(T* row, int n, long* mask, nint col) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < n; j++)
            if (mask[j * col] == 0) row[j] = T.NegativeInfinity;
    }

    private static void DropoutRow<T>(in AttentionShape sh, int s, int i, T* p, T* pd, int n, T keep) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long first = ((long)s * sh.L + i) * sh.S;
        for (int j = 0; j < n; j++)
            pd[j] = Dropped(sh.DropoutSeed, first + j, sh.DropoutP) ? T.Zero : p[j] * keep;
        new Span<T>(pd + n, sh.S - n).Clear();
    }

    private static void DropoutGradRow<T>(in AttentionShape sh, int s, int i, T* dp, int n, T keep) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long first = ((long)s * sh.L + i) * sh.S;
        for (int j = 0; j < n; j++)
            dp[j] = Dropped(sh.DropoutSeed, first + j, sh.DropoutP) ? T.Zero : dp[j] * keep;
    }

    /// <summary>Whether weight number <paramref name="index"/> ((s·L + i)·S + j) is dropped: a SplitMix64 hash of it and the seed, as a uniform in [0, 1), below p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Dropped(ulong seed, long index, double p)
    {
        ulong z = seed + (ulong)(index + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53)) < p;
    }

    /// <summary>
    /// The dropout factors as a tensor would hold them, [slices, L, S] contiguous: 0 where dropped,
    /// 1/(1 − p) where kept (for the composite backward that is differentiated again).
    /// </summary>
    internal static void DropoutFactors<T>(in AttentionShape sh, Span<T> factors) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T keep = sh.DropoutP < 1 ? T.CreateTruncating(1 / (1 - sh.DropoutP)) : T.Zero;
        for (int idx = 0; idx < factors.Length; idx++)
            factors[idx] = Dropped(sh.DropoutSeed, idx, sh.DropoutP) ? T.Zero : keep;
    }
}
