using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Loss;

namespace Backprop.Tests.Ops.Loss;

/// <summary>
/// Each loss term's vector forms against its scalar form through the span drivers, at every length
/// 0..3·(512-bit width)+1 (every mix of 512-, 256- and 128-bit blocks and scalar tail), with and
/// without weights and per-element upstream gradients; and the blocked sum against a plain one.
/// </summary>
[Trait("Category", "Kernels")]
public class PointwiseLossKernelTests
{
    private static T[] Values<T>(int n, int seed, double low, double high, double[] specials) where T : IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        var v = new T[n];
        for (int i = 0; i < n; i++)
            v[i] = T.CreateChecked(specials.Length > 0 && i % 4 == 1 ? specials[i / 4 % specials.Length] : low + (high - low) * rng.NextDouble());
        return v;
    }

    private static void Close<T>(T expected, T actual, double rtol, string what, int n, int i) where T : IFloatingPointIeee754<T>
    {
        double e = double.CreateChecked(expected), a = double.CreateChecked(actual);
        if (double.IsNaN(e) && double.IsNaN(a) || e == a) return;
        // relative above 1, absolute below: KL and the BCE target gradient subtract terms of order 1
        Assert.True(Math.Abs(e - a) <= rtol * Math.Max(Math.Abs(e), 1), $"{what}, length {n}, element {i}: scalar {e:R}, vector {a:R}");
    }

    private static void Check<T, TTerm>(TTerm term, (double Low, double High) x, (double Low, double High) t, double[] xSpecials, double[] tSpecials, double rtol)
        where T : unmanaged, IFloatingPointIeee754<T> where TTerm : struct, ILossTerm<T>
    {
        for (int n = 0; n <= 3 * Vector512<T>.Count + 1; n++)
        {
            T[] xs = Values<T>(n, n + 1, x.Low, x.High, xSpecials), ts = Values<T>(n, n + 2, t.Low, t.High, tSpecials);
            T[] w = Values<T>(n, n + 3, 0.5, 2, []), g = Values<T>(n, n + 4, -2, 2, []);
            var loss = new T[n];
            PointwiseLossKernels.Losses(term, xs, ts, w, loss);
            var dx = new T[n];
            var dt = new T[n];
            PointwiseLossKernels.Grads(term, xs, ts, w, T.Zero, g, dx, dt);
            var dxs = new T[n];
            PointwiseLossKernels.Grads(term, xs, ts, default, T.CreateChecked(0.75), default, dxs, default);
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                Close(term.Loss(xs[i], ts[i]) * w[i], loss[i], rtol, "loss", n, i);
                Close(term.GradInput(xs[i], ts[i]) * (g[i] * w[i]), dx[i], rtol, "dx", n, i);
                Close(term.GradTarget(xs[i], ts[i]) * (g[i] * w[i]), dt[i], rtol, "dt", n, i);
                Close(term.GradInput(xs[i], ts[i]) * T.CreateChecked(0.75), dxs[i], rtol, "dx (scalar upstream)", n, i);
                sum += double.CreateChecked(term.Loss(xs[i], ts[i]));
            }
            double blocked = PointwiseLossKernels.Sum(term, xs, ts, default);
            Assert.True(double.IsNaN(sum) && double.IsNaN(blocked) || Math.Abs(sum - blocked) <= 1e-5 * (1 + Math.Abs(sum)), $"sum, length {n}: {sum} vs {blocked}");
        }
    }

    [Fact]
    public void L1_AndSmoothL1_AndHuber_VectorMatchesScalar()
    {
        double[] ties = [0.25, 1.0, -1.0];
        Check<float, L1Term<float>>(default, (-3, 3), (-3, 3), ties, ties, 0);
        Check<double, L1Term<double>>(default, (-3, 3), (-3, 3), ties, ties, 0);
        foreach (bool huber in (bool[])[false, true])
        {
            Check<float, SmoothL1Term<float>>(new(0.7f, huber), (-3, 3), (-3, 3), ties, ties, 1e-6);
            Check<double, SmoothL1Term<double>>(new(0.7, huber), (-3, 3), (-3, 3), ties, ties, 1e-14);
        }
    }

    [Fact]
    public void Bce_VectorMatchesScalar_IncludingZeroAndOne()
    {
        double[] edges = [0.0, 1.0, 1e-30, 0.999999];
        Check<float, BceTerm<float>>(default, (0, 1), (0, 1), edges, [], 2e-6);
        Check<double, BceTerm<double>>(default, (0, 1), (0, 1), edges, [], 1e-13);
    }

    [Fact]
    public void KLDiv_VectorMatchesScalar_IncludingZeroTargets()
    {
        foreach (bool logTarget in (bool[])[false, true])
        {
            double[] targets = logTarget ? [-20.0, 0.0] : [0.0, 1.0];
            Check<float, KLDivTerm<float>>(new(logTarget), (-5, 0), logTarget ? (-5, 0) : (0, 1), [], targets, 2e-6);
            Check<double, KLDivTerm<double>>(new(logTarget), (-5, 0), logTarget ? (-5, 0) : (0, 1), [], targets, 1e-13);
        }
    }

    [Fact]
    public void ScalarForms_HandWorked()
    {
        var bce = new BceTerm<double>();
        Assert.Equal(100 * 0.3, bce.Loss(0.0, 0.3), 12);                  // log 0 clamped at −100
        Assert.Equal(-0.3 / (double)1e-12f, bce.GradInput(0.0, 0.3), 0);  // the denominator clamped at 1e−12 (a float, as PyTorch)
        Assert.Equal(double.PositiveInfinity, bce.GradTarget(0.0, 0.3));
        Assert.Equal(1e-20, BceTerm<double>.Log1m(-1e-20), 1e-35);         // log1p accuracy
        var kl = new KLDivTerm<double>(false);
        Assert.Equal(0.0, kl.Loss(-1.5, 0.0));
        Assert.True(double.IsNaN(kl.GradTarget(-1.5, 0.0)));
        Assert.Equal(1.0, new L1Term<double>().GradInput(2, 1.5));
        Assert.Equal(0.0, new L1Term<double>().GradInput(1.5, 1.5));
    }
}
