using System.Numerics;
using Backprop.Kernels.Recurrent;

namespace Backprop.Tests.Kernels.Recurrent;

/// <summary>
/// The LSTM, GRU and RNN gate kernels, forward and backward, against the formulas written out in double
/// for every row length from 0 to 3 vector widths + 1 (so every width and the scalar tail run), in float
/// and double; and the edges of the exponential behind σ and tanh (±∞, huge arguments, NaN).
/// </summary>
[Trait("Category", "Kernels")]
public unsafe class CellKernelTests
{
    private static readonly int[] Lengths = [.. Enumerable.Range(0, 3 * 16 + 2)];

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void Lstm_ForwardAndBackward_MatchTheFormulas()
    {
        foreach (int n in Lengths)
        {
            Lstm<float>(n, 1e-6);
            Lstm<double>(n, 1e-14);
        }
    }

    [Fact]
    public void Gru_ForwardAndBackward_MatchTheFormulas()
    {
        foreach (int n in Lengths)
        {
            Gru<float>(n, 1e-6);
            Gru<double>(n, 1e-14);
        }
    }

    [Fact]
    public void Rnn_ForwardAndBackward_MatchTheFormulas_TanhAndRelu()
    {
        foreach (int n in Lengths)
            foreach (bool relu in new[] { false, true })
            {
                Rnn<float>(n, relu, 1e-6);
                Rnn<double>(n, relu, 1e-14);
            }
    }

    [Fact]
    public void SigmoidAndTanh_AreExactAtTheEdges_AndKeepNaN()
    {
        double[] xs = [double.NegativeInfinity, -1e30, -200, -88.5, -30, -1e-30, 0, 1e-30, 30, 88.5, 200, 1e30, double.PositiveInfinity, double.NaN];
        Edges<float>(xs);
        Edges<double>(xs);
    }

    [Fact]
    public void FloatTanh_KeepsItsRelativeAccuracyNearZero()
    {
        float[] xs = [1e-7f, -3e-6f, 1e-4f, -0.01f, 0.2f, -0.3f, 0.4f, 1f, -2.5f, 9f];
        float[] h = new float[xs.Length], output = new float[xs.Length], pre = (float[])xs.Clone();
        fixed (float* pp = pre, ph = h, po = output)
            RnnCellKernel.Forward(xs.Length, false, pp, ph, po);
        for (int i = 0; i < xs.Length; i++)
        {
            double exact = Math.Tanh(xs[i]);
            Assert.True(Math.Abs(h[i] - exact) <= 4e-7 * Math.Abs(exact), $"tanh({xs[i]}) = {h[i]}, expected {exact}");
        }
    }

    private static void Edges<T>(double[] xs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = xs.Length;
        // RNN tanh forward: h = tanh(pre); for σ use the LSTM i gate with f = c = g = 0-ish inputs.
        T[] pre = xs.Select(T.CreateChecked).ToArray(), h = new T[n], output = new T[n];
        fixed (T* pp = pre, ph = h, po = output)
            RnnCellKernel.Forward(n, false, pp, ph, po);
        T[] gates = new T[4 * n];
        for (int j = 0; j < n; j++) gates[j] = T.CreateChecked(xs[j]);
        T[] c = new T[n], c2 = new T[n], tc = new T[n], h2 = new T[n], o2 = new T[n];
        fixed (T* pg = gates, pc = c, pc2 = c2, ptc = tc, ph2 = h2, po2 = o2)
            LstmCellKernel.Forward(n, pg, n, pc, pc2, ptc, ph2, po2);
        for (int j = 0; j < n; j++)
        {
            double x = xs[j];
            double tanh = double.CreateChecked(h[j]), sigmoid = double.CreateChecked(gates[j]);
            if (double.IsNaN(x))
            {
                Assert.True(double.IsNaN(tanh), $"{typeof(T).Name}: tanh(NaN) = {tanh}");
                Assert.True(double.IsNaN(sigmoid), $"{typeof(T).Name}: σ(NaN) = {sigmoid}");
                continue;
            }
            Assert.True(Math.Abs(tanh - Math.Tanh(x)) <= 1e-6, $"{typeof(T).Name}: tanh({x}) = {tanh}");
            Assert.True(Math.Abs(sigmoid - Sigmoid(x)) <= 1e-6, $"{typeof(T).Name}: σ({x}) = {sigmoid}");
            if (Math.Abs(x) >= 30) Assert.Equal(Math.Sign(x), tanh);
            if (x >= 200) Assert.Equal(1.0, sigmoid);
            if (x <= -200) Assert.True(sigmoid is >= 0 and < 1e-30);
        }
    }

    private static void Lstm<T>(int n, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(n);
        int s = n + 3; // gate stride larger than the run, as for a block of a wider layer
        double[] pre = Fill(rng, 4 * s, 3), cPrev = Fill(rng, n, 1), dh = Fill(rng, n, 1), dOut = Fill(rng, n, 1), dc = Fill(rng, n, 1);
        T[] gates = Cast<T>(pre), cp = Cast<T>(cPrev), c = new T[n], tanhC = new T[n], h = new T[n], output = new T[n];
        fixed (T* pg = gates, pcp = cp, pc = c, ptc = tanhC, ph = h, po = output)
            LstmCellKernel.Forward(n, pg, s, pcp, pc, ptc, ph, po);
        var act = new double[4 * s];
        for (int j = 0; j < n; j++)
        {
            double i = Sigmoid(pre[j]), f = Sigmoid(pre[s + j]), g = Math.Tanh(pre[2 * s + j]), o = Sigmoid(pre[3 * s + j]);
            (act[j], act[s + j], act[2 * s + j], act[3 * s + j]) = (i, f, g, o);
            double c2 = f * cPrev[j] + i * g;
            Near(i, gates[j], tol); Near(f, gates[s + j], tol); Near(g, gates[2 * s + j], tol); Near(o, gates[3 * s + j], tol);
            Near(c2, c[j], tol); Near(Math.Tanh(c2), tanhC[j], tol); Near(o * Math.Tanh(c2), h[j], tol); Near(o * Math.Tanh(c2), output[j], tol);
        }
        // Backward from the kernel's own saved activations.
        T[] dhT = Cast<T>(dh), dOutT = Cast<T>(dOut), dcT = Cast<T>(dc), dGates = new T[4 * s];
        fixed (T* pg = gates, ptc = tanhC, pcp = cp, pdh = dhT, pdo = dOutT, pdc = dcT, pdg = dGates)
            LstmCellKernel.Backward(n, pg, s, ptc, pcp, pdh, pdo, pdc, pdg);
        for (int j = 0; j < n; j++)
        {
            double i = act[j], f = act[s + j], g = act[2 * s + j], o = act[3 * s + j];
            double tc = Math.Tanh(f * cPrev[j] + i * g), dhv = dh[j] + dOut[j];
            double dcv = dc[j] + dhv * o * (1 - tc * tc);
            Near(dcv * g * i * (1 - i), dGates[j], tol);
            Near(dcv * cPrev[j] * f * (1 - f), dGates[s + j], tol);
            Near(dcv * i * (1 - g * g), dGates[2 * s + j], tol);
            Near(dhv * tc * o * (1 - o), dGates[3 * s + j], tol);
            Near(dcv * f, dcT[j], tol);
            Near(0, dhT[j], 0);
        }
    }

    private static void Gru<T>(int n, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(100 + n);
        int s = n + 2;
        double[] pre = Fill(rng, 3 * s, 3), hnIn = Fill(rng, n, 2), bias = Fill(rng, n, 1), hPrev = Fill(rng, n, 1), dh = Fill(rng, n, 1), dOut = Fill(rng, n, 1);
        T[] gates = Cast<T>(pre), hn = Cast<T>(hnIn), b = Cast<T>(bias), hp = Cast<T>(hPrev), h = new T[n], output = new T[n];
        fixed (T* pg = gates, phn = hn, pb = b, php = hp, ph = h, po = output)
            GruCellKernel.Forward(n, pg, s, phn, pb, php, ph, po);
        var r = new double[n];
        var z = new double[n];
        var nv = new double[n];
        var hnv = new double[n];
        for (int j = 0; j < n; j++)
        {
            r[j] = Sigmoid(pre[j]);
            z[j] = Sigmoid(pre[s + j]);
            hnv[j] = hnIn[j] + bias[j];
            nv[j] = Math.Tanh(pre[2 * s + j] + r[j] * hnv[j]);
            double h2 = (1 - z[j]) * nv[j] + z[j] * hPrev[j];
            Near(r[j], gates[j], tol); Near(z[j], gates[s + j], tol); Near(nv[j], gates[2 * s + j], tol);
            Near(hnv[j], hn[j], tol); Near(h2, h[j], tol); Near(h2, output[j], tol);
        }
        T[] dhT = Cast<T>(dh), dOutT = Cast<T>(dOut), dGates = new T[3 * s], dHn = new T[n];
        fixed (T* pg = gates, phn = hn, php = hp, pdh = dhT, pdo = dOutT, pdg = dGates, pdhn = dHn)
            GruCellKernel.Backward(n, pg, s, phn, php, pdh, pdo, pdg, pdhn);
        for (int j = 0; j < n; j++)
        {
            double dhv = dh[j] + dOut[j];
            double dn = dhv * (1 - z[j]) * (1 - nv[j] * nv[j]);
            Near(dn * hnv[j] * r[j] * (1 - r[j]), dGates[j], tol);
            Near(dhv * (hPrev[j] - nv[j]) * z[j] * (1 - z[j]), dGates[s + j], tol);
            Near(dn, dGates[2 * s + j], tol);
            Near(dn * r[j], dHn[j], tol);
            Near(dhv * z[j], dhT[j], tol);
        }
    }

    private static void Rnn<T>(int n, bool relu, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(200 + n);
        double[] pre = Fill(rng, n, 3), dh = Fill(rng, n, 1), dOut = Fill(rng, n, 1);
        if (n > 0) pre[0] = 0; // ReLU's gradient at 0 is 0, as PyTorch's
        T[] gates = Cast<T>(pre), h = new T[n], output = new T[n];
        fixed (T* pg = gates, ph = h, po = output)
            RnnCellKernel.Forward(n, relu, pg, ph, po);
        for (int j = 0; j < n; j++)
        {
            double y = relu ? Math.Max(pre[j], 0) : Math.Tanh(pre[j]);
            Near(y, gates[j], tol); Near(y, h[j], tol); Near(y, output[j], tol);
        }
        T[] dhT = Cast<T>(dh), dOutT = Cast<T>(dOut), dGates = new T[n];
        fixed (T* pg = gates, pdh = dhT, pdo = dOutT, pdg = dGates)
            RnnCellKernel.Backward(n, relu, pg, pdh, pdo, pdg);
        for (int j = 0; j < n; j++)
        {
            double y = double.CreateChecked(gates[j]), dhv = dh[j] + dOut[j];
            Near(relu ? (y > 0 ? dhv : 0) : dhv * (1 - y * y), dGates[j], tol);
            Near(0, dhT[j], 0);
        }
    }

    private static void Near<T>(double expected, T actual, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double a = double.CreateChecked(actual);
        Assert.True(Math.Abs(a - expected) <= tol * (1 + Math.Abs(expected)), $"{typeof(T).Name}: expected {expected}, got {a}");
    }

    private static double[] Fill(Random rng, int n, double scale)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (rng.NextDouble() * 2 - 1) * scale;
        return v;
    }

    private static T[] Cast<T>(double[] v) where T : unmanaged, IFloatingPointIeee754<T> => v.Select(T.CreateChecked).ToArray();
}
