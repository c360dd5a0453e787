using Backprop.Cli.Reporting;

namespace Backprop.Tests.Cli;

public class CurvesPlotTests
{
    private static MetricsLine Line(int epoch, double trainLoss, double testLoss, double trainAccuracy, double testAccuracy, int epochStep = 0) => new(epoch, epochStep,
    [
        new("train_loss", trainLoss), new("train_accuracy", trainAccuracy), new("test_loss", testLoss), new("test_accuracy", testAccuracy),
    ]);

    private static void AssertPng(string dir, string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 5000, $"only {bytes.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void SaveClassification_WithStepsAndAStoppedEpoch_WritesAPngImage()
    {
        string dir = Directory.CreateTempSubdirectory("plot").FullName;
        try
        {
            string path = Path.Combine(dir, "curves.png");
            var steps = new List<StepLoss>();
            for (int e = 1; e <= 3; e++)
                for (int s = 1; s <= (e == 3 ? 20 : 50); s++) steps.Add(new StepLoss(e, s, 50, 1.0 / (e + s / 50.0) + 0.1 * Math.Sin(s)));
            CurvesPlot.SaveClassification(path, "cnn", [Line(1, 0.6, 0.5, 0.78, 0.8), Line(2, 0.4, 0.45, 0.85, 0.84), Line(3, 0.35, 0.4, 0.87, 0.86, epochStep: 20)], steps, 50);
            AssertPng(dir, path);
            // Without steps (a run logged before they were recorded) the epoch means stand in.
            CurvesPlot.SaveLossOnly(path, "gpt", "nats per character", [new MetricsLine(1, 0, [new("train_loss", 2.0), new("val_loss", 2.1)])], [], 100, "val_loss", "validation");
            AssertPng(dir, path);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Smooth_IsABiasCorrectedMovingAverage()
    {
        Assert.Equal([2.0, 2.0, 2.0], CurvesPlot.Smooth([2.0, 2.0, 2.0], 10));
        double[] s = CurvesPlot.Smooth([1.0, 3.0], 2); // β = 0.5: (0.5·1) / 0.5 = 1, then (0.25 + 1.5) / 0.75
        Assert.Equal(1.0, s[0], 12);
        Assert.Equal(1.75 / 0.75, s[1], 12);
        Assert.Equal([1.0, 3.0], CurvesPlot.Smooth([1.0, 3.0], 1)); // window 1: the raw values
        Assert.Equal(1.0, CurvesPlot.Smooth([1.0, double.NaN], 4)[1], 12); // a NaN step leaves the average as it was
    }

    [Fact]
    public void StepsAndStoppedEpochs_LieAtTheirEpochFraction()
    {
        Assert.Equal(0.5, new StepLoss(1, 5, 10, 0).X);
        Assert.Equal(2.0, new StepLoss(2, 10, 10, 0).X);
        Assert.Equal(new RunPosition(2, 0), new StepLoss(2, 10, 10, 0).Position);
        Assert.Equal(new RunPosition(1, 3), new StepLoss(2, 3, 10, 0).Position);
        Assert.Equal([1.0, 1.25], CurvesPlot.EpochPositions([Line(1, 0, 0, 0, 0), Line(2, 0, 0, 0, 0, epochStep: 5)], 20));
    }
}
