using Backprop.Examples;
using Backprop.Tests.Cli;

namespace Backprop.Tests.Examples;

/// <summary>Every program in examples/ runs to the end and learns what it sets out to.</summary>
public class ExamplesTests
{
    [Fact]
    public void Xor_LearnsAllFourPoints()
    {
        var output = new StringWriter();
        double loss = Xor.Run(output);
        Assert.True(loss < 0.01, $"final loss {loss}\n{output}");
        Assert.Contains("predictions: tensor(", output.ToString());
    }

    [Fact]
    public void CustomFunction_PassesItsGradientCheck_AndRecoversTheSlope()
    {
        var output = new StringWriter();
        double beta = CustomFunctionExample.Run(output);
        Assert.Contains("gradient check passed", output.ToString());
        Assert.InRange(beta, 1.65, 1.75);
    }

    [Fact]
    public void TinyGpt_TrainsOnText_AndSamples()
    {
        string path = TextCorpusFiles.Write(Path.Combine(Directory.CreateTempSubdirectory("tiny-gpt-").FullName, "text.txt"));
        var output = new StringWriter();
        double loss = TinyGpt.Run(output, path, steps: 120, sampleBytes: 40);
        Assert.True(loss < 3.2, $"last loss {loss} (ln 256 = 5.55)\n{output}"); // far below a uniform guess
        string[] lines = output.ToString().Split('\n');
        Assert.StartsWith("step    0: loss 5.", lines[1]);
    }

    [Fact]
    public void CsvRegression_PredictsBostonPrices_WellBelowTheSpreadOfTheTarget()
    {
        var output = new StringWriter();
        double rmse = CsvRegression.Run(output, CsvRegression.DefaultPath, epochs: 60);
        // The target's standard deviation is 9.2 ($1000s): predicting the mean would score about that.
        Assert.True(rmse < 5.0, $"held-out RMSE {rmse}\n{output}");
        Assert.Contains("506 rows, 13 features, target MEDV (Regression)", output.ToString());
    }

    [Fact]
    public void FashionMnistCnn_OnASubset_ScoresFarAboveChance()
    {
        var output = new StringWriter();
        double accuracy = FashionMnistCnn.Run(output, trainImages: 4000, testImages: 1000, epochs: 2);
        Assert.True(accuracy > 0.72, $"test accuracy {accuracy} (chance is 0.10)\n{output}");
        Assert.Contains("4000 training and 1000 test images of shape [1, 28, 28]", output.ToString());
    }

    [Fact]
    public void CsvClassification_SortsWines_WellAboveChance()
    {
        var output = new StringWriter();
        double accuracy = CsvClassification.Run(output, CsvClassification.DefaultPath, epochs: 40);
        Assert.True(accuracy > 0.9, $"held-out accuracy {accuracy} (the largest class is 40% of the rows)\n{output}");
        Assert.Contains("178 rows, 13 features, 3 classes (Classification)", output.ToString());
    }
}
