using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Attention;

/// <summary>
/// The per-row steps of attention between its products, each one pass (or two) over a row of the
/// score matrix at the widest SIMD width with a scalar tail: the masked softmax of the forward and
/// dS = P∘(dP − Σ dP∘P) of the backward. Rows are short (64 in the benchmark), so one fused loop
/// beats a chain of library calls per row.
/// </summary>
internal static unsafe class AttentionRows
{
    /// <summary>row[0..n) ← softmax(row[0..n)); a row that is all −∞ (or empty) becomes zeros, as PyTorch's _safe_softmax.</summary>
    public static void Softmax<T>(T* row, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (SimdWidths.Has512 && n >= Vector512<T>.Count) Softmax<T, Width512<T>, Vector512<T>>(row, n);
        else if (SimdWidths.Has256 && n >= Vector256<T>.Count) Softmax<T, Width256<T>, Vector256<T>>(row, n);
        else if (SimdWidths.Has128 && n >= Vector128<T>.Count) Softmax<T, Width128<T>, Vector128<T>>(row, n);
        else Softmax<T, WidthScalar<T>, T>(row, n);
    }

    /// <summary>dp[0..n) ← p∘(dp − Σ_j dp_j·p_j): the softmax backward, in place.</summary>
    public static void SoftmaxGrad<T>(T* dp, T* p, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (SimdWidths.Has512 && n >= Vector512<T>.Count) SoftmaxGrad<T, Width512<T>, Vector512<T>>(dp, p, n);
        else if (SimdWidths.Has256 && n >= Vector256<T>.Count) SoftmaxGrad<T, Width256<T>, Vector256<T>>(dp, p, n);
        else if (SimdWidths.Has128 && n >= Vector128<T>.Count) SoftmaxGrad<T, Width128<T>, Vector128<T>>(dp, p, n);
        else SoftmaxGrad<T, WidthScalar<T>, T>(dp, p, n);
    }

    /// <summary>
    /// The softmax of one row at width W: whole vectors in place, and the last partial vector (a causal row's
    /// length is rarely a multiple of the width) through a register-wide scratch padded with −∞, which changes
    /// neither the maximum nor the sum (e^−∞ = 0), instead of one scalar exponential per leftover element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static void Softmax<T, W, TV>(T* row, int n)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
    {
        int w = W.Count, full = n / w * w, rem = n - full;
        T* tail = stackalloc T[w];
        if (rem > 0)
        {
            new Span<T>(tail, w).Fill(T.NegativeInfinity);
            new ReadOnlySpan<T>(row + full, rem).CopyTo(new Span<T>(tail, rem));
        }
        TV vm = rem > 0 ? W.Load(tail) : W.Splat(T.NegativeInfinity);
        for (int j = 0; j < full; j += w) vm = W.Max(vm, W.Load(row + j));
        T max = W.MaxLane(vm);
        if (T.IsNegativeInfinity(max))
        {
            new Span<T>(row, n).Clear();
            return;
        }
        TV vmax = W.Splat(max), vsum = W.Zero;
        for (int j = 0; j < full; j += w)
        {
            TV e = W.Exp(W.Sub(W.Load(row + j), vmax));
            W.Store(row + j, e);
            vsum = W.Add(vsum, e);
        }
        TV eTail = W.Zero;
        if (rem > 0)
        {
            eTail = W.Exp(W.Sub(W.Load(tail), vmax));
            vsum = W.Add(vsum, eTail);
        }
        TV vinv = W.Splat(T.One / W.Sum(vsum));
        for (int j = 0; j < full; j += w) W.Store(row + j, W.Mul(W.Load(row + j), vinv));
        if (rem > 0)
        {
            W.Store(tail, W.Mul(eTail, vinv));
            new ReadOnlySpan<T>(tail, rem).CopyTo(new Span<T>(row + full, rem));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SoftmaxGrad<T, W, TV>(T* dp, T* p, int n)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
    {
        int w = W.Count, j;
        TV acc = W.Zero;
        for (j = 0; j + w <= n; j += w) acc = W.MulAdd(W.Load(dp + j), W.Load(p + j), acc);
        T dot = W.Sum(acc);
        for (; j < n; j++) dot += dp[j] * p[j];
        TV vdot = W.Splat(dot);
        for (j = 0; j + w <= n; j += w) W.Store(dp + j, W.Mul(W.Load(p + j), W.Sub(W.Load(dp + j), vdot)));
        for (; j < n; j++) dp[j] = p[j] * (dp[j] - dot);
    }
}
