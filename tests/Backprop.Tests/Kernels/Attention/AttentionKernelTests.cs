using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Attention;

namespace Backprop.Tests.Kernels.Attention;

/// <summary>
/// The attention kernels against plain loops: the unpacked products at every width boundary (n from 0 to 3
/// vector widths + 1, A either way round, accumulate or not), and whole slices forward and backward with
/// padded row strides, broadcast masks, a causal offset (the cache case) and dropout. run-tests repeats
/// them with SIMD off.
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class AttentionKernelTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(33)]
    public void Multiply_MatchesReference_AtEveryWidthBoundary(int k)
    {
        var rng = new Random(k);
        for (int m = 0; m <= 9; m++)
            for (int n = 0; n <= 49; n++)
                foreach (bool transposedA in new[] { false, true })
                    foreach (bool accumulate in new[] { false, true })
                    {
                        Check<float>(rng, m, n, k, transposedA, accumulate, 1e-5);
                        Check<double>(rng, m, n, k, transposedA, accumulate, 1e-13);
                    }
    }

    private static void Check<T>(Random rng, int m, int n, int k, bool transposedA, bool accumulate, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lda = (transposedA ? m : k) + 3, ldb = n + 2, ldc = n + 1;
        T[] a = Fill<T>(rng, (transposedA ? k : m) * lda + 1), b = Fill<T>(rng, k * ldb + 1), c = Fill<T>(rng, m * ldc + 1);
        var expected = new double[c.Length];
        for (int i = 0; i < c.Length; i++) expected[i] = double.CreateTruncating(c[i]);
        const double alpha = 0.75;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += double.CreateTruncating(transposedA ? a[p * lda + i] : a[i * lda + p]) * double.CreateTruncating(b[p * ldb + j]);
                expected[i * ldc + j] = alpha * sum + (accumulate ? expected[i * ldc + j] : 0);
            }
        fixed (T* pa = a, pb = b, pc = c)
            AttentionGemm.Multiply(m, n, k, T.CreateTruncating(alpha), pa, transposedA ? 1 : lda, transposedA ? lda : 1, pb, ldb, pc, ldc, accumulate);
        for (int i = 0; i < c.Length; i++)
            Assert.True(Math.Abs(expected[i] - double.CreateTruncating(c[i])) <= tol * (1 + Math.Abs(expected[i])),
                $"m={m} n={n} k={k} transposedA={transposedA} accumulate={accumulate} element {i}: expected {expected[i]}, got {c[i]}");
    }

    private static T[] Fill<T>(Random rng, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new T[length];
        for (int i = 0; i < length; i++) x[i] = T.CreateTruncating(rng.NextDouble() * 2 - 1);
        return x;
    }

    public static TheoryData<int, int, int, int, bool, int, int, double> Slices => new()
    {
        // L, S, E, Ev, causal, causalOffset, mask (0 none, 1 additive broadcast over rows, 2 boolean), dropout
        { 5, 7, 4, 3, false, 0, 0, 0 },
        { 9, 9, 8, 8, true, 0, 0, 0 },
        { 3, 11, 5, 6, true, 8, 0, 0 },     // the last 3 of 11 positions, as with a key/value cache
        { 1, 13, 16, 16, true, 12, 0, 0 },  // one new token
        { 12, 6, 3, 2, true, 0, 2, 0 },     // L > S: rows past S see every key; boolean mask on top
        { 10, 17, 9, 4, false, 0, 1, 0.3 },
        { 17, 17, 33, 20, true, 0, 1, 0.5 },
    };

    [Theory]
    [MemberData(nameof(Slices))]
    public void ForwardAndBackward_MatchReference(int l, int s, int e, int ev, bool causal, int offset, int maskKind, double dropout)
    {
        const int slices = 3, pad = 2;
        var rng = new Random(l * 100 + s);
        var shape = new AttentionShape
        {
            L = l, S = s, E = e, Ev = ev, Scale = 0.6, Causal = causal, CausalOffset = offset, DropoutP = dropout, DropoutSeed = 12345,
        };
        shape.Batch.Rank = 1;
        shape.Batch.Dims[0] = slices;
        double[] q = Fill<double>(rng, slices * l * (e + pad)), k = Fill<double>(rng, slices * s * (e + pad)), v = Fill<double>(rng, slices * s * (ev + pad));
        double[] dO = Fill<double>(rng, slices * l * ev);
        double[] maskAdd = Fill<double>(rng, s);                           // one row for every query row and slice
        long[] maskBool = new long[slices * l * s];
        for (int i = 0; i < maskBool.Length; i++) maskBool[i] = rng.Next(4) == 0 ? 0 : 1;
        var ops = new AttentionOperands<double>
        {
            Q = Op(q, l, e + pad), K = Op(k, s, e + pad), V = Op(v, s, ev + pad),
            O = Op(new double[slices * l * ev], l, ev), Probs = new double[slices * l * s],
        };
        if (maskKind == 1) ops.Mask = new AttentionOperand<double> { Array = maskAdd, Row = 0, Col = 1 };
        if (maskKind == 2)
        {
            ops.BoolMask = new AttentionOperand<long> { Array = maskBool, Row = s, Col = 1 };
            ops.BoolMask.Batch[0] = l * s;
        }
        AttentionKernel.Forward(shape, ops);
        ops.DO = Op(dO, l, ev);
        ops.DQ = Op(new double[slices * l * e], l, e);
        ops.DK = Op(new double[slices * s * e], s, e);
        ops.DV = Op(new double[slices * s * ev], s, ev);
        ops.DScores = new double[slices * l * s];
        AttentionKernel.Backward(shape, ops);

        for (int b = 0; b < slices; b++)
        {
            // Reference in plain loops.
            var p = new double[l, s];
            for (int i = 0; i < l; i++)
            {
                double max = double.NegativeInfinity;
                var row = new double[s];
                for (int j = 0; j < s; j++)
                {
                    bool allowed = (!causal || j <= i + offset) && (maskKind != 2 || maskBool[b * l * s + i * s + j] != 0);
                    double dot = 0;
                    for (int c = 0; c < e; c++) dot += q[b * l * (e + pad) + i * (e + pad) + c] * k[b * s * (e + pad) + j * (e + pad) + c];
                    row[j] = allowed ? dot * 0.6 + (maskKind == 1 ? maskAdd[j] : 0) : double.NegativeInfinity;
                    max = Math.Max(max, row[j]);
                }
                double sum = 0;
                for (int j = 0; j < s; j++) sum += row[j] = double.IsNegativeInfinity(max) ? 0 : Math.Exp(row[j] - max);
                for (int j = 0; j < s; j++) p[i, j] = sum == 0 ? 0 : row[j] / sum;
            }
            double Factor(int i, int j) => dropout == 0 ? 1 : AttentionKernel.Dropped(12345, ((long)b * l + i) * s + j, dropout) ? 0 : 1 / (1 - dropout);
            for (int i = 0; i < l; i++)
                for (int c = 0; c < ev; c++)
                {
                    double o = 0;
                    for (int j = 0; j < s; j++) o += p[i, j] * Factor(i, j) * v[b * s * (ev + pad) + j * (ev + pad) + c];
                    Assert.Equal(o, ops.O.Array![b * l * ev + i * ev + c], 12);
                }
            var ds = new double[l, s];
            for (int i = 0; i < l; i++)
            {
                var dp = new double[s];
                double dot = 0;
                for (int j = 0; j < s; j++)
                {
                    for (int c = 0; c < ev; c++) dp[j] += dO[b * l * ev + i * ev + c] * v[b * s * (ev + pad) + j * (ev + pad) + c];
                    dp[j] *= Factor(i, j);
                    dot += dp[j] * p[i, j];
                }
                for (int j = 0; j < s; j++)
                {
                    ds[i, j] = p[i, j] * (dp[j] - dot);
                    Assert.Equal(ds[i, j], ops.DScores![b * l * s + i * s + j], 12);
                }
            }
            for (int j = 0; j < s; j++)
            {
                for (int c = 0; c < ev; c++)
                {
                    double dv = 0;
                    for (int i = 0; i < l; i++) dv += p[i, j] * Factor(i, j) * dO[b * l * ev + i * ev + c];
                    Assert.Equal(dv, ops.DV.Array![b * s * ev + j * ev + c], 12);
                }
                for (int c = 0; c < e; c++)
                {
                    double dk = 0;
                    for (int i = 0; i < l; i++) dk += ds[i, j] * q[b * l * (e + pad) + i * (e + pad) + c] * 0.6;
                    Assert.Equal(dk, ops.DK.Array![b * s * e + j * e + c], 12);
                }
            }
            for (int i = 0; i < l; i++)
                for (int c = 0; c < e; c++)
                {
                    double dq = 0;
                    for (int j = 0; j < s; j++) dq += ds[i, j] * k[b * s * (e + pad) + j * (e + pad) + c] * 0.6;
                    Assert.Equal(dq, ops.DQ.Array![b * l * e + i * e + c], 12);
                }
        }
    }

    [Theory]
    [InlineData(1, 13, 16)]
    [InlineData(3, 11, 5)]
    [InlineData(4, 1, 8)]
    public void ForwardWithKeysStoredTransposed_EqualsRowMajorKeys(int l, int s, int e)
    {
        var rng = new Random(s);
        const int slices = 2, capacity = 20;
        double[] q = Fill<double>(rng, slices * l * e), k = Fill<double>(rng, slices * s * e), v = Fill<double>(rng, slices * s * 3);
        var kt = new double[slices * e * capacity];                   // [slices, E, capacity], as a key/value cache keeps them
        for (int b = 0; b < slices; b++)
            for (int j = 0; j < s; j++)
                for (int c = 0; c < e; c++) kt[b * e * capacity + c * capacity + j] = k[b * s * e + j * e + c];
        var shape = new AttentionShape { L = l, S = s, E = e, Ev = 3, Scale = 0.5, Causal = true, CausalOffset = s - l };
        shape.Batch.Rank = 1;
        shape.Batch.Dims[0] = slices;
        var rowMajor = new AttentionOperands<double> { Q = Op(q, l, e), K = Op(k, s, e), V = Op(v, s, 3), O = Op(new double[slices * l * 3], l, 3) };
        var transposed = rowMajor;
        transposed.O = Op(new double[slices * l * 3], l, 3);
        transposed.K = new AttentionOperand<double> { Array = kt, Row = s == 1 ? 0 : 1, Col = capacity };
        transposed.K.Batch[0] = e * capacity;
        AttentionKernel.Forward(shape, rowMajor);
        AttentionKernel.Forward(shape, transposed);
        Assert.Equal(rowMajor.O.Array, transposed.O.Array);
    }

    /// <summary>A [3, rows, ·] operand with row stride <paramref name="row"/>.</summary>
    private static AttentionOperand<double> Op(double[] data, int rows, int row)
    {
        var op = new AttentionOperand<double> { Array = data, Row = row, Col = 1 };
        op.Batch[0] = rows * row;
        return op;
    }
}

/// <summary>The softmax row kernels against plain loops.</summary>
[Trait("Category", "Kernels")]
public unsafe class AttentionRowTests
{
    [Fact]
    public void SoftmaxAndItsGradient_MatchPlainLoops_AtEveryLength()
    {
        var rng = new Random(5);
        for (int n = 0; n <= 3 * 16 + 1; n++)
        {
            float[] row = new float[n], p = new float[n], dp = new float[n];
            for (int j = 0; j < n; j++) row[j] = rng.Next(6) == 0 ? float.NegativeInfinity : (float)(rng.NextDouble() * 8 - 4);
            for (int j = 0; j < n; j++) dp[j] = (float)(rng.NextDouble() * 2 - 1);
            double max = n == 0 ? double.NegativeInfinity : row.Max(), sum = 0;
            var expected = new double[n];
            for (int j = 0; j < n; j++) sum += expected[j] = double.IsNegativeInfinity(max) ? 0 : Math.Exp(row[j] - max);
            float[] got = (float[])row.Clone();
            fixed (float* g = got) AttentionRows.Softmax(g, n);
            for (int j = 0; j < n; j++)
                Assert.True(Math.Abs((sum == 0 ? 0 : expected[j] / sum) - got[j]) <= 1e-6, $"n={n} j={j}");
            double dot = 0;
            for (int j = 0; j < n; j++) dot += dp[j] * got[j];
            float[] grad = (float[])dp.Clone();
            fixed (float* gp = grad, pp = got) AttentionRows.SoftmaxGrad(gp, pp, n);
            for (int j = 0; j < n; j++)
                Assert.True(Math.Abs(got[j] * (dp[j] - dot) - grad[j]) <= 1e-6, $"grad n={n} j={j}");
        }
        var allMasked = new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity };
        fixed (float* m = allMasked) AttentionRows.Softmax(m, 3);
        Assert.Equal([0f, 0f, 0f], allMasked);
    }
}
