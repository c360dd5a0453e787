using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>Variance along the middle axis of a contiguous [outer, n, inner] block, two-pass (mean, then squared deviations).</summary>
internal static class VarKernel
{
    /// <summary>y[o, i] = Σ_r (x[o, r, i] − mean[o, i])² / divisor. y has outer·inner elements.</summary>
    public static void Run<T>(ReadOnlySpan<T> x, int outer, int n, int inner, T divisor, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (outer == 0 || inner == 0) return;
        T count = T.CreateTruncating(n);
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> row = x.Slice(o * n, n);
                T mean = SumKernel.SumContiguous(row) / count;
                y[o] = SumSquaredDeviation(row, mean) / divisor;
            }
            return;
        }
        T[] rented = ArrayPool<T>.Shared.Rent(2 * inner);
        try
        {
            Span<T> mean = rented.AsSpan(0, inner), d = rented.AsSpan(inner, inner);
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> block = x.Slice(o * n * inner, n * inner);
                Span<T> acc = y.Slice(o * inner, inner);
                SumKernel.SumMiddle(block, 1, n, inner, mean);
                TensorPrimitives.Divide(mean, count, mean);
                acc.Clear();
                for (int r = 0; r < n; r++)
                {
                    TensorPrimitives.Subtract(block.Slice(r * inner, inner), mean, d);
                    TensorPrimitives.MultiplyAdd(d, d, acc, acc);
                }
                TensorPrimitives.Divide(acc, divisor, acc);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(rented);
        }
    }

    /// <summary>Σ (x[i] − mean)² with SIMD lanes and a scalar tail.</summary>
    public static T SumSquaredDeviation<T>(ReadOnlySpan<T> x, T mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        T total = T.Zero;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
        {
            var m = new Vector<T>(mean);
            var acc = Vector<T>.Zero;
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                Vector<T> d = new Vector<T>(x.Slice(i)) - m;
                acc += d * d;
            }
            total = Vector.Sum(acc);
        }
        for (; i < x.Length; i++)
        {
            T d = x[i] - mean;
            total += d * d;
        }
        return total;
    }
}
