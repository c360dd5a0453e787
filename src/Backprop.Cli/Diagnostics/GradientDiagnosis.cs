using System.Diagnostics;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Memory;
using Backprop.NN;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Diagnostics;

/// <summary>Settings of one diagnosis run.</summary>
internal sealed record DiagnosisSettings
{
    /// <summary>Linear layers per network.</summary>
    public int Depth { get; init; } = 20;

    /// <summary>Hidden width.</summary>
    public int Width { get; init; } = 64;

    /// <summary>Training steps per variant.</summary>
    public int Steps { get; init; } = 200;

    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>SGD learning rate (momentum 0.9) of the healthy variants; the exploding pair multiplies it.</summary>
    public double LearningRate { get; init; } = 0.003;

    /// <summary>Seed of initialisation and shuffling (the same for every variant).</summary>
    public ulong Seed { get; init; }

    /// <summary>Steps over which the per-layer gradient norms are also averaged.</summary>
    public int AveragedSteps { get; init; } = 10;
}

/// <summary>What one variant's run measured.</summary>
/// <param name="FirstNorms">Weight-gradient L2 norm of every linear layer (input first) at step 1.</param>
/// <param name="MeanNorms">The same averaged over the first <see cref="DiagnosisSettings.AveragedSteps"/> steps (non-finite once a run diverged).</param>
/// <param name="DivergedAtStep">The step whose loss was NaN or infinite (training stopped there), or null.</param>
internal sealed record DiagnosisResult(DepthVariant Variant, double LearningRate, double[] FirstNorms, double[] MeanNorms, int StepsRun,
                                       double FirstLoss, double LastLoss, double TestLoss, double TestAccuracy, int? DivergedAtStep, double Seconds)
{
    /// <summary>First linear layer's gradient norm at step 1.</summary>
    public double FirstLayerNorm => FirstNorms[0];

    /// <summary>Last linear layer's gradient norm at step 1.</summary>
    public double LastLayerNorm => FirstNorms[^1];

    /// <summary>First over last: ≪ 1 when gradients vanish towards the input.</summary>
    public double Ratio => FirstLayerNorm / LastLayerNorm;
}

/// <summary>
/// The vanishing/exploding-gradient demonstration behind <c>backprop diagnose</c>: trains each
/// <see cref="DepthVariant"/> on the same batches of Fashion-MNIST with SGD (momentum 0.9) and reads the
/// weight gradient of every linear layer from .Grad after each backward pass.
/// </summary>
internal static class GradientDiagnosis
{
    /// <summary>Trains <paramref name="variant"/> for <see cref="DiagnosisSettings.Steps"/> steps and evaluates it on the test images.</summary>
    public static DiagnosisResult Run(DepthVariant variant, DiagnosisSettings s, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY)
    {
        var clock = Stopwatch.StartNew();
        DeepNet model = variant.Build(s.Depth, s.Width, new Generator(s.Seed));
        double lr = s.LearningRate * variant.LearningRateFactor;
        var optimizer = new Sgd(model.Parameters(), new SgdOptions(LearningRate: lr, Momentum: 0.9));
        var loader = new DataLoader(new TensorDataset(trainX, trainY), s.BatchSize, shuffle: true, dropLast: true, seed: s.Seed);
        if (loader.BatchCount == 0)
            throw new ArgumentException($"diagnose: {trainX.Shape[0]} training images make no batch of {s.BatchSize}");

        int depth = model.Layers.Count, averaged = Math.Min(s.AveragedSteps, s.Steps);
        var first = new double[depth];
        var mean = new double[depth];
        double firstLoss = double.NaN, lastLoss = double.NaN;
        int? diverged = null;
        int step = 0;
        for (int epoch = 0; step < s.Steps && diverged is null; epoch++)
            foreach (var (x, y) in loader.Epoch(epoch))
            {
                using (TensorScope.Begin(x, y))
                {
                    optimizer.ZeroGrad();
                    Tensor loss = Functional.CrossEntropy(model.Call(x), y);
                    loss.Backward();
                    double value = loss.Item();
                    for (int i = 0; i < depth; i++)
                    {
                        double norm = Norm(model.Layers[i].Weight.Grad!);
                        if (step == 0) first[i] = norm;
                        if (step < averaged) mean[i] += norm / averaged;
                    }
                    if (step == 0) firstLoss = value;
                    lastLoss = value;
                    step++;
                    if (!double.IsFinite(value))
                    {
                        diverged = step;
                        break;
                    }
                    if (variant.ClipNorm is double clip) GradClip.ClipGradNorm(model.Parameters(), clip);
                    optimizer.Step();
                }
                if (step >= s.Steps) break;
            }
        if (diverged is not null && step < averaged)
            Array.Fill(mean, double.NaN); // fewer finite steps than the average covers
        (double testLoss, double accuracy) = diverged is null ? Evaluate(model, testX, testY) : (double.NaN, double.NaN);
        return new DiagnosisResult(variant, lr, first, mean, step, firstLoss, lastLoss, testLoss, accuracy, diverged, clock.Elapsed.TotalSeconds);
    }

    /// <summary>L2 norm accumulated in float64, so that float32 gradients of 1e20 do not overflow to infinity on the way.</summary>
    public static double Norm(Tensor g)
    {
        double sum = 0;
        if (g.DType == DType.Float32)
            foreach (float v in g.Contiguous().AsReadOnlySpan<float>()) sum += (double)v * v;
        else
            foreach (double v in g.Contiguous().AsReadOnlySpan<double>()) sum += v * v;
        return Math.Sqrt(sum);
    }

    /// <summary>Mean cross-entropy and accuracy on the given images [N, 784], in evaluation mode (batch norm uses its running statistics).</summary>
    private static (double Loss, double Accuracy) Evaluate(DeepNet model, Tensor x, Tensor y)
    {
        var (loss, accuracy, _) = FashionMnistRecipe.Evaluate(model, "mlp", x, y);
        return (loss, accuracy);
    }
}
