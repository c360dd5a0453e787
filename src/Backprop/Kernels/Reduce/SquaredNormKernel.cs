using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>
/// Squared L2 norms of whole buffers for diagnostics (gradient and weight norms, update sizes): SIMD sums
/// (<see cref="TensorPrimitives"/>) over blocks of 4,096 elements, carried from block to block in double, so
/// a float32 buffer of millions of values keeps about double the precision of one long float sum. One pass, no
/// allocation.
/// </summary>
internal static class SquaredNormKernel
{
    private const int Block = 4096;

    /// <summary>Σ x[i]².</summary>
    public static double SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        for (int i = 0; i < x.Length; i += Block)
            total += double.CreateTruncating(TensorPrimitives.SumOfSquares(x.Slice(i, Math.Min(Block, x.Length - i))));
        return total;
    }

    /// <summary>Σ (a[i] − b[i])²; the spans have the same length.</summary>
    public static double SquaredDistance<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"SquaredDistance: spans of {a.Length} and {b.Length} elements");
        double total = 0;
        for (int i = 0; i < a.Length; i += Block)
        {
            int n = Math.Min(Block, a.Length - i);
            double d = double.CreateTruncating(TensorPrimitives.Distance(a.Slice(i, n), b.Slice(i, n)));
            total += d * d;
        }
        return total;
    }
}
