using System.Globalization;
using ScottPlot;

namespace Backprop.Cli.Reporting;

/// <summary>grad_norms.png: each layer's gradient norm over the steps, one line per layer, log-scale y.</summary>
internal static class GradNormsPlot
{
    /// <summary>Draws the lines; each layer's points are (step, gradient norm), in step order. Norms that are not positive and finite are left out.</summary>
    public static void Save(string path, string title, IReadOnlyList<(string Layer, List<(long Step, double Norm)> Points)> layers)
    {
        var plot = new Plot();
        // Log scale: the points are drawn at log10(norm) and the ticks labelled with the powers of ten.
        IPalette palette = layers.Count <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();
        int i = 0;
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        foreach (var (layer, points) in layers)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            foreach (var (step, norm) in points)
                if (norm > 0 && double.IsFinite(norm))
                {
                    xs.Add(step);
                    ys.Add(Math.Log10(norm));
                }
            if (xs.Count == 0) continue;
            low = Math.Min(low, ys.Min());
            high = Math.Max(high, ys.Max());
            var line = plot.Add.Scatter(xs.ToArray(), ys.ToArray(), palette.GetColor(i++));
            line.LegendText = layer;
            line.MarkerSize = xs.Count == 1 ? 7 : 3;
        }
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => "1e" + y.ToString("0", CultureInfo.InvariantCulture),
        };
        plot.Axes.Left.TickGenerator = ticks;
        if (low <= high) // whole decades, at least one, so every line sits between labelled powers of ten
            plot.Axes.SetLimitsY(Math.Floor(low), Math.Max(Math.Ceiling(high), Math.Floor(low) + 1));
        plot.Title($"{title}: gradient norm per layer");
        plot.XLabel("step");
        plot.YLabel("gradient L2 norm (log scale)");
        plot.ShowLegend(Edge.Right);
        string temp = path + ".tmp.png";
        plot.SavePng(temp, layers.Count > 14 ? 1500 : 1000, 560); // the legend takes a second column past 14 layers
        File.Move(temp, path, overwrite: true);
    }
}
