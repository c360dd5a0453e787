using Backprop.Autograd;
using Backprop.Data;
using Backprop.Data.Csv;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Optim;
using Backprop.Tensors;

namespace Backprop.Examples;

/// <summary>
/// Classification from a CSV file: scikit-learn's wine data (a preamble line "178,13,class_0,…", then 13 numeric
/// columns and the class in the last), a seeded stratification-free 75/25 split, features standardized with the
/// training rows' statistics, and an MLP trained with cross-entropy on mini-batches.
/// </summary>
public static class CsvClassification
{
    /// <summary>The file Debian's python3-sklearn ships.</summary>
    public const string DefaultPath = "/usr/lib/python3/dist-packages/sklearn/datasets/data/wine_data.csv";

    /// <summary>Trains and returns the held-out accuracy.</summary>
    public static double Run(TextWriter console, string path = DefaultPath, int epochs = 40)
    {
        CsvTable table = CsvReader.Read(path, CsvColumn.At(-1), new CsvOptions { SkipRows = 1 });
        console.WriteLine($"{table.Count} rows, {table.FeatureNames.Count} features, {table.ClassCount} classes ({table.Kind})");

        Subset<(Tensor Input, Tensor Target)>[] parts = Dataset.RandomSplit(table.ToDataset(), [0.75, 0.25], new Generator(0));
        Tensor trainRows = Tensor.FromArray([.. parts[0].Indices]), testRows = Tensor.FromArray([.. parts[1].Indices]);
        Tensor xTrain = table.Features.IndexSelect(0, trainRows), yTrain = table.Targets.IndexSelect(0, trainRows);
        Tensor xTest = table.Features.IndexSelect(0, testRows), yTest = table.Targets.IndexSelect(0, testRows);

        // Standardize with the training rows only, so nothing about the test rows leaks into training.
        Tensor mean = xTrain.Mean(0, keepDim: true), std = xTrain.Std(0, keepDim: true) + 1e-6;
        xTrain = (xTrain - mean) / std;
        xTest = (xTest - mean) / std;

        var gen = new Generator(1);
        var model = new Sequential(new Linear(xTrain.Shape[1], 32, generator: gen), new Relu(), new Linear(32, table.ClassCount, generator: gen));
        var optimizer = new AdamW(model.Parameters(), new AdamOptions(LearningRate: 0.01));
        var loader = new DataLoader(new TensorDataset(xTrain, yTrain), batchSize: 16, shuffle: true, seed: 2);
        double accuracy = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            foreach ((Tensor x, Tensor y) in loader)
            {
                optimizer.ZeroGrad();
                Functional.CrossEntropy(model.Call(x), y).Backward();
                optimizer.Step();
            }
            using (GradMode.Disable())
                accuracy = model.Call(xTest).ArgMax(1).Eq(yTest).To(DType.Float64).Mean().Item();
            if (epoch % 10 == 0) console.WriteLine($"epoch {epoch}: held-out accuracy {accuracy:P1} of {yTest.Shape[0]} rows");
        }
        return accuracy;
    }
}
