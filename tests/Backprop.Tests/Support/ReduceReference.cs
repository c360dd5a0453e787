namespace Backprop.Tests.Support;

/// <summary>Plain double-precision loops used as the reference for the reduction and loss kernels.</summary>
internal static class ReduceReference
{
    /// <summary>Softmax or log-softmax along the middle axis of [outer, n, inner].</summary>
    public static double[] Softmax(double[] x, int outer, int n, int inner, bool log)
    {
        var y = new double[x.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double lse = LogSumExpAt(x, o, n, inner, i);
                for (int r = 0; r < n; r++)
                {
                    int at = (o * n + r) * inner + i;
                    y[at] = log ? x[at] - lse : Math.Exp(x[at] - lse);
                }
            }
        return y;
    }

    /// <summary>log Σ exp along the middle axis.</summary>
    public static double[] LogSumExp(double[] x, int outer, int n, int inner)
    {
        var y = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
                y[o * inner + i] = LogSumExpAt(x, o, n, inner, i);
        return y;
    }

    private static double LogSumExpAt(double[] x, int o, int n, int inner, int i)
    {
        double max = double.NegativeInfinity;
        for (int r = 0; r < n; r++) max = Math.Max(max, x[(o * n + r) * inner + i]);
        if (double.IsInfinity(max)) max = 0;
        double sum = 0;
        for (int r = 0; r < n; r++) sum += Math.Exp(x[(o * n + r) * inner + i] - max);
        return Math.Log(sum) + max;
    }

    /// <summary>Σ (x − mean)² / divisor along the middle axis.</summary>
    public static double[] Var(double[] x, int outer, int n, int inner, double divisor)
    {
        var y = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double mean = 0;
                for (int r = 0; r < n; r++) mean += x[(o * n + r) * inner + i];
                mean /= n;
                double ss = 0;
                for (int r = 0; r < n; r++) { double d = x[(o * n + r) * inner + i] - mean; ss += d * d; }
                y[o * inner + i] = ss / divisor;
            }
        return y;
    }

    /// <summary>Per-position cross-entropy with smoothing ε, weights w (null = ones) and an ignore index.</summary>
    public static double[] CrossEntropy(double[] x, long[] target, double[]? w, int n, int c, int s, long ignore, double eps, out double totalWeight)
    {
        var loss = new double[n * s];
        totalWeight = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < s; j++)
            {
                long t = target[i * s + j];
                if (t == ignore) continue;
                double max = double.NegativeInfinity;
                for (int k = 0; k < c; k++) max = Math.Max(max, x[(i * c + k) * s + j]);
                double sum = 0;
                for (int k = 0; k < c; k++) sum += Math.Exp(x[(i * c + k) * s + j] - max);
                double lse = Math.Log(sum) + max, smooth = 0;
                for (int k = 0; k < c; k++) smooth -= (w?[k] ?? 1) * (x[(i * c + k) * s + j] - lse);
                double wt = w?[t] ?? 1;
                loss[i * s + j] = (1 - eps) * -wt * (x[(i * c + (int)t) * s + j] - lse) + eps / c * smooth;
                totalWeight += wt;
            }
        return loss;
    }
}
