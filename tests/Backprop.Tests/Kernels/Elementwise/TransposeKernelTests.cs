using Backprop.Kernels.Elementwise;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>The strided transpose against the definition, at every block remainder; run-tests repeats it at each SIMD width.</summary>
[Trait("Category", "Kernels")]
public unsafe class TransposeKernelTests
{
    [Fact]
    public void Transpose_IsExact_ForEveryBlockRemainder_AndBothStrideKinds()
    {
        var rng = new Random(7);
        // 8×8 blocks with AVX, 4×4 with 128-bit vectors only: every remainder of both
        foreach (int rows in new[] { 1, 3, 4, 5, 6, 7, 8, 9, 16, 23, 64 })
            foreach (int cols in new[] { 1, 3, 4, 5, 6, 8, 15, 32, 33 })
                foreach (bool rowMajor in new[] { true, false })
                {
                    // A padded source either way round: (r, c) at r·rowStride + c·colStride.
                    nint rowStride = rowMajor ? cols + 3 : 1, colStride = rowMajor ? 1 : rows + 2;
                    float[] src = new float[rows * (cols + 3) + cols * (rows + 2) + 1];
                    for (int i = 0; i < src.Length; i++) src[i] = (float)rng.NextDouble();
                    float[] dst = new float[rows * cols];
                    fixed (float* ps = src, pd = dst)
                        TransposeKernel.Transpose(ps, rowStride, colStride, rows, cols, pd);
                    for (int r = 0; r < rows; r++)
                        for (int c = 0; c < cols; c++)
                            Assert.Equal(src[r * rowStride + c * colStride], dst[c * rows + r]);
                }
    }
}
