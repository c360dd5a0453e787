using Backprop.Kernels.Gemm;
using Backprop.Threading;

namespace Backprop.Tests.Kernels.Gemm;

/// <summary>The GEMM with Linear's bias and ReLU fused into its tiles, against a plain GEMM followed by separate passes.</summary>
[Trait("Category", "Kernels")]
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class GemmEpilogueTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 0, 0, 0 }, { 0, 5, 3 }, { 4, 0, 3 }, { 3, 4, 0 },
        { 1, 1, 1 }, { 1, 33, 7 }, { 9, 1, 5 }, { 2, 3, 4 }, { 7, 15, 9 }, { 8, 32, 8 },
        { 9, 33, 17 }, { 17, 65, 129 }, { 25, 50, 257 }, { 6, 16, 513 }, { 128, 10, 256 },
        { 10, 256, 128 }, { 129, 70, 300 }, { 200, 9, 130 }, { 3, 1025, 6 }, { 40, 2100, 20 }, { 12, 3000, 50 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BiasAndRelu_MatchPrefilledBiasThenRelu(int m, int n, int k)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.ThreadCount = threads;
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                        foreach (bool relu in new[] { false, true })
                        {
                            Check<float>(ta, tb, m, n, k, bias: true, relu, seed: m * 31 + n * 7 + k);
                            Check<double>(ta, tb, m, n, k, bias: true, relu, seed: m * 31 + n * 7 + k + 1);
                        }
                Check<float>(false, true, m, n, k, bias: false, relu: true, seed: 3);
                Check<double>(true, false, m, n, k, bias: false, relu: true, seed: 4);
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GeluAndGeluGrad_MatchSeparatePasses(int m, int n, int k)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.ThreadCount = threads;
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                    {
                        CheckGelu<float>(ta, tb, m, n, k, seed: m * 31 + n * 7 + k);
                        CheckGelu<double>(ta, tb, m, n, k, seed: m * 31 + n * 7 + k + 1);
                    }
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    /// <summary>
    /// Gelu: C = op(A)·op(B) + bias and Aux = GELU(C); GeluGrad: C = (op(A)·op(B)) ∘ GELU′(h) for h in Aux; both
    /// against a plain GEMM and the element-wise GELU kernels over the whole matrix. A row whose length is not a
    /// whole number of vectors ends on the kernels' scalar path in the epilogue, so values agree to rounding.
    /// </summary>
    private static unsafe void CheckGelu<T>(bool ta, bool tb, int m, int n, int k, int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        int lda = Math.Max(ta ? m : k, 1), ldb = Math.Max(tb ? k : n, 1), ldc = Math.Max(n, 1);
        T[] a = Fill<T>(rng, (ta ? k : m) * lda), b = Fill<T>(rng, (tb ? n : k) * ldb), bv = Fill<T>(rng, n), h = Fill<T>(rng, m * n);
        T[] c = new T[m * n], aux = new T[m * n], grad = new T[m * n];
        fixed (T* pa = a) fixed (T* pb = b) fixed (T* pbias = bv) fixed (T* pc = c) fixed (T* paux = aux) fixed (T* ph = h) fixed (T* pg = grad)
        {
            GemmKernel.Multiply(ta, tb, m, n, k, T.One, pa, lda, pb, ldb, T.Zero, pc, ldc, parallel: true, GemmEpilogue<T>.Gelu(pbias, paux, ldc));
            GemmKernel.Multiply(ta, tb, m, n, k, T.One, pa, lda, pb, ldb, T.Zero, pg, ldc, parallel: true, GemmEpilogue<T>.GeluGrad(ph, ldc));
        }
        T[] pre = new T[m * n], product = new T[m * n], expectedGelu = new T[m * n], expectedGrad = new T[m * n];
        GemmKernel.Multiply(ta, tb, m, n, k, T.One, a, lda, b, ldb, T.Zero, product, ldc);
        for (int i = 0; i < m * n; i++) pre[i] = product[i] + bv[i % n]; // the bias rounds as a separate add, like the epilogue's
        if (typeof(T) == typeof(float))
        {
            Backprop.Kernels.Elementwise.VectorLoop.Unary(default(Backprop.Kernels.Elementwise.GeluOp), (float[])(object)pre, (float[])(object)expectedGelu);
            Backprop.Kernels.Elementwise.VectorLoop.Binary(default(Backprop.Kernels.Elementwise.GeluBackwardOp), (float[])(object)h, (float[])(object)product, (float[])(object)expectedGrad);
        }
        else
        {
            Backprop.Kernels.Elementwise.VectorLoop.Unary(default(Backprop.Kernels.Elementwise.GeluOp), (double[])(object)pre, (double[])(object)expectedGelu);
            Backprop.Kernels.Elementwise.VectorLoop.Binary(default(Backprop.Kernels.Elementwise.GeluBackwardOp), (double[])(object)h, (double[])(object)product, (double[])(object)expectedGrad);
        }
        T tol = T.CreateChecked(typeof(T) == typeof(float) ? 1e-5 * (k + 2) : 1e-13 * (k + 2));
        for (int i = 0; i < m * n; i++)
        {
            string where = $"{typeof(T).Name} ta={ta} tb={tb} m={m} n={n} k={k} threads={Parallelism.ThreadCount}: [{i / n},{i % n}]";
            Assert.True(T.Abs(pre[i] - c[i]) <= tol, $"{where}: h = {c[i]}, expected {pre[i]}");
            Assert.True(T.Abs(expectedGelu[i] - aux[i]) <= tol, $"{where}: GELU = {aux[i]}, expected {expectedGelu[i]}");
            Assert.True(T.Abs(expectedGrad[i] - grad[i]) <= tol, $"{where}: gradient = {grad[i]}, expected {expectedGrad[i]}");
        }
    }

    [Fact]
    public void ShortBias_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            GemmKernel.Multiply(false, false, 2, 3, 2, 1f, new float[4], 2, new float[6], 3, 0f, new float[6], 3, new float[2], relu: false));
        Assert.Contains("bias", e.Message);
    }

    [Fact]
    public void Relu_KeepsNaN()
    {
        float[] a = [float.NaN, 1, -1, 1], b = [1, 1, 1, 1], c = new float[4];
        GemmKernel.Multiply(false, false, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2, [1f, -5f], relu: true);
        Assert.True(float.IsNaN(c[0]) && float.IsNaN(c[1]));
        Assert.Equal([1f, 0f], c[2..]);
    }

    /// <summary>
    /// C = op(A)·op(B) + bias, then ReLU, two ways: fused, and as bias rows, a GEMM with beta = 1 and
    /// a max pass. Where the tiled driver runs (m, n ≥ 2, k ≥ 1) the two are bit-identical; the
    /// one-row, one-column and empty-depth paths add the bias afterwards, so they agree to rounding.
    /// </summary>
    private static void Check<T>(bool ta, bool tb, int m, int n, int k, bool bias, bool relu, int seed)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        int lda = ta ? m : k, ldb = tb ? k : n;
        T[] a = Fill<T>(rng, (ta ? k : m) * lda), b = Fill<T>(rng, (tb ? n : k) * ldb), bv = bias ? Fill<T>(rng, n) : [];
        var fused = new T[m * n];
        fused.AsSpan().Fill(T.CreateChecked(123)); // beta = 0 must overwrite
        GemmKernel.Multiply(ta, tb, m, n, k, T.One, a, Math.Max(lda, 1), b, Math.Max(ldb, 1), T.Zero, fused, Math.Max(n, 1), bv, relu);

        var plain = new T[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) plain[i * n + j] = bias ? bv[j] : T.Zero;
        GemmKernel.Multiply(ta, tb, m, n, k, T.One, a, Math.Max(lda, 1), b, Math.Max(ldb, 1), T.One, plain, Math.Max(n, 1));
        if (relu)
            for (int i = 0; i < plain.Length; i++) plain[i] = T.Max(plain[i], T.Zero);

        bool exact = m >= 2 && n >= 2 && k >= 1;
        T tol = T.CreateChecked(typeof(T) == typeof(float) ? 1e-5 * (k + 2) : 1e-13 * (k + 2));
        for (int i = 0; i < plain.Length; i++)
        {
            string where = $"{typeof(T).Name} ta={ta} tb={tb} m={m} n={n} k={k} bias={bias} relu={relu} threads={Parallelism.ThreadCount}: C[{i / n},{i % n}]";
            if (exact) Assert.True(plain[i].Equals(fused[i]), $"{where} = {fused[i]}, expected exactly {plain[i]}");
            else Assert.True(T.Abs(plain[i] - fused[i]) <= tol, $"{where} = {fused[i]}, expected {plain[i]}");
            if (relu) Assert.True(fused[i] >= T.Zero, $"{where} = {fused[i]} is negative after ReLU");
        }
    }

    private static T[] Fill<T>(Random rng, int count) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var x = new T[Math.Max(count, 0)];
        for (int i = 0; i < x.Length; i++) x[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return x;
    }
}
