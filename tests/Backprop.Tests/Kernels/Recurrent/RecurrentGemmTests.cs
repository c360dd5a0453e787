using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Gemm;
using Backprop.Kernels.Recurrent;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Recurrent;

/// <summary>
/// The recurrent step's product on one packed panel, C (+)= A·B with A read in place, against the plain
/// triple loop: every tile height (rows split into nearly equal tiles), partial panels, depths across the
/// KC blocks, strided A and C, for each tile kernel the CPU runs (and the scalar one everywhere).
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class RecurrentGemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 5, 0 }, { 2, 3, 7 }, { 5, 16, 9 }, { 6, 16, 256 }, { 7, 9, 257 }, { 8, 32, 33 },
        { 9, 31, 100 }, { 13, 1, 513 }, { 17, 20, 64 }, { 32, 16, 256 }, { 33, 32, 1030 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Panel_MatchesReference_EveryKernel(int rows, int cols, int k)
    {
        Check<float, ScalarTiles<float>>(rows, cols, k);
        Check<double, ScalarTiles<double>>(rows, cols, k);
        if (Vector128.IsHardwareAccelerated)
        {
            Check<float, Tiles6x2<float, Width128<float>, Vector128<float>>>(rows, cols, k);
            Check<double, Tiles6x2<double, Width128<double>, Vector128<double>>>(rows, cols, k);
        }
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
        {
            Check<float, Tiles6x2<float, Width256<float>, Vector256<float>>>(rows, cols, k);
            Check<double, Tiles6x2<double, Width256<double>, Vector256<double>>>(rows, cols, k);
        }
        if (Vector512.IsHardwareAccelerated)
        {
            Check<float, Vector512Tiles<float>>(rows, cols, k);
            Check<double, Vector512Tiles<double>>(rows, cols, k);
        }
    }

    [Fact]
    public void PanelWidth_IsTwoVectorsOfTheKernelThisCpuRuns()
    {
        int expected = Vector512.IsHardwareAccelerated ? 2 * Vector512<float>.Count
                       : Vector256.IsHardwareAccelerated && Fma.IsSupported ? 2 * Vector256<float>.Count
                       : Vector128.IsHardwareAccelerated ? 2 * Vector128<float>.Count : 4;
        Assert.Equal(expected, RecurrentGemm.PanelWidth<float>());
    }

    private static void Check<T, K>(int rows, int cols, int k) where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IRecurrentTiles<T>
    {
        int nr = K.NR;
        cols = Math.Min(cols, nr);
        int lda = k + 3, ldc = cols + 5;
        var rng = new Random(rows * 1000 + cols * 10 + k);
        double[] a = Fill(rng, rows * lda), b = Fill(rng, k * cols), c0 = Fill(rng, rows * ldc);
        foreach (bool accumulate in new[] { false, true })
        {
            T[] at = Convert<T>(a), ct = Convert<T>(c0);
            T[] packed = new T[Math.Max(k, 1) * nr + GemmPacking.Slack];
            T[] bt = Convert<T>(b);
            fixed (T* pb = bt)
            fixed (T* pp = packed)
            fixed (T* pa = at)
            fixed (T* pc = ct)
            {
                GemmPacking.PackB(false, pb, cols, k, cols, pp, nr);
                RecurrentGemm.Panel<T, K>(rows, cols, k, pa, lda, pp, pc, ldc, accumulate);
            }
            var (expected, magnitude) = ReferenceGemm.Multiply(false, false, rows, cols, k, 1, a, lda, b, cols, accumulate ? 1 : 0, c0, ldc);
            double eps = typeof(T) == typeof(float) ? 1e-6 : 1e-14;
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < ldc; j++)
                {
                    int at2 = r * ldc + j;
                    double got = double.CreateChecked(ct[at2]);
                    if (j >= cols)
                        Assert.Equal(double.CreateChecked(Convert<T>(c0)[at2]), got); // outside the panel: untouched
                    else
                        Assert.True(Math.Abs(got - expected[at2]) <= eps * (1 + magnitude[at2]),
                            $"{typeof(K).Name}: rows {rows}, cols {cols}, k {k}, accumulate {accumulate}: C[{r}, {j}] = {got}, expected {expected[at2]}");
                }
        }
    }

    private static double[] Fill(Random rng, int n)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rng.NextDouble() * 2 - 1;
        return v;
    }

    private static T[] Convert<T>(double[] v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new T[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = T.CreateChecked(v[i]);
        return r;
    }
}
