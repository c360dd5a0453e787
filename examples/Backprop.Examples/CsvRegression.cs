using Backprop.Autograd;
using Backprop.Data;
using Backprop.Data.Csv;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Examples;

/// <summary>
/// Regression from a CSV file: scikit-learn's Boston house prices (a preamble line, then a header; the
/// target is the MEDV column), a seeded 80/20 split, features standardized with the training rows'
/// statistics, and a small MLP trained on mini-batches from a <see cref="DataLoader"/>.
/// </summary>
public static class CsvRegression
{
    /// <summary>The file Debian's python3-sklearn ships.</summary>
    public const string DefaultPath = "/usr/lib/python3/dist-packages/sklearn/datasets/data/boston_house_prices.csv";

    /// <summary>Trains and returns the held-out root-mean-square error, in the target's units ($1000s).</summary>
    public static double Run(TextWriter console, string path = DefaultPath, int epochs = 60)
    {
        CsvTable table = CsvReader.Read(path, "MEDV", new CsvOptions { SkipRows = 1 });
        console.WriteLine($"{table.Count} rows, {table.FeatureNames.Count} features, target {table.TargetName} ({table.Kind})");

        Subset<(Tensor Input, Tensor Target)>[] parts = Dataset.RandomSplit(table.ToDataset(), [0.8, 0.2], new Generator(0));
        Tensor trainRows = Tensor.FromArray([.. parts[0].Indices]), testRows = Tensor.FromArray([.. parts[1].Indices]);
        Tensor xTrain = table.Features.IndexSelect(0, trainRows), yTrain = table.Targets.IndexSelect(0, trainRows);
        Tensor xTest = table.Features.IndexSelect(0, testRows), yTest = table.Targets.IndexSelect(0, testRows);

        // Standardize with the training rows only, so nothing about the test rows leaks into training.
        Tensor mean = xTrain.Mean(0, keepDim: true), std = xTrain.Std(0, keepDim: true) + 1e-6;
        xTrain = (xTrain - mean) / std;
        xTest = (xTest - mean) / std;

        var model = new Sequential(new Linear(xTrain.Shape[1], 64, generator: new Generator(1)), new Relu(),
                                   new Linear(64, 1, generator: new Generator(2)));
        var optimizer = new AdamW(model.Parameters(), new AdamOptions(LearningRate: 0.01));
        var loader = new DataLoader(new TensorDataset(xTrain, yTrain), batchSize: 32, shuffle: true, seed: 3);
        double rmse = double.NaN;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            foreach ((Tensor x, Tensor y) in loader) // a new shuffle every pass
            {
                optimizer.ZeroGrad();
                Functional.MseLoss(model.Call(x), y).Backward();
                optimizer.Step();
            }
            using (GradMode.Disable())
                rmse = Math.Sqrt(Functional.MseLoss(model.Call(xTest), yTest).Item());
            if (epoch % 20 == 0) console.WriteLine($"epoch {epoch}: held-out RMSE {rmse:F2} (×$1000)");
        }
        return rmse;
    }
}
