using System.Diagnostics;
using Backprop.Autograd;
using Backprop.Data;
using Backprop.Memory;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;
using Backprop.Cli.Recipes;

namespace Backprop.Cli.Estimators;

/// <summary>Settings of the binarized-weight MLP run.</summary>
internal sealed record BinaryMlpSettings
{
    /// <summary>Adam steps.</summary>
    public int Steps { get; init; } = 600;

    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam learning rate of the latent weights.</summary>
    public double LearningRate { get; init; } = 0.005;

    /// <summary>Hidden width of the 784-H-H-10 network.</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>Seed of initialisation and shuffling.</summary>
    public ulong Seed { get; init; }

    /// <summary>False: the same network with float weights, for comparison.</summary>
    public bool Binarize { get; init; } = true;
}

/// <summary>What a binarized-MLP run measured.</summary>
internal sealed record BinaryMlpResult(bool Binarized, int Steps, double TrainLoss, double TestLoss, double TestAccuracy, double FlippedFraction, double Seconds);

/// <summary>
/// Trains a 784-256-256-10 MLP whose weights are ±1 in the forward pass (binary linear → batch norm → ReLU)
/// on Fashion-MNIST, with Adam on the latent float weights.
/// </summary>
internal static class BinaryMlp
{
    public static Sequential Create(BinaryMlpSettings s, Generator g) => new(
        new BinaryLinear(784, s.Hidden, g, s.Binarize), new BatchNorm1d(s.Hidden), new Relu(),
        new BinaryLinear(s.Hidden, s.Hidden, g, s.Binarize), new BatchNorm1d(s.Hidden), new Relu(),
        new BinaryLinear(s.Hidden, 10, g, s.Binarize), new BatchNorm1d(10));

    /// <summary>Trains for <see cref="BinaryMlpSettings.Steps"/> steps and evaluates on the test images.</summary>
    public static BinaryMlpResult Train(BinaryMlpSettings s, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY)
    {
        var clock = Stopwatch.StartNew();
        Sequential model = Create(s, new Generator(s.Seed));
        BinaryLinear[] layers = model.Modules().OfType<BinaryLinear>().ToArray();
        Tensor[] initialSigns = layers.Select(l => l.Weight.Data.Detach().Sign()).ToArray();
        var optimizer = new Adam(model.Parameters(), new AdamOptions(LearningRate: s.LearningRate));
        var loader = new DataLoader(new TensorDataset(trainX, trainY), s.BatchSize, shuffle: true, dropLast: true, seed: s.Seed);
        if (loader.BatchCount == 0)
            throw new ArgumentException($"estimators: {trainX.Shape[0]} training images make no batch of {s.BatchSize}");
        double recentLoss = 0;
        int recent = 0, step = 0;
        for (int epoch = 0; step < s.Steps; epoch++)
            foreach (var (x, y) in loader.Epoch(epoch))
            {
                using (TensorScope.Begin(x, y))
                {
                    optimizer.ZeroGrad();
                    Tensor loss = Functional.CrossEntropy(model.Call(x), y);
                    loss.Backward();
                    optimizer.Step();
                    foreach (BinaryLinear l in layers) l.ClipLatent();
                    if (++step > s.Steps - 50) { recentLoss += loss.Item(); recent++; }
                }
                if (step >= s.Steps) break;
            }
        double flipped = 0, total = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            double[] now = layers[i].Weight.Data.Sign().ToDoubleArray(), then = initialSigns[i].ToDoubleArray();
            for (int j = 0; j < now.Length; j++) if (now[j] != then[j]) flipped++;
            total += now.Length;
        }
        var (testLoss, accuracy, _) = FashionMnistRecipe.Evaluate(model, "mlp", testX, testY); // batches of [N, 784], eval mode
        return new BinaryMlpResult(s.Binarize, step, recentLoss / recent, testLoss, accuracy, flipped / total, clock.Elapsed.TotalSeconds);
    }
}
