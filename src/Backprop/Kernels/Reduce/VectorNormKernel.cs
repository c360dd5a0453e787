using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>
/// Vector p-norms over the middle axis of a contiguous [outer, n, inner] block, as torch.linalg.vector_norm:
/// p = 2 is √Σx² (SIMD sum of squares), 1 is Σ|x|, ∞ is max |x|, −∞ is min |x|, 0 counts the nonzero elements
/// (NaN counts), and any other p is (Σ|x|^p)^(1/p). NaN propagates through every p but 0. Accumulation is in
/// the element type, as PyTorch's CPU kernel; no rescaling, so a float32 square that overflows gives ∞ there too.
/// </summary>
internal static class VectorNormKernel
{
    /// <summary>y[o, i] = ‖x[o, :, i]‖_p; y has outer·inner elements. n must be positive for p = ±∞.</summary>
    public static void Run<T>(ReadOnlySpan<T> x, int outer, int n, int inner, double p, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (outer == 0 || inner == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) y[o] = Row(x.Slice(o * n, n), p);
            return;
        }
        for (int o = 0; o < outer; o++)
            Columns(x.Slice(o * n * inner, n * inner), n, p, y.Slice(o * inner, inner));
    }

    /// <summary>The norm of one contiguous row.</summary>
    public static T Row<T>(ReadOnlySpan<T> x, double p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p == 2) return T.Sqrt(TensorPrimitives.SumOfSquares(x));
        if (p == 1) return TensorPrimitives.SumOfMagnitudes(x);
        if (double.IsPositiveInfinity(p)) return T.Abs(TensorPrimitives.MaxMagnitude(x));
        if (double.IsNegativeInfinity(p)) return T.Abs(TensorPrimitives.MinMagnitude(x));
        if (p == 0)
        {
            int count = 0;
            foreach (T v in x) if (v != T.Zero) count++;
            return T.CreateTruncating(count);
        }
        T tp = T.CreateTruncating(p), sum = T.Zero;
        foreach (T v in x) sum += T.Pow(T.Abs(v), tp);
        return T.Pow(sum, T.One / tp);
    }

    /// <summary>Norms of the inner columns of an [n, inner] block, accumulated row by row.</summary>
    private static void Columns<T>(ReadOnlySpan<T> x, int n, double p, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inner = y.Length;
        if (p == 2)
        {
            y.Clear();
            for (int r = 0; r < n; r++)
            {
                ReadOnlySpan<T> row = x.Slice(r * inner, inner);
                TensorPrimitives.MultiplyAdd(row, row, y, y);
            }
            TensorPrimitives.Sqrt(y, y);
            return;
        }
        if (double.IsInfinity(p))
        {
            bool max = p > 0;
            TensorPrimitives.Abs(x[..inner], y);
            for (int r = 1; r < n; r++)
            {
                ReadOnlySpan<T> row = x.Slice(r * inner, inner);
                for (int i = 0; i < inner; i++)
                {
                    T a = T.Abs(row[i]);
                    if (T.IsNaN(a) || (max ? a > y[i] : a < y[i])) y[i] = a;
                }
            }
            return;
        }
        y.Clear();
        T tp = T.CreateTruncating(p);
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<T> row = x.Slice(r * inner, inner);
            for (int i = 0; i < inner; i++)
            {
                T v = row[i];
                y[i] += p == 1 ? T.Abs(v) : p == 0 ? (v != T.Zero ? T.One : T.Zero) : T.Pow(T.Abs(v), tp);
            }
        }
        if (p != 1 && p != 0)
        {
            T inv = T.One / tp;
            for (int i = 0; i < inner; i++) y[i] = T.Pow(y[i], inv);
        }
    }
}
