using System.Runtime.Intrinsics;
using Backprop.Kernels.Loss;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Reduce;

/// <summary>SIMD reduction and loss kernels against plain double loops, at every row length up to 3 vector widths + 1.</summary>
[Trait("Category", "Kernels")]
public class ReduceKernelTests
{
    private static readonly int MaxLength = 3 * Vector512<float>.Count + 1;

    public static TheoryData<int> Inners => new() { 1, 3, 17 };

    private static double[] Data(int length, int seed, double scale = 3)
    {
        var g = new Generator((ulong)seed);
        var d = new double[length];
        for (int i = 0; i < length; i++) d[i] = scale * g.NextNormal();
        return d;
    }

    private static float[] F(double[] d) => Array.ConvertAll(d, v => (float)v);

    private static void Close(double[] expected, ReadOnlySpan<float> actual, double tol, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"{what}, element {i}: expected {expected[i]}, got {actual[i]}");
    }

    private static void Close(double[] expected, ReadOnlySpan<double> actual, double tol, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"{what}, element {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Inners))]
    public void Softmax_MatchesReference(int inner)
    {
        const int outer = 2;
        for (int n = 0; n <= MaxLength; n++)
        {
            double[] x = Data(outer * n * inner, n);
            foreach (bool log in new[] { false, true })
            {
                double[] expected = ReduceReference.Softmax(x, outer, n, inner, log);
                var yd = new double[x.Length];
                SoftmaxKernel.Softmax<double>(x, outer, n, inner, yd, log);
                Close(expected, yd, 1e-12, $"float64 n={n} log={log}");
                var yf = new float[x.Length];
                SoftmaxKernel.Softmax<float>(F(x), outer, n, inner, yf, log);
                Close(expected, yf, 1e-5, $"float32 n={n} log={log}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Inners))]
    public void LogSumExp_MatchesReference(int inner)
    {
        const int outer = 2;
        for (int n = 1; n <= MaxLength; n++)
        {
            double[] x = Data(outer * n * inner, 100 + n, scale: 50);
            double[] expected = ReduceReference.LogSumExp(x, outer, n, inner);
            var yd = new double[outer * inner];
            SoftmaxKernel.LogSumExp<double>(x, outer, n, inner, yd);
            Close(expected, yd, 1e-12, $"float64 n={n}");
            var yf = new float[outer * inner];
            SoftmaxKernel.LogSumExp<float>(F(x), outer, n, inner, yf);
            Close(expected, yf, 1e-5, $"float32 n={n}");
        }
    }

    [Theory]
    [MemberData(nameof(Inners))]
    public void ArgReduce_MatchesScalarReference(int inner)
    {
        const int outer = 2;
        for (int n = 1; n <= MaxLength; n++)
        {
            // Rounded values create ties; the kernel must pick the first, like the reference.
            double[] x = Array.ConvertAll(Data(outer * n * inner, 200 + n), v => Math.Round(v));
            if (n > 5) x[3] = double.NaN;
            foreach (bool min in new[] { false, true })
            {
                var ev = new double[outer * inner]; var ei = new long[outer * inner];
                ArgReduceKernel.Reference<double>(x, outer, n, inner, ev, ei, min);
                var av = new double[outer * inner]; var ai = new long[outer * inner];
                ArgReduceKernel.Run<double>(x, outer, n, inner, av, ai, min);
                Assert.Equal(ei, ai);
                Assert.Equal(ev, av);
                float[] xf = F(x);
                var fv = new float[outer * inner]; var fi = new long[outer * inner];
                ArgReduceKernel.Run<float>(xf, outer, n, inner, fv, fi, min);
                Assert.Equal(ei, fi);
                long[] xl = Array.ConvertAll(x, v => double.IsNaN(v) ? 0L : (long)v);
                var lv = new long[outer * inner]; var li = new long[outer * inner];
                var rv = new long[outer * inner]; var ri = new long[outer * inner];
                ArgReduceKernel.Run<long>(xl, outer, n, inner, lv, li, min);
                ArgReduceKernel.Reference<long>(xl, outer, n, inner, rv, ri, min);
                Assert.Equal(ri, li);
                Assert.Equal(rv, lv);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Inners))]
    public void Var_MatchesReference(int inner)
    {
        const int outer = 2;
        for (int n = 1; n <= MaxLength; n++)
        {
            double[] x = Data(outer * n * inner, 300 + n);
            double[] expected = ReduceReference.Var(x, outer, n, inner, Math.Max(1, n - 1));
            var yd = new double[outer * inner];
            VarKernel.Run<double>(x, outer, n, inner, Math.Max(1, n - 1), yd);
            Close(expected, yd, 1e-12, $"float64 n={n}");
            var yf = new float[outer * inner];
            VarKernel.Run<float>(F(x), outer, n, inner, Math.Max(1, n - 1), yf);
            Close(expected, yf, 1e-5, $"float32 n={n}");
        }
    }

    [Theory]
    [InlineData(1, 0.0, false)]
    [InlineData(1, 0.1, true)]
    [InlineData(3, 0.2, true)]
    [InlineData(5, 0.3, false)]
    public void CrossEntropy_MatchesReference(int s, double eps, bool weighted)
    {
        const int n = 3;
        for (int c = 1; c <= MaxLength; c++)
        {
            double[] x = Data(n * c * s, 400 + c);
            var g = new Generator((ulong)c);
            var target = new long[n * s];
            for (int i = 0; i < target.Length; i++) target[i] = i % 4 == 3 ? -100 : g.NextInt64(c);
            double[]? w = weighted ? Array.ConvertAll(Data(c, 500 + c), v => Math.Abs(v) + 0.1) : null;
            double[] expected = ReduceReference.CrossEntropy(x, target, w, n, c, s, -100, eps, out double total);
            var yd = new double[n * s];
            double td = ClassLossKernel.CrossEntropy<double>(x, target, w, n, c, s, -100, eps, yd);
            Close(expected, yd, 1e-12, $"float64 c={c}");
            Assert.Equal(total, td, 1e-12);
            var yf = new float[n * s];
            ClassLossKernel.CrossEntropy<float>(F(x), target, w is null ? default : F(w), n, c, s, -100, eps, yf);
            Close(expected, yf, 1e-5, $"float32 c={c}");
        }
    }

    [Fact]
    public void BceWithLogits_MatchesReference()
    {
        for (int len = 0; len <= MaxLength; len++)
        {
            double[] x = Data(len, 600 + len, scale: 20), t = Array.ConvertAll(Data(len, 700 + len), v => Math.Abs(v) % 1);
            double[] p = Array.ConvertAll(Data(len, 800 + len), v => Math.Abs(v) + 0.2);
            var expected = new double[len];
            for (int i = 0; i < len; i++)
            {
                // −[p·t·log σ(x) + (1 − t)·log(1 − σ(x))], with log σ(x) = −log(1 + e^−x) evaluated on the safe side.
                double logSig = x[i] >= 0 ? -Math.Log(1 + Math.Exp(-x[i])) : x[i] - Math.Log(1 + Math.Exp(x[i]));
                double logOneMinus = logSig - x[i];
                expected[i] = -(p[i] * t[i] * logSig + (1 - t[i]) * logOneMinus);
            }
            var yd = new double[len];
            BceWithLogitsKernel.Forward<double>(x, t, p, yd);
            Close(expected, yd, 1e-12, $"float64 len={len}");
            var yf = new float[len];
            BceWithLogitsKernel.Forward<float>(F(x), F(t), F(p), yf);
            Close(expected, yf, 1e-5, $"float32 len={len}");
        }
    }

    [Fact]
    public void SumSquaredDeviation_MatchesReference()
    {
        for (int len = 0; len <= MaxLength; len++)
        {
            double[] x = Data(len, 900 + len);
            double expected = 0;
            foreach (double v in x) expected += (v - 0.25) * (v - 0.25);
            Assert.Equal(expected, VarKernel.SumSquaredDeviation<double>(x, 0.25), 1e-10);
            Assert.Equal(expected, VarKernel.SumSquaredDeviation<float>(F(x), 0.25f), 1e-3);
        }
    }
}
