using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>Sums over the middle axis of a contiguous [outer, reduce, inner] block.</summary>
internal static class SumKernel
{
    /// <summary>y[o, i] = Σ_r x[o, r, i]. x has outer·reduce·inner elements, y has outer·inner.</summary>
    public static void SumMiddle<T>(ReadOnlySpan<T> x, int outer, int reduce, int inner, Span<T> y)
        where T : unmanaged, INumber<T>
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
                y[o] = SumContiguous(x.Slice(o * reduce, reduce));
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            Span<T> yRow = y.Slice(o * inner, inner);
            if (reduce == 0) { yRow.Clear(); continue; }
            SumRows(x.Slice(o * reduce * inner, reduce * inner), reduce, inner, yRow);
        }
    }

    /// <summary>
    /// y[j] = Σ_r x[r·rowStride + j] for j &lt; y.Length over <paramref name="rows"/> ≥ 1 rows, each column
    /// summed in row order (so any split of the columns gives the same values).
    /// </summary>
    public static void SumRows<T>(ReadOnlySpan<T> x, int rows, int rowStride, Span<T> y) where T : unmanaged, INumber<T>
    {
        int width = y.Length;
        x[..width].CopyTo(y);
        for (int r = 1; r < rows; r++)
            TensorPrimitives.Add(y, x.Slice(r * rowStride, width), y);
    }

    /// <summary>Sum of a contiguous span; float32 sums blocks and carries the total in double for accuracy.</summary>
    public static T SumContiguous<T>(ReadOnlySpan<T> x) where T : unmanaged, INumber<T>
    {
        if (typeof(T) != typeof(float) || x.Length <= 4096)
            return TensorPrimitives.Sum(x);
        double total = 0;
        for (int i = 0; i < x.Length; i += 4096)
            total += double.CreateTruncating(TensorPrimitives.Sum(x.Slice(i, Math.Min(4096, x.Length - i))));
        return T.CreateTruncating(total);
    }
}
