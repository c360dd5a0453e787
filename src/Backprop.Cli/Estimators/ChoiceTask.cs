using System.Diagnostics;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Distributions;
using Backprop.Memory;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Estimators;

/// <summary>The gradient estimators compared on the choice task.</summary>
internal enum ChoiceEstimator
{
    /// <summary>Score function: −(r − b)·log p(k), k sampled, b the running mean of rewards.</summary>
    Reinforce,

    /// <summary>Score function without a baseline: −r·log p(k).</summary>
    ReinforceNoBaseline,

    /// <summary>Straight-through Gumbel-softmax: the one-hot sample forward, the soft sample's gradient backward.</summary>
    StraightThroughGumbel,
}

/// <summary>Settings of the choice task.</summary>
internal sealed record ChoiceSettings
{
    /// <summary>Adam steps per trained estimator.</summary>
    public int Steps { get; init; } = 600;

    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 0.002;

    /// <summary>Draws of the same batch over which the gradient variance is measured.</summary>
    public int Samples { get; init; } = 100;

    /// <summary>Momentum of the running-mean baseline: b ← m·b + (1 − m)·mean(r).</summary>
    public double BaselineMomentum { get; init; } = 0.9;

    /// <summary>Seed of initialisation, shuffling and sampling.</summary>
    public ulong Seed { get; init; }
}

/// <summary>An estimator's gradient of the first layer's weights over repeated draws on one fixed batch.</summary>
/// <param name="Variance">Trace of the covariance of the estimate, Σⱼ Var(gⱼ), over the draws (unbiased).</param>
/// <param name="MeanNorm">‖mean of the estimates‖.</param>
/// <param name="Cosine">Cosine between the mean estimate and the exact gradient.</param>
/// <param name="RelativeBias">‖mean − exact‖ / ‖exact‖ (includes the Monte-Carlo error of the mean, ~√(Variance/K)/‖exact‖).</param>
internal sealed record GradientSpread(ChoiceEstimator Estimator, string At, double Variance, double MeanNorm, double ExactNorm, double Cosine, double RelativeBias, int Samples)
{
    /// <summary>The expected ‖mean − E[estimate]‖ / ‖exact‖ of a mean of <see cref="Samples"/> draws, √(Variance/K)/‖exact‖: an unbiased estimator's relative bias is about this.</summary>
    public double RelativeNoise => Math.Sqrt(Variance / Samples) / ExactNorm;
}

/// <summary>A trained estimator's policy on the test images.</summary>
/// <param name="GreedyAccuracy">Accuracy of argmax of the logits.</param>
/// <param name="ExpectedReward">Mean probability of the true class: the expected reward of sampling.</param>
internal sealed record ChoiceTraining(ChoiceEstimator Estimator, int Steps, double GreedyAccuracy, double ExpectedReward, double Seconds);

/// <summary>
/// Learning to pick the right class by sampling: a 784-64-10 network outputs logits, a class k is drawn from
/// softmax(logits) and the reward is 1 if k is the image's label, else 0. Nothing differentiable connects the
/// reward to the weights; a score-function (REINFORCE) estimator and the straight-through Gumbel-softmax
/// estimator supply gradients. The exact gradient is known: E[r] = p(label), so ∇E[r] = ∇p(label).
/// </summary>
internal static class ChoiceTask
{
    public static Sequential CreatePolicy(ulong seed)
    {
        var g = new Generator(seed);
        return new Sequential(new Linear(784, 64, generator: g), new Relu(), new Linear(64, 10, generator: g));
    }

    /// <summary>
    /// The estimator's surrogate loss on one batch: its gradient is the estimate of −∇ mean(reward). Draws from
    /// <paramref name="generator"/>; returns the loss and the batch's mean sampled reward.
    /// </summary>
    public static (Tensor Loss, double MeanReward) Surrogate(ChoiceEstimator estimator, Tensor logits, Tensor labels, double baseline, Generator generator)
    {
        int n = labels.Shape[0];
        long[] truth = labels.ToArray<long>();
        if (estimator == ChoiceEstimator.StraightThroughGumbel)
        {
            Tensor oneHot = Tensor.Zeros(logits.Shape).ScatterAdd(1, labels.Unsqueeze(1), Tensor.Ones([n, 1]));
            Tensor sample = Functional.GumbelSoftmax(logits, tau: 1, hard: true, generator: generator); // one-hot forward
            Tensor reward = (sample * oneHot).Sum(1);                                                      // [n], 1 if right
            return (-reward.Mean(), reward.Mean().Item());
        }
        var policy = new Categorical(logits);
        Tensor choice = policy.Sample(generator);
        long[] k = choice.ToArray<long>();
        var advantage = new float[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double r = k[i] == truth[i] ? 1 : 0;
            total += r;
            advantage[i] = (float)(r - (estimator == ChoiceEstimator.Reinforce ? baseline : 0));
        }
        return (-(Tensor.FromArray(advantage) * policy.LogProb(choice)).Mean(), total / n);
    }

    /// <summary>Trains a fresh policy (seeded as every other) with <paramref name="estimator"/>; returns it and its test results.</summary>
    public static (Sequential Policy, ChoiceTraining Result) Train(ChoiceEstimator estimator, ChoiceSettings s, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY)
    {
        var clock = Stopwatch.StartNew();
        Sequential policy = CreatePolicy(s.Seed);
        var optimizer = new Adam(policy.Parameters(), new AdamOptions(LearningRate: s.LearningRate));
        var loader = new DataLoader(new TensorDataset(trainX, trainY), s.BatchSize, shuffle: true, dropLast: true, seed: s.Seed);
        if (loader.BatchCount == 0)
            throw new ArgumentException($"estimators: {trainX.Shape[0]} training images make no batch of {s.BatchSize}");
        var sampler = new Generator(s.Seed + 1);
        double? baseline = null;
        int step = 0;
        for (int epoch = 0; step < s.Steps; epoch++)
            foreach (var (x, y) in loader.Epoch(epoch))
            {
                using (TensorScope.Begin(x, y))
                {
                    optimizer.ZeroGrad();
                    (Tensor loss, double reward) = Surrogate(estimator, policy.Call(x), y, baseline ?? 0, sampler);
                    loss.Backward();
                    optimizer.Step();
                    // The running mean of the rewards seen so far (the first batch's mean to start with).
                    baseline = baseline is double b ? s.BaselineMomentum * b + (1 - s.BaselineMomentum) * reward : reward;
                }
                if (++step >= s.Steps) break;
            }
        (double greedy, double expected) = Score(policy, testX, testY);
        return (policy, new ChoiceTraining(estimator, step, greedy, expected, clock.Elapsed.TotalSeconds));
    }

    /// <summary>Greedy accuracy and expected reward (mean p(label)) on the given images.</summary>
    public static (double GreedyAccuracy, double ExpectedReward) Score(Module policy, Tensor x, Tensor y)
    {
        var (_, accuracy, _) = FashionMnistRecipe.Evaluate(policy, "mlp", x, y);
        double expected;
        using (GradMode.Disable())
        using (TensorScope.Begin())
            expected = ExpectedReward(policy.Call(x), y).Item();
        return (accuracy, expected);
    }

    /// <summary>mean p(label): E[reward] of sampling from softmax(logits), differentiable.</summary>
    public static Tensor ExpectedReward(Tensor logits, Tensor labels) => logits.Softmax(1).Gather(1, labels.Unsqueeze(1)).Mean();

    /// <summary>
    /// Draws the estimator's gradient of the first layer's weights <see cref="ChoiceSettings.Samples"/> times
    /// on the same batch (only the sampled choices differ) and compares the spread and the mean with the exact
    /// gradient −∇ mean p(label). <paramref name="baseline"/> is the REINFORCE baseline to use.
    /// </summary>
    public static GradientSpread Spread(ChoiceEstimator estimator, Sequential policy, Tensor x, Tensor y, double baseline, string at, ChoiceSettings s, ulong seed)
    {
        Parameter w = ((Linear)policy[0]).Weight;
        double[] exact = Gradient(policy, w, () => -ExpectedReward(policy.Call(x), y));
        int m = exact.Length;
        var mean = new double[m];
        var sumSquares = new double[m];
        var sampler = new Generator(seed);
        for (int draw = 0; draw < s.Samples; draw++)
        {
            double[] g = Gradient(policy, w, () => Surrogate(estimator, policy.Call(x), y, baseline, sampler).Loss);
            // Welford's update, per element: stable for many draws.
            for (int j = 0; j < m; j++)
            {
                double delta = g[j] - mean[j];
                mean[j] += delta / (draw + 1);
                sumSquares[j] += delta * (g[j] - mean[j]);
            }
        }
        double variance = 0, dot = 0, meanNorm = 0, exactNorm = 0, bias = 0;
        for (int j = 0; j < m; j++)
        {
            variance += sumSquares[j] / (s.Samples - 1);
            dot += mean[j] * exact[j];
            meanNorm += mean[j] * mean[j];
            exactNorm += exact[j] * exact[j];
            bias += (mean[j] - exact[j]) * (mean[j] - exact[j]);
        }
        meanNorm = Math.Sqrt(meanNorm);
        exactNorm = Math.Sqrt(exactNorm);
        return new GradientSpread(estimator, at, variance, meanNorm, exactNorm, dot / (meanNorm * exactNorm), Math.Sqrt(bias) / exactNorm, s.Samples);
    }

    private static double[] Gradient(Sequential policy, Parameter w, Func<Tensor> loss)
    {
        policy.ZeroGrad();
        using (TensorScope.Begin())
        {
            loss().Backward();
            return w.Grad!.ToDoubleArray();
        }
    }
}
