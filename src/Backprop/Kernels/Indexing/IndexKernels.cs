using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Indexing;

/// <summary>
/// Gather/scatter along one dim and index-select/index-add of whole rows. Indices must be
/// validated by the caller (<see cref="FirstOutOfRange"/>); loops run over the contiguous
/// innermost row of the index.
/// </summary>
internal static class IndexKernels
{
    /// <summary>Position of the first index outside [0, size), or −1 when all are in range.</summary>
    public static int FirstOutOfRange(ReadOnlySpan<long> index, int size)
    {
        for (int i = 0; i < index.Length; i++)
            if ((ulong)index[i] >= (ulong)size) return i;
        return -1;
    }

    /// <summary>
    /// dst[p] = src[p with coordinate <paramref name="dim"/> replaced by index[p]] for every
    /// position p of the contiguous index of shape <paramref name="indexShape"/> (rank ≥ 1);
    /// src is strided, dst is contiguous with the index's shape.
    /// </summary>
    public static void Gather<T>(T[] src, int srcOffset, ReadOnlySpan<int> srcStrides,
                                 ReadOnlySpan<long> index, ReadOnlySpan<int> indexShape, int dim, Span<T> dst)
        where T : unmanaged
    {
        if (index.Length == 0) return;
        int rank = indexShape.Length;
        int inner = indexShape[rank - 1];
        int sDim = srcStrides[dim];
        int sLast = dim == rank - 1 ? 0 : srcStrides[rank - 1];
        Span<int> outer = stackalloc int[rank];
        srcStrides.CopyTo(outer);
        outer[dim] = 0; // the index supplies this coordinate
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int rows = index.Length / inner;
        int o = srcOffset, p = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<long> idx = index.Slice(p, inner);
            Span<T> row = dst.Slice(p, inner);
            if (sLast == 0)
                for (int i = 0; i < row.Length; i++) row[i] = src[o + (int)idx[i] * sDim];
            else
                for (int i = 0; i < row.Length; i++) row[i] = src[o + i * sLast + (int)idx[i] * sDim];
            p += inner;
            Advance(counter, indexShape, outer, ref o, rank);
        }
    }

    /// <summary>
    /// dst[p with coordinate <paramref name="dim"/> replaced by index[p]] += src[p] for every
    /// position p of the contiguous index (rank ≥ 1); src is strided, dst is contiguous with
    /// strides <paramref name="dstStrides"/>.
    /// </summary>
    public static void ScatterAdd<T>(ReadOnlySpan<long> index, ReadOnlySpan<int> indexShape, int dim,
                                     T[] src, int srcOffset, ReadOnlySpan<int> srcStrides,
                                     Span<T> dst, ReadOnlySpan<int> dstStrides)
        where T : unmanaged, INumber<T>
    {
        if (index.Length == 0) return;
        int rank = indexShape.Length;
        int inner = indexShape[rank - 1];
        int dDim = dstStrides[dim];
        int dLast = dim == rank - 1 ? 0 : dstStrides[rank - 1];
        int sLast = srcStrides[rank - 1];
        Span<int> dOuter = stackalloc int[rank];
        dstStrides.CopyTo(dOuter);
        dOuter[dim] = 0;
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int rows = index.Length / inner;
        int od = 0, os = srcOffset, p = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<long> idx = index.Slice(p, inner);
            for (int i = 0; i < idx.Length; i++)
                dst[od + i * dLast + (int)idx[i] * dDim] += src[os + i * sLast];
            p += inner;
            // Both offsets follow the same counter: advance them together.
            for (int d = rank - 2; d >= 0; d--)
            {
                od += dOuter[d];
                os += srcStrides[d];
                if (++counter[d] < indexShape[d]) break;
                od -= dOuter[d] * indexShape[d];
                os -= srcStrides[d] * indexShape[d];
                counter[d] = 0;
            }
        }
    }

    private static void Advance(Span<int> counter, ReadOnlySpan<int> shape, ReadOnlySpan<int> strides, ref int offset, int rank)
    {
        for (int d = rank - 2; d >= 0; d--)
        {
            offset += strides[d];
            if (++counter[d] < shape[d]) return;
            offset -= strides[d] * shape[d];
            counter[d] = 0;
        }
    }

    /// <summary>
    /// src is contiguous [outer, size, inner], dst contiguous [outer, index.Length, inner]:
    /// dst[o, j, :] = src[o, index[j], :].
    /// </summary>
    public static void IndexSelect<T>(ReadOnlySpan<T> src, int outer, int size, int inner, ReadOnlySpan<long> index, Span<T> dst)
        where T : unmanaged
    {
        int n = index.Length;
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<T> block = src.Slice(o * size * inner, size * inner);
            Span<T> outBlock = dst.Slice(o * n * inner, n * inner);
            if (inner == 1)
                for (int j = 0; j < n; j++) outBlock[j] = block[(int)index[j]];
            else
                for (int j = 0; j < n; j++) block.Slice((int)index[j] * inner, inner).CopyTo(outBlock.Slice(j * inner, inner));
        }
    }

    /// <summary>
    /// dst is contiguous [outer, size, inner], src contiguous [outer, index.Length, inner]:
    /// dst[o, index[j], :] += src[o, j, :].
    /// </summary>
    public static void IndexAdd<T>(Span<T> dst, int outer, int size, int inner, ReadOnlySpan<long> index, ReadOnlySpan<T> src)
        where T : unmanaged, INumber<T>
    {
        int n = index.Length;
        for (int o = 0; o < outer; o++)
        {
            Span<T> block = dst.Slice(o * size * inner, size * inner);
            ReadOnlySpan<T> inBlock = src.Slice(o * n * inner, n * inner);
            if (inner == 1)
                for (int j = 0; j < n; j++) block[(int)index[j]] += inBlock[j];
            else
                for (int j = 0; j < n; j++)
                {
                    Span<T> row = block.Slice((int)index[j] * inner, inner);
                    TensorPrimitives.Add(row, inBlock.Slice(j * inner, inner), row);
                }
        }
    }

    /// <summary>
    /// y[i] = mask[i] ? a[i] : b[i] over <paramref name="shape"/>; a and b are strided (broadcast
    /// strides allowed), mask and y are contiguous.
    /// </summary>
    public static void Where<T>(ReadOnlySpan<byte> mask, T[] a, int offsetA, ReadOnlySpan<int> stridesA,
                                T[] b, int offsetB, ReadOnlySpan<int> stridesB, Span<T> y, ReadOnlySpan<int> shape)
        where T : unmanaged
    {
        if (y.Length == 0) return;
        var rows = new StridedRows(shape, stridesA, offsetA, stridesB, offsetB, stackalloc int[StridedRows.ScratchLength(shape.Length)]);
        int inner = rows.Inner, ia = rows.Step0, ib = rows.Step1;
        for (int oy = 0; oy < y.Length; oy += inner, rows.Advance())
        {
            Span<T> yRow = y.Slice(oy, inner);
            ReadOnlySpan<byte> mRow = mask.Slice(oy, inner);
            int oa = rows.Offset0, ob = rows.Offset1;
            if (ia == 1 && ib == 1)
            {
                ReadOnlySpan<T> aRow = a.AsSpan(oa, inner), bRow = b.AsSpan(ob, inner);
                for (int i = 0; i < yRow.Length; i++) yRow[i] = mRow[i] != 0 ? aRow[i] : bRow[i];
            }
            else
                for (int i = 0; i < yRow.Length; i++) yRow[i] = mRow[i] != 0 ? a[oa + i * ia] : b[ob + i * ib];
        }
    }
}
