using ScottPlot;

namespace Backprop.Cli.Reporting;

/// <summary>The figure of <c>backprop diagnose</c>: per-layer gradient norm against depth, one line per variant, log scale.</summary>
internal static class DepthGradientPlot
{
    /// <summary>
    /// Draws every series (name, norm of layer 1..L, dashed or solid); zero and non-finite norms have no point on a log
    /// scale and are left out (their names say so in the legend).
    /// </summary>
    public static void Save(string path, string title, IReadOnlyList<(string Name, double[] Norms, bool Dashed)> series)
    {
        var plot = new Plot();
        foreach (var (name, norms, dashed) in series)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int i = 0; i < norms.Length; i++)
                if (norms[i] > 0 && double.IsFinite(norms[i]))
                {
                    xs.Add(i + 1);
                    ys.Add(Math.Log10(norms[i]));
                }
            bool complete = xs.Count == norms.Length;
            var line = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            line.LegendText = complete ? name : $"{name} ({norms.Length - xs.Count} layers 0 or non-finite)";
            line.MarkerSize = 5;
            line.LineWidth = 2;
            if (dashed) line.LinePattern = LinePattern.Dashed; // drawn over an identical series (same init, other training)
        }
        // Log scale: the data are log10 values; ticks at whole powers of ten, labelled 10^k, with log-spaced minor ticks.
        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => $"1e{y:0}",
        };
        plot.Axes.Left.TickGenerator = ticks;
        plot.Title(title);
        plot.XLabel("linear layer (1 = input side)");
        plot.YLabel("weight-gradient L2 norm at step 1");
        plot.ShowLegend(Alignment.LowerRight);
        string temp = path + ".tmp.png";
        plot.SavePng(temp, 1000, 600);
        File.Move(temp, path, overwrite: true);
    }
}
