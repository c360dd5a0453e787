using Backprop.Autograd;
using Backprop.Cli;
using Backprop.Tests.Autograd;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop explain --dot</c> and <c>backprop train --detect-anomaly</c>.</summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class AnomalyAndGraphCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("anomaly-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ExplainDot_PrintsTheOneNeuronGraph()
    {
        var (code, output, err) = CliHarness.Run("explain", "--dot");
        Assert.True(code == CliApp.Success, err);
        Assert.Equal("", err);
        DotGraph g = DotGraph.Parse(output);
        // z = w·x + b, p = sigmoid(z), loss = 0.5·(y − p)·(y − p): ops Mul, Add, Sigmoid, Sub, Mul (0.5·d), Mul (·d).
        string[] ops = g.Nodes.Values.Where(n => n["fillcolor"] is "lightgrey" or "darkolivegreen1").Select(n => n["label"].Split('\n')[0]).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["AddBackward", "MulBackward", "MulBackward", "MulBackward", "SigmoidBackward", "SubBackward"], ops);
        Assert.Equal("w\n[] float64", g.Label(g.Find("w")));
        Assert.Equal("b\n[] float64", g.Label(g.Find("b")));
        Assert.Equal("saved x\n[] float64", g.Label(g.Find("saved x")));          // Mul keeps x for ∂z/∂w
        Assert.EndsWith("saves its output", g.Label(g.Find("SigmoidBackward"))); // σ' = p(1 − p)
        Assert.Equal(6 + 2 + 4, g.Edges.Count); // 6 op→op (d enters both the last Mul and 0.5·d), 2 leaf→op, 4 saved (x; 0.5; d twice)
    }

    [Fact]
    public void ExplainDot_WithJsonOrStepFlags_IsAUsageError()
    {
        foreach (string[] extra in new[] { new[] { "--json" }, new[] { "--steps", "3" }, new[] { "--lr", "0.5" } })
        {
            var (code, output, err) = CliHarness.Run(["explain", "--dot", .. extra]);
            Assert.Equal(CliApp.UsageError, code);
            Assert.Equal("", output);
            CliHarness.AssertShortError(err, 1, extra[0], "--dot");
        }
    }

    [Fact]
    public void TrainDetectAnomaly_OverflowingWeights_StopWithOneLineNamingOpShapesAndSite_KeepingTheRun()
    {
        // A learning rate of 1e30 throws the weights far out after the first step; the next forward overflows.
        string run = Path.Combine(_dir, "run");
        var (code, output, err) = CliHarness.Run("train", "--epochs", "1", "--train-limit", "1000", "--batch-size", "100", "--optimizer", "sgd",
                                                 "--lr", "1e30", "--detect-anomaly", "--out", run, "--threads", "1");
        Assert.Equal(CliApp.Failure, code);
        CliHarness.AssertShortError(err, 1, "Anomaly in forward: LinearRelu produced", "with inputs [100, 512] float32, [256, 512] float32, [256] float32",
                                    "created at FashionMnistRecipe.", "FashionMnistRecipe.cs:line ", "--detect-anomaly", "last good checkpoint: (none yet)");
        Assert.Contains("writing to", output);
        Assert.True(File.Exists(Path.Combine(run, "metrics.jsonl"))); // the run folder stays
        Assert.False(AnomalyMode.IsEnabled);                           // the command's scope is closed
    }

    [Fact]
    public void TrainDetectAnomaly_HealthyRun_TrainsAsWithoutIt()
    {
        string plain = Path.Combine(_dir, "plain"), detect = Path.Combine(_dir, "detect");
        string[] args = ["train", "--epochs", "1", "--train-limit", "300", "--batch-size", "100", "--threads", "1"];
        var a = CliHarness.Run([.. args, "--out", plain]);
        var b = CliHarness.Run([.. args, "--out", detect, "--detect-anomaly"]);
        Assert.True(a.Code == 0, a.Err);
        Assert.True(b.Code == 0, b.Err);
        static string Losses(string dir) => string.Join(",", File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Select(e => $"{e.GetProperty("train_loss").GetDouble():R}/{e.GetProperty("test_loss").GetDouble():R}"));
        Assert.Equal(Losses(plain), Losses(detect)); // checking changes no number
    }
}
