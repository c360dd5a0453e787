using System.Numerics;
using Backprop.Kernels.Gemm;

namespace Backprop.Tests.Kernels.Gemm;

/// <summary>
/// A row-major A is read in place by the micro-kernels (<see cref="RowsA{T}"/>) instead of being packed.
/// Each kernel, the AVX-512 one included (emulated where the CPU lacks it), must give bit for bit what it
/// gives from a packed A: the same product with A stored transposed, which is always packed.
/// </summary>
[Trait("Category", "Kernels")]
public class GemmInPlaceATests
{
    // m with and without partial MR-row panels, k across the depth blocks, row strides that are read
    // in place and one (a whole multiple of 4 KiB) that is packed.
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        { 48, 32, 17, 0 }, { 50, 40, 300, 3 }, { 23, 70, 129, 1 }, { 200, 33, 520, 0 }, { 13, 16, 1024, 0 }, { 7, 9, 2, 5 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryKernel_InPlaceA_EqualsPackedA(int m, int n, int k, int pad)
    {
        Check<float, ScalarKernel<float>>(m, n, k, pad);
        Check<float, Vector256Kernel<float>>(m, n, k, pad);
        Check<float, Vector128Kernel<float>>(m, n, k, pad);
        Check<float, Vector512Kernel<float>>(m, n, k, pad);
        Check<double, ScalarKernel<double>>(m, n, k, pad);
        Check<double, Vector256Kernel<double>>(m, n, k, pad);
        Check<double, Vector128Kernel<double>>(m, n, k, pad);
        Check<double, Vector512Kernel<double>>(m, n, k, pad);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryKernel_BiasAndReluInRegisters_EqualSeparatePasses(int m, int n, int k, int pad)
    {
        CheckBiasRelu<float, ScalarKernel<float>>(m, n, k, pad);
        CheckBiasRelu<float, Vector128Kernel<float>>(m, n, k, pad);
        CheckBiasRelu<float, Vector256Kernel<float>>(m, n, k, pad);
        CheckBiasRelu<float, Vector512Kernel<float>>(m, n, k, pad);
        CheckBiasRelu<double, Vector128Kernel<double>>(m, n, k, pad);
        CheckBiasRelu<double, Vector512Kernel<double>>(m, n, k, pad);
    }

    /// <summary>C = A·B + bias then ReLU by the epilogue (in the kernel for whole tiles) equals a C pre-filled with the bias, beta = 1, then a ReLU pass.</summary>
    private static unsafe void CheckBiasRelu<T, K>(int m, int n, int k, int pad) where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGemmKernel<T>
    {
        var rng = new Random(m * 7 + n * 3 + k);
        int lda = k + pad;
        var a = new T[m * lda];
        var b = new T[k * n];
        var bias = new T[n];
        for (int i = 0; i < a.Length; i++) a[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < n; i++) bias[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        foreach (bool relu in new[] { false, true })
        {
            T[] fused = new T[m * n], separate = new T[m * n];
            fixed (T* pa = a) fixed (T* pb = b) fixed (T* pbias = bias) fixed (T* c1 = fused) fixed (T* c2 = separate)
            {
                GemmDriver<T, K>.Run(false, false, m, n, k, T.One, pa, lda, pb, n, T.Zero, c1, n, new GemmEpilogue<T>(pbias, relu));
                for (int i = 0; i < m; i++) bias.AsSpan().CopyTo(separate.AsSpan(i * n, n)); // the bias joins with the first depth block,
                GemmDriver<T, K>.Run(false, false, m, n, k, T.One, pa, lda, pb, n, T.One, c2, n);  // as in a C pre-filled with it and beta = 1
                GemmEpilogue<T>.BiasRelu(c2, n, m, n, null, relu);
            }
            Assert.True(fused.AsSpan().SequenceEqual(separate), $"{typeof(K).Name} m={m} n={n} k={k} relu={relu}: the in-kernel bias/ReLU differs from separate passes");
        }
    }

    [Fact]
    public void RowStrideOfWhole4KiB_IsPacked()
    {
        Assert.True(GemmDriver<float, Vector256Kernel<float>>.ReadsAInPlace(false, 1000));
        Assert.False(GemmDriver<float, Vector256Kernel<float>>.ReadsAInPlace(false, 1024));
        Assert.False(GemmDriver<double, Vector256Kernel<double>>.ReadsAInPlace(false, 512));
        Assert.False(GemmDriver<float, Vector256Kernel<float>>.ReadsAInPlace(true, 1000));
    }

    private static unsafe void Check<T, K>(int m, int n, int k, int pad) where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGemmKernel<T>
    {
        var rng = new Random(m * 1009 + n * 31 + k);
        int lda = k + pad, ldat = m + pad, ldb = n;
        var a = new T[m * lda];
        var at = new T[k * ldat];
        var b = new T[k * ldb];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                a[i * lda + p] = at[p * ldat + i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        for (int i = 0; i < b.Length; i++) b[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        T[] inPlace = new T[m * n], packed = new T[m * n], expected = new T[m * n];
        fixed (T* pa = a) fixed (T* pat = at) fixed (T* pb = b) fixed (T* c1 = inPlace) fixed (T* c2 = packed)
        {
            GemmDriver<T, K>.Run(false, false, m, n, k, T.One, pa, lda, pb, ldb, T.Zero, c1, n);
            GemmDriver<T, K>.Run(true, false, m, n, k, T.One, pat, ldat, pb, ldb, T.Zero, c2, n);
        }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += double.CreateTruncating(a[i * lda + p]) * double.CreateTruncating(b[p * ldb + j]);
                expected[i * n + j] = T.CreateTruncating(sum);
            }
        string what = $"{typeof(K).Name} m={m} n={n} k={k} lda={lda}";
        Assert.True(inPlace.AsSpan().SequenceEqual(packed), $"{what}: in-place A differs from packed A");
        double tol = typeof(T) == typeof(float) ? 1e-4 * Math.Sqrt(k) : 1e-12 * Math.Sqrt(k);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(double.CreateTruncating(inPlace[i] - expected[i])) <= tol, $"{what}: C[{i / n},{i % n}] = {inPlace[i]}, expected {expected[i]}");
    }
}
