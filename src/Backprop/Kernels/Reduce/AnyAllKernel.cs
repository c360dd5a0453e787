using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>
/// Any and all over the middle axis of bytes 0/1 (the bytes of a bool tensor) laid out as
/// [outer, size, inner], into [outer, inner]. A reduction along the last axis is a vectorised search
/// for a 1 (any) or a 0 (all); along another axis, rows are or-ed (and-ed) together a vector at a time.
/// </summary>
internal static class AnyAllKernel
{
    public static void Any(ReadOnlySpan<byte> x, int outer, int size, int inner, Span<byte> y) => Run(x, outer, size, inner, y, all: false);

    public static void All(ReadOnlySpan<byte> x, int outer, int size, int inner, Span<byte> y) => Run(x, outer, size, inner, y, all: true);

    private static void Run(ReadOnlySpan<byte> x, int outer, int size, int inner, Span<byte> y, bool all)
    {
        // any: is there a 1? all: is there no 0? An empty reduction gives false and true, as PyTorch.
        byte sought = all ? (byte)0 : (byte)1;
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<byte> block = x.Slice(o * size * inner, size * inner);
            if (inner == 1)
            {
                bool found = block.Contains(sought);
                y[o] = (byte)(found != all ? 1 : 0);
                continue;
            }
            Span<byte> row = y.Slice(o * inner, inner);
            row.Fill(all ? (byte)1 : (byte)0);
            for (int r = 0; r < size; r++)
            {
                ReadOnlySpan<byte> src = block.Slice(r * inner, inner);
                if (all) TensorPrimitives.BitwiseAnd<byte>(row, src, row);
                else TensorPrimitives.BitwiseOr<byte>(row, src, row);
            }
        }
    }
}
