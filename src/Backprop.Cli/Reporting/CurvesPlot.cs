using ScottPlot;

namespace Backprop.Cli.Reporting;

/// <summary>curves.png: loss (left panel) and accuracy (right panel) per epoch, train and test.</summary>
internal static class CurvesPlot
{
    /// <summary>Draws the curves; each array has one value per epoch.</summary>
    public static void Save(string path, string title, double[] epochs, double[] trainLoss, double[] testLoss, double[] trainAccuracy, double[] testAccuracy)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Panel(multiplot.GetPlot(0), $"{title}: loss", "cross-entropy", epochs, trainLoss, testLoss, Alignment.UpperRight);
        Panel(multiplot.GetPlot(1), $"{title}: accuracy", "accuracy (%)", epochs, Percent(trainAccuracy), Percent(testAccuracy), Alignment.LowerRight);
        string temp = path + ".tmp.png";
        multiplot.SavePng(temp, 1200, 480);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Draws one panel of training and validation loss (nats per character for text models) against <paramref name="x"/> (e.g. steps).</summary>
    public static void SaveLoss(string path, string title, string xLabel, double[] x, double[] trainLoss, double[] validationLoss)
    {
        var plot = new Plot();
        var trainLine = plot.Add.Scatter(x, trainLoss);
        trainLine.LegendText = "train";
        trainLine.MarkerSize = 7;
        var validationLine = plot.Add.Scatter(x, validationLoss);
        validationLine.LegendText = "validation";
        validationLine.MarkerSize = 7;
        plot.Title($"{title}: loss");
        plot.XLabel(xLabel);
        plot.YLabel("nats per character");
        plot.ShowLegend(Alignment.UpperRight);
        if (x.Length == 1) plot.Axes.SetLimitsX(x[0] - 0.5, x[0] + 0.5);
        string temp = path + ".tmp.png";
        plot.SavePng(temp, 800, 480);
        File.Move(temp, path, overwrite: true);
    }

    private static double[] Percent(double[] values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = 100 * values[i];
        return result;
    }

    private static void Panel(Plot plot, string title, string yLabel, double[] x, double[] train, double[] test, Alignment legend)
    {
        var trainLine = plot.Add.Scatter(x, train);
        trainLine.LegendText = "train";
        trainLine.MarkerSize = 7;
        var testLine = plot.Add.Scatter(x, test);
        testLine.LegendText = "test";
        testLine.MarkerSize = 7;
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.ShowLegend(legend);
        if (x.Length == 1) plot.Axes.SetLimitsX(0.5, 1.5);
    }
}
