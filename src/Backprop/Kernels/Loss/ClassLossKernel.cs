using System.Buffers;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Kernels.Reduce;

namespace Backprop.Kernels.Loss;

/// <summary>
/// Cross-entropy and negative log-likelihood over class-index targets. The input is a contiguous
/// [n, c, s] block (s = product of the spatial dims), the target a contiguous [n, s] block of
/// class indices already checked to be in [0, c) or equal to ignoreIndex. An empty weight span
/// means every class weighs 1.
/// </summary>
internal static class ClassLossKernel
{
    /// <summary>
    /// Fused log-softmax + NLL with label smoothing ε:
    /// loss = (1 − ε)·(−w_t·logp_t) + (ε/c)·(−Σ_k w_k·logp_k), 0 at ignored targets; NaN where the
    /// position's logits hold +∞ or NaN (log-softmax is NaN there, as PyTorch).
    /// Returns Σ w_t over non-ignored targets (the divisor of the mean).
    /// </summary>
    public static double CrossEntropy<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> target, ReadOnlySpan<T> weight,
                                         int n, int c, int s, long ignoreIndex, double smoothing, Span<T> losses)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int positions = n * s;
        if (positions == 0) return 0;
        T eps = T.CreateTruncating(smoothing);
        T keep = T.One - eps, share = c == 0 ? T.Zero : eps / T.CreateTruncating(c);
        T weightSum = weight.IsEmpty ? T.CreateTruncating(c) : TensorPrimitives.Sum(weight);
        T[] rented = ArrayPool<T>.Shared.Rent(positions + s);
        try
        {
            Span<T> lse = rented.AsSpan(0, positions);
            Span<T> weighted = rented.AsSpan(positions, s); // Σ_k w_k x[i, k, j] for one sample i
            SoftmaxKernel.LogSumExp(x, n, c, s, lse);
            // log-softmax of a row holding +∞ is NaN in every entry (PyTorch), but log-sum-exp of it is +∞,
            // which would make x_t − lse = −∞ and the loss +∞. One vectorized scan per call finds such rows.
            if (!T.IsFinite(TensorPrimitives.Max(lse)))
                for (int at = 0; at < positions; at++)
                    if (T.IsPositiveInfinity(lse[at])) lse[at] = T.NaN;
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<T> sample = x.Slice(i * c * s, c * s);
                if (smoothing != 0)
                {
                    weighted.Clear();
                    for (int k = 0; k < c; k++)
                    {
                        ReadOnlySpan<T> row = sample.Slice(k * s, s);
                        if (weight.IsEmpty) TensorPrimitives.Add(weighted, row, weighted);
                        else TensorPrimitives.MultiplyAdd(row, weight[k], weighted, weighted);
                    }
                }
                for (int j = 0; j < s; j++)
                {
                    int at = i * s + j;
                    long t = target[at];
                    if (t == ignoreIndex) { losses[at] = T.Zero; continue; }
                    T wt = weight.IsEmpty ? T.One : weight[(int)t];
                    T logp = sample[(int)t * s + j] - lse[at];
                    T loss = -wt * logp;
                    if (smoothing != 0)
                        loss = keep * loss + share * (weightSum * lse[at] - weighted[j]);
                    losses[at] = loss;
                    total += double.CreateTruncating(wt);
                }
            }
            return total;
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>Gradients of at least this many elements are split over the threads.</summary>
    public const int ParallelMinElements = 1 << 15;

    /// <summary>
    /// p ← (p·a − b)·up over p [n, c, s] (a softmax on entry, the cross-entropy gradient on return), with
    /// a and a per-position upstream [n, s], b [n, c, s], and a scalar upstream of one element; each
    /// product and difference rounds as the tensor ops do. Samples are split over the threads when
    /// large (they are independent, so no result changes).
    /// </summary>
    public static unsafe void CrossEntropyGrad<T>(Span<T> p, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> up, int n, int c, int s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pp = p, pa = a, pb = b, pu = up)
        {
            var body = new GradBody<T> { P = pp, A = pa, B = pb, Up = pu, ScalarUp = up.Length == 1, C = c, S = s };
            if ((long)n * c * s >= ParallelMinElements && n > 1) Threading.Parallelism.ParallelFor(n, 1, ref body, Threading.Parallelism.BalancedChunks);
            else body.Invoke(0, n);
        }
    }

    /// <summary>
    /// The unweighted, unsmoothed case of <see cref="CrossEntropyGrad{T}"/> without the dense coefficients:
    /// p ← (p·a − [k = t]·a)·up with a = <paramref name="scale"/> at a kept target and 0 at an ignored one, which is
    /// what <see cref="GradientCoefficients{T}"/> gives for no weights and no smoothing (b is a at the target and 0
    /// elsewhere, and subtracting 0 changes no value), so the results are the same bit for bit.
    /// </summary>
    public static unsafe void CrossEntropyGradHard<T>(Span<T> p, ReadOnlySpan<long> target, T scale, long ignoreIndex, ReadOnlySpan<T> up, int n, int c, int s)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pp = p, pu = up)
        fixed (long* pt = target)
        {
            var body = new HardGradBody<T> { P = pp, Target = pt, Up = pu, ScalarUp = up.Length == 1, Scale = scale, Ignore = ignoreIndex, C = c, S = s };
            if ((long)n * c * s >= ParallelMinElements && n > 1) Threading.Parallelism.ParallelFor(n, 1, ref body, Threading.Parallelism.BalancedChunks);
            else body.Invoke(0, n);
        }
    }

    private unsafe struct HardGradBody<T> : Threading.IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* P, Up;
        public long* Target;
        public bool ScalarUp;
        public T Scale;
        public long Ignore;
        public int C, S;

        public readonly void Invoke(int start, int end)
        {
            int c = C, s = S;
            for (int o = start; o < end; o++)
                for (int i = 0; i < s; i++)
                {
                    int pos = o * s + i;
                    long t = Target[pos];
                    T a = t == Ignore ? T.Zero : Scale, u = Up[ScalarUp ? 0 : pos];
                    if (s == 1)
                    {
                        var row = new Span<T>(P + (nint)o * c, c);
                        TensorPrimitives.Multiply(row, a, row);
                        if (t != Ignore) row[(int)t] -= a;
                        TensorPrimitives.Multiply(row, u, row);
                        continue;
                    }
                    T* col = P + (nint)o * c * s + i;
                    for (int k = 0; k < c; k++)
                        col[(nint)k * s] = (col[(nint)k * s] * a - (k == t ? a : T.Zero)) * u;
                }
        }
    }

    private unsafe struct GradBody<T> : Threading.IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* P, A, B, Up;
        public bool ScalarUp;
        public int C, S;

        public readonly void Invoke(int start, int end)
        {
            int c = C, s = S;
            for (int o = start; o < end; o++)
            {
                if (s == 1)
                {
                    var row = new Span<T>(P + (nint)o * c, c);
                    TensorPrimitives.Multiply(row, A[o], row);
                    TensorPrimitives.Subtract(row, new ReadOnlySpan<T>(B + (nint)o * c, c), row);
                    TensorPrimitives.Multiply(row, Up[ScalarUp ? 0 : o], row);
                    continue;
                }
                for (int k = 0; k < c; k++)
                {
                    nint row = ((nint)o * c + k) * s;
                    for (int i = 0; i < s; i++)
                    {
                        int pos = o * s + i;
                        P[row + i] = (P[row + i] * A[pos] - B[row + i]) * Up[ScalarUp ? 0 : pos];
                    }
                }
            }
        }
    }

    /// <summary>loss = −w_t · x[i, t, j] (x holds log-probabilities), 0 at ignored targets. Returns Σ w_t over non-ignored targets.</summary>
    public static double Nll<T>(ReadOnlySpan<T> x, ReadOnlySpan<long> target, ReadOnlySpan<T> weight,
                                int n, int c, int s, long ignoreIndex, Span<T> losses)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < s; j++)
            {
                int at = i * s + j;
                long t = target[at];
                if (t == ignoreIndex) { losses[at] = T.Zero; continue; }
                T wt = weight.IsEmpty ? T.One : weight[(int)t];
                losses[at] = -wt * x[(i * c + (int)t) * s + j];
                total += double.CreateTruncating(wt);
            }
        return total;
    }

    /// <summary>
    /// Coefficients of the cross-entropy gradient dx = (softmax(x)·a − b)·dy, each scaled by
    /// <paramref name="scale"/>: a[i, j] = (1 − ε)w_t + (ε/c)Σw (shape [n, s]; may be empty to skip)
    /// and b[i, k, j] = (ε/c)w_k + [k = t](1 − ε)w_t (shape [n, c, s]). Ignored targets get 0.
    /// With ε = 0, b alone is the NLL gradient (negated).
    /// </summary>
    public static void GradientCoefficients<T>(ReadOnlySpan<long> target, ReadOnlySpan<T> weight, int n, int c, int s,
                                               long ignoreIndex, double smoothing, T scale, Span<T> a, Span<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T eps = T.CreateTruncating(smoothing);
        T keep = T.One - eps, share = c == 0 ? T.Zero : eps / T.CreateTruncating(c);
        T weightSum = weight.IsEmpty ? T.CreateTruncating(c) : TensorPrimitives.Sum(weight);
        if (!a.IsEmpty) a.Clear();
        b.Clear();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < s; j++)
            {
                int at = i * s + j;
                long t = target[at];
                if (t == ignoreIndex) continue;
                T wt = weight.IsEmpty ? T.One : weight[(int)t];
                if (!a.IsEmpty) a[at] = scale * (keep * wt + share * weightSum);
                if (smoothing != 0)
                    for (int k = 0; k < c; k++)
                        b[(i * c + k) * s + j] = scale * share * (weight.IsEmpty ? T.One : weight[k]);
                b[(i * c + (int)t) * s + j] += scale * keep * wt;
            }
    }
}
