using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        if (width > NarrowWidth)
        {
            x[..width].CopyTo(y);
            for (int r = 1; r < rows; r++)
                TensorPrimitives.Add(y, x.Slice(r * rowStride, width), y);
            return;
        }
        if (x.Length < (long)(rows - 1) * rowStride + width)
            throw new ArgumentException($"SumRows: {rows} rows of {width} with row stride {rowStride} need {(long)(rows - 1) * rowStride + width} elements, got {x.Length}");
        ref T src = ref MemoryMarshal.GetReference(x);
        ref T dst = ref MemoryMarshal.GetReference(y);
        int j = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
            j = ColumnBlocks<T, Vector512<T>>(ref src, rows, rowStride, ref dst, width, j);
        if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
            j = ColumnBlocks<T, Vector256<T>>(ref src, rows, rowStride, ref dst, width, j);
        if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
            j = ColumnBlocks<T, Vector128<T>>(ref src, rows, rowStride, ref dst, width, j);
        for (; j < width; j++)
        {
            T sum = Unsafe.Add(ref src, j);
            for (int r = 1; r < rows; r++) sum += Unsafe.Add(ref src, (nint)r * rowStride + j);
            Unsafe.Add(ref dst, j) = sum;
        }
    }

    /// <summary>
    /// Up to this many columns, <see cref="SumRows"/> keeps each vector of columns in a register across all rows
    /// (the bias gradient of a Linear, a few hundred columns over thousands of rows); wider rows are added
    /// whole, row after row. Both add each column in row order.
    /// </summary>
    private const int NarrowWidth = 4096;

    /// <summary>The whole vectors of columns from <paramref name="j"/> on, each summed over the rows in a register; returns the first column left.</summary>
    private static int ColumnBlocks<T, TV>(ref T src, int rows, int rowStride, ref T dst, int width, int j) where T : unmanaged, INumber<T>
    {
        if (typeof(TV) == typeof(Vector512<T>))
        {
            int w = Vector512<T>.Count;
            for (; j + w <= width; j += w)
            {
                Vector512<T> sum = Vector512.LoadUnsafe(ref src, (nuint)j);
                for (int r = 1; r < rows; r++) sum += Vector512.LoadUnsafe(ref src, (nuint)((nint)r * rowStride + j));
                sum.StoreUnsafe(ref dst, (nuint)j);
            }
        }
        else if (typeof(TV) == typeof(Vector256<T>))
        {
            int w = Vector256<T>.Count;
            for (; j + w <= width; j += w)
            {
                Vector256<T> sum = Vector256.LoadUnsafe(ref src, (nuint)j);
                for (int r = 1; r < rows; r++) sum += Vector256.LoadUnsafe(ref src, (nuint)((nint)r * rowStride + j));
                sum.StoreUnsafe(ref dst, (nuint)j);
            }
        }
        else
        {
            int w = Vector128<T>.Count;
            for (; j + w <= width; j += w)
            {
                Vector128<T> sum = Vector128.LoadUnsafe(ref src, (nuint)j);
                for (int r = 1; r < rows; r++) sum += Vector128.LoadUnsafe(ref src, (nuint)((nint)r * rowStride + j));
                sum.StoreUnsafe(ref dst, (nuint)j);
            }
        }
        return j;
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
