using Backprop.Distributions;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Distributions;

public class CategoricalTests
{
    // torch.distributions.Categorical(logits=L) in float64 (Debian python3-torch 1.13).
    private static Tensor L() => T.F64([0.5, -1.0, 2.0, 0.0, 0.0, 0.0, 1.0, double.NegativeInfinity, -2.0], 3, 3);

    [Fact]
    public void Probs_LogProb_Entropy_MatchTorch()
    {
        var d = new Categorical(L());
        Assert.Equal(3, d.NumEvents);
        Assert.Equal(new Shape(3), d.BatchShape);
        T.Close([0.1752903921400367, 0.039112573270687456, 0.7855970345892759, 1 / 3.0, 1 / 3.0, 1 / 3.0, 0.9525741268224334, 0.0, 0.04742587317756679],
                d.Probs, 1e-15);
        T.Close([-0.24131129665715711, -1.0986122886681098, -0.048587351573742055], d.LogProb(Tensor.FromArray(new long[] { 2, 1, 0 })), 1e-15);
        T.Close([0.6215846046792746, 1.0986122886681096, 0.19086497110644243], d.Entropy(), 1e-15); // p = 0 adds 0, not NaN
    }

    [Fact]
    public void Sample_FollowsTheProbabilities_NeverDrawsImpossibleClasses_AndRepeatsWithTheSeed()
    {
        const int n = 100_000;
        var d = new Categorical(T.F64([0.5, -1.0, 2.0, double.NegativeInfinity], 4).Expand(n, 4));
        Tensor k = d.Sample(new Generator(11));
        Assert.Equal(DType.Int64, k.DType);
        Assert.Equal(new Shape(n), k.Shape);
        long[] draws = k.ToArray<long>();
        var counts = new int[4];
        foreach (long c in draws) counts[c]++;
        Assert.Equal(0, counts[3]);
        double[] p = d.Probs.Narrow(0, 0, 1).ToDoubleArray();
        for (int j = 0; j < 3; j++)
        {
            double sd = Math.Sqrt(n * p[j] * (1 - p[j]));
            Assert.True(Math.Abs(counts[j] - n * p[j]) < 5 * sd, $"class {j}: {counts[j]} draws, expected {n * p[j]:F0} ± {sd:F0}");
        }
        Assert.Equal(draws, d.Sample(new Generator(11)).ToArray<long>());
        Assert.NotEqual(draws, d.Sample(new Generator(12)).ToArray<long>());
    }

    [Fact]
    public void Float32_SamplesAndScores()
    {
        var d = new Categorical(T.F32([0f, 3f, -3f, 1f, 1f, 1f], 2, 3));
        Tensor k = d.Sample(new Generator(1));
        Assert.Equal(new Shape(2), k.Shape);
        Assert.Equal(DType.Float32, d.LogProb(k).DType);
    }

    [Fact]
    public void BadArguments_AreRefusedByName()
    {
        Assert.Contains("K ≥ 1", Assert.Throws<ArgumentException>(() => new Categorical(Tensor.Scalar(1.0))).Message);
        Assert.Contains("Categorical", Assert.Throws<ArgumentException>(() => new Categorical(Tensor.FromArray(new long[] { 1, 2 }))).Message);
        var d = new Categorical(L());
        var e = Assert.Throws<ArgumentException>(() => d.LogProb(Tensor.FromArray(new long[] { 0, 1 })));
        Assert.Contains("Categorical.LogProb", e.Message);
        Assert.Contains("[3]", e.Message);
        var nan = new Categorical(T.F64([double.NaN, 0], 2));
        Assert.Contains("Categorical.Sample", Assert.Throws<ArgumentException>(() => nan.Sample(new Generator(1))).Message);
    }

    // ---------------- the score-function (REINFORCE) estimator ----------------

    private static readonly double[] Theta = [0.3, -0.8, 1.1];
    private static readonly double[] Reward = [1.0, 0.0, 2.5];

    private static double[] SoftmaxOf(double[] t)
    {
        double m = t.Max(), s = t.Sum(v => Math.Exp(v - m));
        return t.Select(v => Math.Exp(v - m) / s).ToArray();
    }

    /// <summary>∇θ E[r] = Σₖ pₖ rₖ ∇log pₖ = Σₖ pₖ rₖ (eₖ − p), and the variance of one sample's estimate (r − b)(e_k − p).</summary>
    private static (double[] Gradient, double[] Variance) Exact(double baseline)
    {
        double[] p = SoftmaxOf(Theta);
        var mean = new double[3];
        var second = new double[3];
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 3; j++)
            {
                double score = (k == j ? 1 : 0) - p[j];
                mean[j] += p[k] * Reward[k] * score;                                  // the baseline term has mean 0
                second[j] += p[k] * Math.Pow((Reward[k] - baseline) * score, 2);
            }
        return (mean, second.Select((s, j) => s - mean[j] * mean[j]).ToArray());
    }

    /// <summary>The REINFORCE estimate over <paramref name="samples"/> draws: ∇θ mean((r − b)·log p(k)), k ~ Categorical(θ).</summary>
    private static double[] Estimate(int samples, double baseline, Generator generator)
    {
        Tensor theta = T.F64(Theta, 3).RequireGrad();
        var d = new Categorical(theta.Expand(samples, 3));
        long[] k = d.Sample(generator).ToArray<long>();
        var advantage = new double[samples];
        for (int i = 0; i < samples; i++) advantage[i] = Reward[k[i]] - baseline;
        Tensor surrogate = (T.F64(advantage, samples) * d.LogProb(Tensor.FromArray(k))).Mean();
        surrogate.Backward();
        return theta.Grad!.ToDoubleArray();
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.4)]
    public void Reinforce_MonteCarloMean_MatchesTheExactGradient(double baseline)
    {
        const int m = 40_000;
        (double[] exact, double[] variance) = Exact(baseline);
        double[] estimate = Estimate(m, baseline, new Generator(2026));
        for (int j = 0; j < 3; j++)
        {
            double tolerance = 4 * Math.Sqrt(variance[j] / m); // 4 standard errors of the mean
            Assert.True(Math.Abs(estimate[j] - exact[j]) < tolerance,
                $"θ[{j}]: Monte-Carlo {estimate[j]:F5}, exact {exact[j]:F5}, tolerance {tolerance:F5}");
        }
    }

    [Fact]
    public void Reinforce_BaselineCutsTheVariance_AsTheExactVariancePredicts()
    {
        // 200 independent estimates of 200 draws each, without a baseline and with b = E[r]: their spread (the
        // trace of their covariance) matches Σⱼ Varⱼ/200 computed exactly (within the sampling error of a variance from 200 values: ±~30%).
        const int repeats = 200, draws = 200;
        double expectedReward = SoftmaxOf(Theta).Select((p, k) => p * Reward[k]).Sum();
        double SpreadOf(double baseline, ulong seed) // the summed variance of the three components
        {
            var g = new Generator(seed);
            var estimates = new double[repeats][];
            for (int r = 0; r < repeats; r++) estimates[r] = Estimate(draws, baseline, g);
            double total = 0;
            for (int j = 0; j < 3; j++)
            {
                double mean = estimates.Average(e => e[j]);
                total += estimates.Sum(e => (e[j] - mean) * (e[j] - mean)) / (repeats - 1);
            }
            return total;
        }
        double plain = SpreadOf(0, 5), withBaseline = SpreadOf(expectedReward, 6);
        double plainExact = Exact(0).Variance.Sum() / draws, baselineExact = Exact(expectedReward).Variance.Sum() / draws;
        Assert.InRange(plain / plainExact, 0.7, 1.3);
        Assert.InRange(withBaseline / baselineExact, 0.7, 1.3);
        Assert.True(withBaseline < 0.6 * plain, $"variance with baseline {withBaseline}, without {plain}");
    }
}
