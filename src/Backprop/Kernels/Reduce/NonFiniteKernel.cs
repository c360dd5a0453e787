using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>How many elements of a span are NaN, +∞ and −∞.</summary>
internal readonly record struct NonFiniteCounts(long NaN, long PositiveInfinity, long NegativeInfinity)
{
    /// <summary>True when at least one element is NaN.</summary>
    public bool HasNaN => NaN != 0;

    /// <summary>True when at least one element is +∞ or −∞.</summary>
    public bool HasInfinity => PositiveInfinity != 0 || NegativeInfinity != 0;

    /// <summary>True when any element is not finite.</summary>
    public bool Any => HasNaN || HasInfinity;

    /// <summary>The counts of two spans together.</summary>
    public static NonFiniteCounts operator +(NonFiniteCounts a, NonFiniteCounts b)
        => new(a.NaN + b.NaN, a.PositiveInfinity + b.PositiveInfinity, a.NegativeInfinity + b.NegativeInfinity);
}

/// <summary>
/// Counts the elements that are not finite (anomaly detection). The common case, all finite, is one
/// vectorized pass (TensorPrimitives.IsFiniteAll); only a span that holds a NaN or an infinity is
/// counted element by element.
/// </summary>
internal static class NonFiniteKernel
{
    /// <summary>The NaN, +∞ and −∞ counts of <paramref name="x"/>.</summary>
    public static NonFiniteCounts Count<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.IsFiniteAll(x) ? default : CountScalar(x);

    /// <summary>The element-by-element count, also the reference the fast path is tested against.</summary>
    internal static NonFiniteCounts CountScalar<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long nan = 0, pos = 0, neg = 0;
        foreach (T v in x)
        {
            if (T.IsNaN(v)) nan++;
            else if (T.IsPositiveInfinity(v)) pos++;
            else if (T.IsNegativeInfinity(v)) neg++;
        }
        return new NonFiniteCounts(nan, pos, neg);
    }
}
