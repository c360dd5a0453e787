using ScottPlot;

namespace Backprop.Cli.Reporting;

/// <summary>
/// curves.png. The loss panel draws every optimizer step's training loss faintly, its exponential moving average
/// (bias-corrected, as TensorBoard's smoothing) on top, and the evaluation loss after every epoch as points; its x
/// axis is in epochs with whole-number ticks only. Classification adds a panel of training and test accuracy per epoch.
/// </summary>
internal static class CurvesPlot
{
    private static readonly Color TrainColor = new(31, 119, 180), TestColor = new(255, 127, 14);

    /// <summary>Loss (per step, smoothed) and accuracy (per epoch) of a classification run, from its metrics lines (train_accuracy, test_loss, test_accuracy) and steps.</summary>
    public static void SaveClassification(string path, string title, IReadOnlyList<MetricsLine> lines, IReadOnlyList<StepLoss> steps, int stepsPerEpoch)
    {
        double[] x = EpochPositions(lines, stepsPerEpoch);
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        LossPanel(multiplot.GetPlot(0), $"{title}: loss", "cross-entropy", steps, x, Values(lines, "train_loss"), Values(lines, "test_loss"), "test");
        Plot accuracy = multiplot.GetPlot(1);
        EpochSeries(accuracy, x, Percent(Values(lines, "train_accuracy")), TrainColor, "train");
        EpochSeries(accuracy, x, Percent(Values(lines, "test_accuracy")), TestColor, "test");
        accuracy.Title($"{title}: accuracy");
        accuracy.YLabel("accuracy (%)");
        accuracy.ShowLegend(Alignment.LowerRight);
        EpochAxis(accuracy, x, steps);
        string temp = path + ".tmp.png";
        multiplot.SavePng(temp, 1200, 480);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>One loss panel: per-step training loss (smoothed) and the evaluation loss <paramref name="evaluationKey"/> of every line.</summary>
    public static void SaveLossOnly(string path, string title, string yLabel, IReadOnlyList<MetricsLine> lines, IReadOnlyList<StepLoss> steps, int stepsPerEpoch,
                                    string evaluationKey, string evaluationName)
    {
        var plot = new Plot();
        LossPanel(plot, $"{title}: loss", yLabel, steps, EpochPositions(lines, stepsPerEpoch), Values(lines, "train_loss"), Values(lines, evaluationKey), evaluationName);
        string temp = path + ".tmp.png";
        plot.SavePng(temp, 800, 480);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// The bias-corrected exponential moving average of <paramref name="values"/> with weight
    /// β = 1 − 1/<paramref name="window"/> on the past: s_t = β·s_(t−1) + (1 − β)·x_t, shown as s_t / (1 − β^t).
    /// Non-finite values are skipped (the average carries on).
    /// </summary>
    public static double[] Smooth(IReadOnlyList<double> values, double window)
    {
        double beta = window <= 1 ? 0 : 1 - 1 / window;
        var result = new double[values.Count];
        double s = 0, weight = 0;
        for (int i = 0; i < values.Count; i++)
        {
            if (double.IsFinite(values[i]))
            {
                s = beta * s + (1 - beta) * values[i];
                weight = beta * weight + (1 - beta);
            }
            result[i] = weight > 0 ? s / weight : double.NaN;
        }
        return result;
    }

    /// <summary>The smoothing window for <paramref name="steps"/> steps: a 30th of the run, from 1 to 200 steps.</summary>
    public static double SmoothingWindow(int steps) => Math.Clamp(steps / 30.0, 1, 200);

    /// <summary>Where each metrics line lies in epochs: its epoch, or for a stopped epoch epoch − 1 + its share of the steps.</summary>
    public static double[] EpochPositions(IReadOnlyList<MetricsLine> lines, int stepsPerEpoch)
    {
        var x = new double[lines.Count];
        for (int i = 0; i < x.Length; i++)
        {
            MetricsLine m = lines[i];
            x[i] = m.Partial ? m.Epoch - 1 + (double)m.EpochStep / Math.Max(stepsPerEpoch, 1) : m.Epoch;
        }
        return x;
    }

    private static double[] Values(IReadOnlyList<MetricsLine> lines, string key)
    {
        var v = new double[lines.Count];
        for (int i = 0; i < v.Length; i++) v[i] = lines[i][key];
        return v;
    }

    private static void LossPanel(Plot plot, string title, string yLabel, IReadOnlyList<StepLoss> steps, double[] x, double[] trainLoss, double[] evaluationLoss, string evaluationName)
    {
        if (steps.Count > 0)
        {
            var sx = new double[steps.Count];
            var sy = new double[steps.Count];
            for (int i = 0; i < sx.Length; i++) (sx[i], sy[i]) = (steps[i].X, steps[i].Loss);
            var raw = plot.Add.Scatter(sx, sy);
            raw.Color = TrainColor.WithAlpha(0.25);
            raw.MarkerSize = 0;
            raw.LineWidth = 1;
            raw.LegendText = "train (each step)";
            var smooth = plot.Add.Scatter(sx, Smooth(sy, SmoothingWindow(sy.Length)));
            smooth.Color = TrainColor;
            smooth.MarkerSize = 0;
            smooth.LineWidth = 2;
            smooth.LegendText = "train (smoothed)";
        }
        else
            EpochSeries(plot, x, trainLoss, TrainColor, "train (epoch mean)"); // a run logged before steps were recorded
        EpochSeries(plot, x, evaluationLoss, TestColor, evaluationName);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        EpochAxis(plot, x, steps);
        double top = 0;
        foreach (double v in evaluationLoss) if (double.IsFinite(v)) top = Math.Max(top, v);
        foreach (StepLoss s in steps) if (double.IsFinite(s.Loss)) top = Math.Max(top, s.Loss);
        foreach (double v in trainLoss) if (double.IsFinite(v)) top = Math.Max(top, v);
        if (top > 0) plot.Axes.SetLimitsY(0, top * 1.05);
    }

    private static void EpochSeries(Plot plot, double[] x, double[] y, Color color, string name)
    {
        var series = plot.Add.Scatter(x, y);
        series.Color = color;
        series.MarkerSize = 7;
        series.LineWidth = 1.5f;
        series.LegendText = name;
    }

    /// <summary>The x axis in epochs from 0 to the last epoch reached, ticks at whole epochs only.</summary>
    private static void EpochAxis(Plot plot, double[] x, IReadOnlyList<StepLoss> steps)
    {
        double end = 1;
        foreach (double v in x) end = Math.Max(end, v);
        if (steps.Count > 0) end = Math.Max(end, steps[^1].X);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        double last = Math.Ceiling(end - 1e-9);
        plot.Axes.SetLimitsX(-0.02 * last, 1.02 * last); // a margin so the markers at 0 and at the end are whole
        plot.XLabel("epoch");
    }

    private static double[] Percent(double[] values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = 100 * values[i];
        return result;
    }
}
