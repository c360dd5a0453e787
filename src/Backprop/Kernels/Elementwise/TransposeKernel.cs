using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Backprop.Kernels.Gemm;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Out-of-place transpose of a strided matrix: 8×8 float blocks in AVX registers, 4×4 blocks where only 128-bit
/// vectors are fast, element by element for the edges and other types. Attention transposes a slice's keys and
/// values with it, the convolution backward its [K, Og] weight gradient.
/// </summary>
internal static unsafe class TransposeKernel
{
    /// <summary>dst[c·rows + r] = src[r·srcRow + c·srcCol]: a rows×cols matrix into its cols×rows transpose (row-major).</summary>
    internal static void Transpose<T>(T* src, nint srcRow, nint srcCol, int rows, int cols, T* dst) where T : unmanaged
    {
        const int block = 8;
        if (typeof(T) == typeof(float) && srcCol == 1 && Avx.IsSupported && rows >= block && cols >= block)
        {
            // Whole 8×8 blocks in registers (a slice's keys or values: rows of a packed projection, 8 floats contiguous).
            int rowsFast = rows & ~(block - 1), colsFast = cols & ~(block - 1);
            Transpose8x8Blocks((float*)src, srcRow, rows, rowsFast, colsFast, (float*)dst);
            TransposeScalar(src, srcRow, srcCol, 0, rows, colsFast, cols, rows, dst);
            TransposeScalar(src, srcRow, srcCol, rowsFast, rows, 0, colsFast, rows, dst);
            return;
        }
        if (typeof(T) == typeof(float) && srcCol == 1 && !Avx.IsSupported && Vector128.IsHardwareAccelerated && rows >= 4 && cols >= 4)
        {
            // 128-bit vectors only (ARM64, WebAssembly, SSE-only x86): whole 4×4 blocks.
            int rowsFast = rows & ~3, colsFast = cols & ~3;
            Transpose4x4Blocks((float*)src, srcRow, rows, rowsFast, colsFast, (float*)dst);
            TransposeScalar(src, srcRow, srcCol, 0, rows, colsFast, cols, rows, dst);
            TransposeScalar(src, srcRow, srcCol, rowsFast, rows, 0, colsFast, rows, dst);
            return;
        }
        TransposeScalar(src, srcRow, srcCol, 0, rows, 0, cols, rows, dst);
    }

    /// <summary>
    /// The 4×4 blocks of rows [0, rowsFast) × cols [0, colsFast) of a row-major float source (column stride 1),
    /// with the cross-platform shuffles and selects only: pairs of rows interleaved, then pairs of pairs.
    /// </summary>
    private static void Transpose4x4Blocks(float* src, nint srcRow, int rows, int rowsFast, int colsFast, float* dst)
    {
        Vector128<float> even = Vector128.Create(-1, 0, -1, 0).AsSingle();  // lanes 0 and 2 from the first operand
        Vector128<double> low = Vector128.Create(-1L, 0).AsDouble();        // the low 64 bits from the first operand
        for (int r0 = 0; r0 < rowsFast; r0 += 4)
        {
            float* s = src + r0 * srcRow;
            for (int c0 = 0; c0 < colsFast; c0 += 4)
            {
                float* sp = s + c0;
                Vector128<float> a = Vector128.Load(sp), b = Vector128.Load(sp + srcRow);
                Vector128<float> c = Vector128.Load(sp + 2 * srcRow), d = Vector128.Load(sp + 3 * srcRow);
                // [a0 b0 a2 b2], [a1 b1 a3 b3], [c0 d0 c2 d2], [c1 d1 c3 d3]
                Vector128<double> ab02 = Vector128.ConditionalSelect(even, a, Vector128.Shuffle(b, Vector128.Create(0, 0, 2, 2))).AsDouble();
                Vector128<double> ab13 = Vector128.ConditionalSelect(even, Vector128.Shuffle(a, Vector128.Create(1, 1, 3, 3)), b).AsDouble();
                Vector128<double> cd02 = Vector128.ConditionalSelect(even, c, Vector128.Shuffle(d, Vector128.Create(0, 0, 2, 2))).AsDouble();
                Vector128<double> cd13 = Vector128.ConditionalSelect(even, Vector128.Shuffle(c, Vector128.Create(1, 1, 3, 3)), d).AsDouble();
                float* o = dst + (nint)c0 * rows + r0;
                Vector128.ConditionalSelect(low, ab02, Vector128.Shuffle(cd02, Vector128.Create(0L, 0))).AsSingle().Store(o);
                Vector128.ConditionalSelect(low, ab13, Vector128.Shuffle(cd13, Vector128.Create(0L, 0))).AsSingle().Store(o + rows);
                Vector128.ConditionalSelect(low, Vector128.Shuffle(ab02, Vector128.Create(1L, 1)), cd02).AsSingle().Store(o + 2 * rows);
                Vector128.ConditionalSelect(low, Vector128.Shuffle(ab13, Vector128.Create(1L, 1)), cd13).AsSingle().Store(o + 3 * rows);
            }
        }
    }

    /// <summary>The 8×8 blocks of rows [0, rowsFast) × cols [0, colsFast) of a row-major float source (column stride 1).</summary>
    private static void Transpose8x8Blocks(float* src, nint srcRow, int rows, int rowsFast, int colsFast, float* dst)
    {
        for (int r0 = 0; r0 < rowsFast; r0 += 8)
        {
            float* s = src + r0 * srcRow;
            for (int c0 = 0; c0 < colsFast; c0 += 8)
            {
                float* sp = s + c0;
                Vector256<float> x0 = Vector256.Load(sp), x1 = Vector256.Load(sp + srcRow);
                Vector256<float> x2 = Vector256.Load(sp + 2 * srcRow), x3 = Vector256.Load(sp + 3 * srcRow);
                Vector256<float> x4 = Vector256.Load(sp + 4 * srcRow), x5 = Vector256.Load(sp + 5 * srcRow);
                Vector256<float> x6 = Vector256.Load(sp + 6 * srcRow), x7 = Vector256.Load(sp + 7 * srcRow);
                GemmPacking.Transpose8x8(ref x0, ref x1, ref x2, ref x3, ref x4, ref x5, ref x6, ref x7);
                float* d = dst + (nint)c0 * rows + r0;
                x0.Store(d); d += rows;
                x1.Store(d); d += rows;
                x2.Store(d); d += rows;
                x3.Store(d); d += rows;
                x4.Store(d); d += rows;
                x5.Store(d); d += rows;
                x6.Store(d); d += rows;
                x7.Store(d);
            }
        }
    }

    /// <summary>Rows [r0, r1) × cols [c0, c1) of the transpose, element by element (dst has <paramref name="rows"/> columns).</summary>
    private static void TransposeScalar<T>(T* src, nint srcRow, nint srcCol, int rStart, int rEnd, int cStart, int cEnd, int rows, T* dst) where T : unmanaged
    {
        const int block = 8;
        for (int r0 = rStart; r0 < rEnd; r0 += block)
        {
            int r1 = Math.Min(rEnd, r0 + block);
            for (int c = cStart; c < cEnd; c++)
            {
                T* d = dst + (nint)c * rows;
                T* sc = src + c * srcCol;
                for (int r = r0; r < r1; r++) d[r] = sc[r * srcRow];
            }
        }
    }
}
