using System.Numerics;

namespace Backprop.Kernels.Loss;

/// <summary>Binary cross-entropy on logits in the overflow-free softplus form.</summary>
internal static class BceWithLogitsKernel
{
    /// <summary>
    /// loss[i] = (1 − t)·x + (1 + (p − 1)·t)·softplus(−x), with softplus(−x) = max(−x, 0) + log1p(e^−|x|).
    /// posWeight is empty (p = 1) or has the same length as x.
    /// </summary>
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> target, ReadOnlySpan<T> posWeight, Span<T> loss)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++)
        {
            T xi = x[i], ti = target[i];
            T logWeight = posWeight.IsEmpty ? T.One : T.One + (posWeight[i] - T.One) * ti;
            loss[i] = (T.One - ti) * xi + logWeight * SoftplusNeg(xi);
        }
    }

    /// <summary>softplus(−x) = log(1 + e^−x) without overflow for any x.</summary>
    public static T SoftplusNeg<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
        => T.Max(-x, T.Zero) + Log1p(T.Exp(-T.Abs(x)));

    /// <summary>log(1 + u) accurate for tiny u (the rounding of 1 + u is corrected).</summary>
    public static T Log1p<T>(T u) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T w = T.One + u;
        return w == T.One ? u : T.Log(w) * u / (w - T.One);
    }
}
