using Backprop.Autograd;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Docs;

// README-ESTIMATOR-BEGIN
/// <summary>Stochastic binarization (BinaryNet): +1 with probability clamp((x + 1) / 2, 0, 1), else −1.</summary>
sealed class StochasticSign(Generator generator) : CustomFunction
{
    protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
    {
        Tensor x = inputs[0];
        ctx.SaveForBackward(x);
        Tensor pPlus = ((x + 1) / 2).Clamp(0, 1);                      // P(+1): a "hard sigmoid"
        Tensor u = Tensor.Uniform(x.Shape, 0, 1, x.DType, generator);
        return u.Lt(pPlus).To(x.DType) * 2 - 1;                        // a bool mask as 1/0 in x's dtype
    }

    // Straight-through, clipped: the derivative is taken as 1 where |x| ≤ 1 and 0 elsewhere.
    protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy)
        => [dy * ctx.SavedTensors[0].Abs().Le(1)];                     // bool promotes to dy's dtype
}
// README-ESTIMATOR-END

/// <summary>The README's recipe for a custom estimator, run as a test; a second test keeps the README copy identical.</summary>
public class EstimatorRecipeTests
{
    [Fact]
    public void StochasticSign_IsPlusMinusOne_WithMeanClampX_AndTheClippedStraightThroughGradient()
    {
        const int rows = 40_000;
        Tensor x = T.F64([-1.5, -0.5, 0, 0.5, 1.5], 1, 5).Expand(rows, 5).Contiguous().RequireGrad();
        Tensor b = new StochasticSign(new Generator(0)).Apply(x);
        Assert.Equal("StochasticSignBackward", b.GradFn!.Name);
        Assert.All(b.ToDoubleArray(), v => Assert.True(v is 1 or -1));
        double[] mean;
        using (GradMode.Disable())
            mean = b.Mean(0).ToDoubleArray();
        double[] expected = [-1, -0.5, 0, 0.5, 1];                     // E[b] = 2·P(+1) − 1 = clamp(x, −1, 1)
        for (int j = 0; j < 5; j++)
            Assert.True(Math.Abs(mean[j] - expected[j]) < 4 * Math.Sqrt((1 - expected[j] * expected[j]) / rows) + 1e-12,
                        $"column {j}: mean {mean[j]}, expected {expected[j]}");
        b.Sum().Backward();
        Assert.Equal([0, 1, 1, 1, 0], x.Grad!.Narrow(0, 0, 1).ToDoubleArray());
    }

    [Fact]
    public void Readme_ShowsExactlyTheTestedRecipe()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Backprop.slnx"))) root = Path.GetDirectoryName(root)!;
        string[] test = File.ReadAllLines(Path.Combine(root, "tests", "Backprop.Tests", "Docs", "EstimatorRecipeTests.cs"));
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).Replace("\r\n", "\n");
        int begin = Array.FindIndex(test, l => l.Contains("README-ESTIMATOR-BEGIN")), end = Array.FindIndex(test, l => l.Contains("README-ESTIMATOR-END"));
        Assert.Contains(string.Join("\n", test[(begin + 1)..end]), readme);
    }
}
