using System.Text.Json;
using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Cli.Commands;
using Backprop.Cli.Estimators;
using Backprop.Cli.Recipes;
using Backprop.Tests.Support;

namespace Backprop.Tests.Cli;

/// <summary>`backprop estimators` and the experiments behind it, on the real Fashion-MNIST files.</summary>
[Collection(ThreadsCollection.Name)]
public class EstimatorsCommandTests
{
    private static readonly Lazy<(Tensor X, Tensor Y, Tensor TestX, Tensor TestY)> Data = new(() =>
    {
        var (x, y) = FashionMnistRecipe.LoadTrainingSet(Backprop.Data.FashionMnist.DefaultDirectory);
        var (tx, ty) = FashionMnistRecipe.LoadTestSet(Backprop.Data.FashionMnist.DefaultDirectory);
        return (x.Narrow(0, 0, 2000).Contiguous(), y.Narrow(0, 0, 2000).Contiguous(), tx.Narrow(0, 0, 2000).Contiguous(), ty.Narrow(0, 0, 2000).Contiguous());
    });

    [Fact]
    public void BinaryLinear_UsesSignOfTheLatentWeights_OverRootFanIn_AndTheClippedStraightThroughGradient()
    {
        var layer = new BinaryLinear(4, 3, new Generator(1));
        using (GradMode.Disable()) layer.Weight.Data.CopyFrom(T.F32([0.5f, -0.2f, 1.5f, 0f, -0.9f, 0.1f, -1.2f, 0.3f, 0.7f, -0.6f, 0.05f, -2f], 3, 4));
        Tensor x = T.F32([1f, 2f, 3f, 4f, -1f, 0.5f, 2f, -3f], 2, 4);
        Tensor y = layer.Call(x);
        Tensor expected = Functional.Linear(x, layer.Weight.Data.Detach().Sign() * 0.5, layer.Bias.Data.Detach()); // 1/√4
        Assert.Equal(expected.ToDoubleArray(), y.ToDoubleArray());
        y.Sum().Backward();
        // dW = Σ_rows x · 1/√in where |W| ≤ 1, else 0
        double[] g = layer.Weight.Grad!.ToDoubleArray();
        double[] colSums = [0, 2.5, 5, 1];
        double[] w = layer.Weight.Data.ToDoubleArray();
        for (int i = 0; i < 12; i++)
            Assert.Equal(Math.Abs(w[i]) <= 1 ? 0.5 * colSums[i % 4] : 0, g[i], 6);
        layer.ClipLatent();
        Assert.All(layer.Weight.Data.ToDoubleArray(), v => Assert.InRange(v, -1, 1));
    }

    [Fact]
    public void BinaryMlp_On2000Images_TrainsFarAboveChance()
    {
        var (x, y, tx, ty) = Data.Value;
        BinaryMlpResult r = ThreadsCollection.With(2, () =>
            BinaryMlp.Train(new BinaryMlpSettings { Steps = 300, BatchSize = 64, Hidden = 128, Seed = 3 }, x, y, tx, ty));
        Assert.True(r.Binarized);
        Assert.Equal(300, r.Steps);
        Assert.True(r.TestAccuracy > 0.5, $"binary MLP test accuracy {r.TestAccuracy}"); // chance is 0.1; measured 0.815
        Assert.InRange(r.FlippedFraction, 0.001, 0.5); // the latent weights did move signs
    }

    [Fact]
    public void Reinforce_IsUnbiasedWithinItsNoise_StraightThroughIsLessNoisyButBiased()
    {
        var (x, y, _, _) = Data.Value;
        var s = new ChoiceSettings { Samples = 200, BatchSize = 32 };
        var policy = ChoiceTask.CreatePolicy(5);
        Tensor bx = x.Narrow(0, 0, 32), by = y.Narrow(0, 0, 32);
        GradientSpread reinforce = ChoiceTask.Spread(ChoiceEstimator.Reinforce, policy, bx, by, baseline: 0.1, "init", s, seed: 7);
        GradientSpread plain = ChoiceTask.Spread(ChoiceEstimator.ReinforceNoBaseline, policy, bx, by, baseline: 0.1, "init", s, seed: 7);
        GradientSpread st = ChoiceTask.Spread(ChoiceEstimator.StraightThroughGumbel, policy, bx, by, baseline: 0.1, "init", s, seed: 7);
        // An unbiased mean of K draws misses by about √(var/K); 3 of those is generous yet far below ST's bias.
        Assert.True(reinforce.RelativeBias < 3 * reinforce.RelativeNoise, $"reinforce bias {reinforce.RelativeBias}, noise {reinforce.RelativeNoise}");
        Assert.True(plain.RelativeBias < 3 * plain.RelativeNoise, $"no-baseline bias {plain.RelativeBias}, noise {plain.RelativeNoise}");
        Assert.True(st.Variance < 0.3 * reinforce.Variance, $"straight-through variance {st.Variance}, reinforce {reinforce.Variance}");
        Assert.True(st.RelativeBias > 3 * st.RelativeNoise, $"straight-through bias {st.RelativeBias}, noise {st.RelativeNoise}");
        Assert.True(reinforce.Variance < plain.Variance, "at init (reward ≈ 0.1) the baseline lowers the variance");
        Assert.Equal(reinforce.ExactNorm, st.ExactNorm);
    }

    [Fact]
    public void Reinforce_LearnsToPickTheRightClassBySampling()
    {
        var (x, y, tx, ty) = Data.Value;
        var (_, trained) = ThreadsCollection.With(2, () =>
            ChoiceTask.Train(ChoiceEstimator.Reinforce, new ChoiceSettings { Steps = 300, BatchSize = 64, LearningRate = 0.005, Seed = 2 }, x, y, tx, ty));
        Assert.True(trained.ExpectedReward > 0.3, $"expected reward {trained.ExpectedReward} (chance 0.1; measured 0.446)");
        Assert.True(trained.GreedyAccuracy > 0.4, $"greedy accuracy {trained.GreedyAccuracy}");
    }

    [Fact]
    public void Json_HasOneRecordPerResult_WithTheirFields()
    {
        var (code, output, err) = CliHarness.Run("estimators", "--steps", "10", "--samples", "3", "--batch-size", "32", "--train-limit", "300", "--threads", "1", "--json");
        Assert.True(code == 0, err);
        JsonElement[] records = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        string[] kinds = records.Select(r => r.GetProperty("kind").GetString()!).ToArray();
        Assert.Equal(["binary_mlp", "binary_mlp", "choice_training", "choice_training", "choice_training",
                      "gradient_spread", "gradient_spread", "gradient_spread", "gradient_spread", "gradient_spread", "gradient_spread"], kinds);
        Assert.Equal(["kind", "weights", "steps", "batch_size", "lr", "train_loss_last50", "test_loss", "test_accuracy", "signs_flipped", "seconds"],
                     records[0].EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(["kind", "estimator", "steps", "lr", "greedy_test_accuracy", "expected_test_reward", "seconds"],
                     records[2].EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(["kind", "estimator", "at", "samples", "batch_size", "variance", "mean_norm", "exact_norm", "cosine_to_exact", "relative_bias", "relative_noise"],
                     records[5].EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(["reinforce", "reinforce-no-baseline", "straight-through-gumbel"], records[2..5].Select(r => r.GetProperty("estimator").GetString()!).ToArray());
        Assert.Equal(["init", "init", "init", "trained", "trained", "trained"], records[5..].Select(r => r.GetProperty("at").GetString()!).ToArray());
        Assert.Equal(3, records[5].GetProperty("samples").GetInt32());
    }

    [Theory]
    [InlineData("--samples", "1", "--samples must be between 2 and 100000")]
    [InlineData("--steps", "0", "--steps must be between 1")]
    [InlineData("--batch-size", "x", "--batch-size expects a whole number")]
    public void BadFlags_AreUsageErrors(string flag, string value, string message)
    {
        var (code, output, err) = CliHarness.Run("estimators", flag, value);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(message, err);
    }

    [Fact]
    public void BatchLargerThanTheData_IsAUsageError()
    {
        var (code, _, err) = CliHarness.Run("estimators", "--train-limit", "50", "--batch-size", "64");
        Assert.Equal(2, code);
        CliHarness.AssertShortError(err, 1, "--batch-size 64", "50 training images");
    }
}
