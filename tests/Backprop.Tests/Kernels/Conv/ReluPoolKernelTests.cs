using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Tests.Kernels.Conv;

[Trait("Category", "Kernels")]
public class ReluPoolKernelTests
{
    /// <summary>Values with many ties (small integers around 0, as after ReLU), −0, a few NaNs and infinities.</summary>
    private static double[] Values(int n, ulong seed)
    {
        var g = new Generator(seed);
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            double u = g.NextDouble();
            v[i] = u < 0.03 ? double.NaN : u < 0.05 ? double.NegativeInfinity : u < 0.07 ? double.PositiveInfinity
                : u < 0.12 ? -0.0 : u < 0.5 ? Math.Floor(g.NextDouble() * 5) - 2 : g.NextNormal();
        }
        return v;
    }

    /// <summary>The unfused ops: y = z + b, r = max(y, 0) per pixel, then the scan a, b, c, d of each window (first maximum, last NaN).</summary>
    private static (double Value, int Code) Reference(double[] z, int w, int i, int j, double bias, bool hasBias)
    {
        double best = 0;
        int tap = -1;
        for (int t = 0; t < 4; t++)
        {
            double v = z[(2 * i + t / 2) * w + 2 * j + t % 2];
            if (hasBias) v += bias;
            v = Math.Max(v, 0.0);
            if (tap < 0 || v > best || double.IsNaN(v)) (best, tap) = (v, t);
        }
        return (best, best > 0 ? tap : ReluPoolKernels.Masked);
    }

    [Fact]
    public void Forward_And_Backward_MatchUnfusedReference_TinyOddAndEveryWidth()
    {
        for (int h = 0; h <= 7; h++)
            for (int w = 0; w <= 2 * (3 * 4 + 1) + 3; w++) // up to 3 SSE widths + 1 of outputs, odd and even
                foreach (bool hasBias in new[] { false, true })
                {
                    ulong seed = (ulong)(100 * h + 2 * w + (hasBias ? 1 : 0));
                    double[] z = Values(h * w, seed);
                    double bias = hasBias ? 0.5 : 0;
                    int oh = h / 2, ow = w / 2;
                    double[] dy = Values(oh * ow, seed + 7);
                    Check<float>(z, h, w, bias, hasBias, dy);
                    Check<double>(z, h, w, bias, hasBias, dy);
                }
    }

    private static void Check<TT>(double[] zd, int h, int w, double bias, bool hasBias, double[] dyd)
        where TT : unmanaged, System.Numerics.IFloatingPointIeee754<TT>
    {
        int oh = h / 2, ow = w / 2;
        TT[] z = Array.ConvertAll(zd, v => TT.CreateTruncating(v));
        double[] zr = Array.ConvertAll(z, v => double.CreateTruncating(v)); // the reference sees the rounded inputs
        TT b = TT.CreateTruncating(bias);
        var y = new TT[oh * ow];
        var code = new byte[oh * ow];
        ReluPoolKernels.Forward<TT>(z, h, w, b, hasBias, y, code);
        TT[] dy = Array.ConvertAll(dyd, v => TT.CreateTruncating(v));
        var dz = new TT[h * w];
        dz.AsSpan().Fill(TT.NaN); // every element must be written
        ReluPoolKernels.Backward<TT>(dy, code, h, w, dz);
        var expectedDz = new TT[h * w];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                // the bias is added in TT precision, as the separate ops do
                double[] zb = zr;
                if (hasBias)
                {
                    zb = (double[])zr.Clone();
                    for (int t = 0; t < 4; t++)
                    {
                        int at = (2 * i + t / 2) * w + 2 * j + t % 2;
                        zb[at] = double.CreateTruncating(z[at] + b);
                    }
                }
                var (v, c) = Reference(zb, w, i, j, 0, false);
                int o = i * ow + j;
                Assert.True(code[o] == c && double.CreateTruncating(y[o]).Equals(v),
                    $"{typeof(TT).Name} h {h} w {w} bias {hasBias} window ({i}, {j}): expected {v} code {c}, got {y[o]} code {code[o]}");
                if (c != ReluPoolKernels.Masked) expectedDz[(2 * i + c / 2) * w + 2 * j + c % 2] = TT.Zero + dy[o];
            }
        for (int i = 0; i < dz.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(double.CreateTruncating(expectedDz[i])) == BitConverter.DoubleToInt64Bits(double.CreateTruncating(dz[i])), $"{typeof(TT).Name} h {h} w {w}: dz[{i}] expected {expectedDz[i]}, got {dz[i]}");
    }
}
