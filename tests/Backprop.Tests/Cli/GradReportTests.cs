using System.Text.Json;
using Backprop.Cli;
using Backprop.Cli.Reporting;
using Backprop.Training;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop train --grad-report</c> and the model summary every run prints.</summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class GradReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("grad-report").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    [Fact]
    public void GradReport_WritesOneLinePerLayerAndRecordedStep_AndThePlot()
    {
        string run = Path.Combine(_dir, "run");
        // 1,500 images in batches of 100: 15 steps per epoch, 30 in all; records at steps 1, 10, 20 and 30.
        var (code, output, err) = Run("train", "--epochs", "2", "--train-limit", "1500", "--batch-size", "100", "--threads", "1", "--grad-report", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("Total params: 535,818", output);                 // the summary, printed at the start
        Assert.Contains("0 (LinearRelu)", output);
        Assert.Contains("gradient report: 12 records", output);
        string[] lines = File.ReadAllLines(Path.Combine(run, GradientReport.JsonFile));
        Assert.Equal(4 * 3, lines.Length);                                // steps 1, 10, 20, 30 × layers 0, 2, 4
        var steps = new List<long>();
        foreach (string line in lines)
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement r = doc.RootElement;
            Assert.Equal(["step", "layer", "grad_norm", "weight_norm", "update_ratio", "dead_fraction"], r.EnumerateObject().Select(p => p.Name));
            steps.Add(r.GetProperty("step").GetInt64());
            Assert.True(r.GetProperty("grad_norm").GetDouble() > 0);
            Assert.True(r.GetProperty("weight_norm").GetDouble() > 0);
            Assert.InRange(r.GetProperty("update_ratio").GetDouble(), 1e-6, 1);
            if (r.GetProperty("layer").GetString() == "4")
                Assert.Equal(JsonValueKind.Null, r.GetProperty("dead_fraction").ValueKind); // no ReLU after the output layer
            else
                Assert.InRange(r.GetProperty("dead_fraction").GetDouble(), 0, 1);
        }
        Assert.Equal([1L, 10, 20, 30], steps.Distinct());
        Assert.True(new FileInfo(Path.Combine(run, GradientReport.PlotFile)).Length > 5000);
        Assert.DoesNotContain("warning", output);

        // A resume from epoch 1 (step 15) into the same run keeps the records up to step 15 and appends its own.
        var again = Run("train", "--epochs", "3", "--train-limit", "1500", "--batch-size", "100", "--threads", "1", "--grad-report",
                        "--resume", Path.Combine(run, "checkpoints", "epoch-1.ckpt"), "--overwrite");
        Assert.True(again.Code == 0, again.Err);
        string[] resumed = File.ReadAllLines(Path.Combine(run, GradientReport.JsonFile));
        Assert.Equal([1L, 10, 20, 30, 40], resumed.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()).Distinct());
        Assert.Equal(lines[..6], resumed[..6]);
    }

    [Fact]
    public void WarningText_NamesTheLayerAndTheFlagsThatHelp()
    {
        var vanishing = new GradientWarning(GradientProblem.Vanishing, "0", 30, 1e-9, "Vanishing gradients: layer '0' (Linear) has had …", "library remedy");
        string v = GradientReport.WarningText(vanishing, clipsAlready: false);
        Assert.StartsWith("warning: Vanishing gradients: layer '0'", v);
        Assert.Contains("He (Kaiming)", v);
        Assert.Contains("residual", v);
        var exploding = new GradientWarning(GradientProblem.Exploding, "2", 40, 1e4, "Exploding gradients: layer '2' …", "library remedy");
        Assert.Contains("--lr", GradientReport.WarningText(exploding, clipsAlready: false));
        Assert.Contains("MaxGradNorm", GradientReport.WarningText(exploding, clipsAlready: false));
        Assert.Contains("already clips", GradientReport.WarningText(exploding, clipsAlready: true));
    }
}
