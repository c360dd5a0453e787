using System.Text.Json;
using Backprop.Cli.Commands;

namespace Backprop.Tests.Cli;

/// <summary>`backprop diagnose` on the real Fashion-MNIST files, in a small configuration (8 layers, 5 steps, 1,000 images).</summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class DiagnoseCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diagnose-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Small = ["--depth", "8", "--width", "32", "--steps", "5", "--batch-size", "64", "--train-limit", "1000", "--threads", "1"];

    [Fact]
    public void SmallRun_Json_ShowsVanishingSigmoid_HealthyRemedies_AndClippingKeepsTheExplodingLossFinite()
    {
        string run = Path.Combine(_dir, "run");
        var (code, output, err) = CliHarness.Run(["diagnose", .. Small, "--json", "--out", run]);
        Assert.True(code == 0, err);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Dictionary<string, JsonElement> byName = lines.Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(e => e.GetProperty("variant").GetString()!);
        Assert.Equal(["sigmoid", "relu-he", "batchnorm", "residual", "layernorm", "exploding", "exploding-clip"], byName.Keys.ToArray());

        JsonElement sigmoid = byName["sigmoid"];
        Assert.Equal(["variant", "description", "depth", "width", "steps", "steps_run", "batch_size", "lr", "clip_norm", "seed",
                      "grad_norm_first", "grad_norm_last", "ratio_first_last", "grad_norms", "grad_norms_mean", "grad_norms_mean_steps",
                      "train_loss_first", "train_loss_last", "test_loss", "test_accuracy", "diverged_step", "verdict", "seconds", "out"],
                     sigmoid.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(8, sigmoid.GetProperty("depth").GetInt32());
        Assert.Equal(8, sigmoid.GetProperty("grad_norms").GetArrayLength());
        Assert.Equal(sigmoid.GetProperty("grad_norm_first").GetDouble(), sigmoid.GetProperty("grad_norms")[0].GetDouble());
        Assert.Equal(sigmoid.GetProperty("grad_norm_last").GetDouble(), sigmoid.GetProperty("grad_norms")[7].GetDouble());
        Assert.Equal(5, sigmoid.GetProperty("grad_norms_mean_steps").GetInt32());
        Assert.Equal(run, sigmoid.GetProperty("out").GetString());

        // Vanishing: sigmoid's first layer gets a tiny share of the last layer's gradient; the remedies keep it near 1.
        double Ratio(string name) => byName[name].GetProperty("ratio_first_last").GetDouble();
        Assert.True(Ratio("sigmoid") < 1e-3, $"sigmoid first/last {Ratio("sigmoid")}");
        Assert.True(Ratio("sigmoid") < 1e-3 * Ratio("relu-he"), $"sigmoid {Ratio("sigmoid")} vs relu-he {Ratio("relu-he")}");
        Assert.Equal("vanishing", sigmoid.GetProperty("verdict").GetString());
        foreach (string healthy in new[] { "relu-he", "batchnorm", "residual", "layernorm" })
        {
            Assert.InRange(Ratio(healthy), 0.05, 100);
            Assert.Equal("healthy", byName[healthy].GetProperty("verdict").GetString());
            Assert.True(byName[healthy].GetProperty("test_loss").GetDouble() < 2.5);
        }

        // Exploding: huge norms (the same at step 1 with and without clipping: same init); unclipped the loss
        // leaves the finite numbers, clipped it stays finite and the run completes.
        JsonElement exploding = byName["exploding"], clipped = byName["exploding-clip"];
        Assert.True(exploding.GetProperty("grad_norm_first").GetDouble() > 100 * byName["relu-he"].GetProperty("grad_norm_first").GetDouble());
        Assert.Equal(exploding.GetProperty("grad_norms").ToString(), clipped.GetProperty("grad_norms").ToString());
        Assert.Equal(JsonValueKind.Number, exploding.GetProperty("diverged_step").ValueKind);
        Assert.Equal(JsonValueKind.Null, exploding.GetProperty("test_loss").ValueKind); // NaN is written as null
        Assert.Equal(JsonValueKind.Null, clipped.GetProperty("diverged_step").ValueKind);
        Assert.Equal(5, clipped.GetProperty("steps_run").GetInt32());
        Assert.True(double.IsFinite(clipped.GetProperty("test_loss").GetDouble()));
        Assert.Equal(1, clipped.GetProperty("clip_norm").GetDouble());
        Assert.Equal("exploding", exploding.GetProperty("verdict").GetString());
        Assert.Equal("exploding, clipped", clipped.GetProperty("verdict").GetString());

        Assert.Equal(lines, File.ReadAllLines(Path.Combine(run, DiagnoseCommand.RecordsFile)));
        byte[] png = File.ReadAllBytes(Path.Combine(run, DiagnoseCommand.FigureFile));
        Assert.True(png.Length > 5000);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    [Fact]
    public void Table_NamesEveryNetworkAndVerdict_AndTheOutputFolder()
    {
        string run = Path.Combine(_dir, "table");
        var (code, output, err) = CliHarness.Run(["diagnose", "--depth", "8", "--width", "16", "--steps", "2", "--batch-size", "50", "--train-limit", "200", "--threads", "1", "--out", run]);
        Assert.True(code == 0, err);
        foreach (string name in new[] { "sigmoid", "relu-he", "batchnorm", "residual", "layernorm", "exploding", "exploding-clip", "first/last", "‖∇W₈‖", "vanishing", "healthy" })
            Assert.Contains(name, output);
        Assert.Contains(run, output);
        Assert.True(File.Exists(Path.Combine(run, DiagnoseCommand.FigureFile)));
    }

    [Fact]
    public void Out_HoldingADiagnosis_IsRefusedUnlessOverwrite_AndNothingChanges()
    {
        string run = Path.Combine(_dir, "taken");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, DiagnoseCommand.RecordsFile), "{}\n");
        string[] before = CliHarness.Snapshot(_dir);
        var (code, _, err) = CliHarness.Run(["diagnose", .. Small, "--out", run]);
        Assert.Equal(1, code);
        CliHarness.AssertShortError(err, 1, "--out", "already holds a diagnosis", "--overwrite");
        Assert.Equal(before, CliHarness.Snapshot(_dir));

        var (file, _, fileErr) = CliHarness.Run(["diagnose", .. Small, "--out", Path.Combine(run, DiagnoseCommand.RecordsFile)]);
        Assert.Equal(1, file);
        CliHarness.AssertShortError(fileErr, 1, "is a file");
    }

    [Theory]
    [InlineData("--depth", "2", "--depth must be between 3 and 200")]
    [InlineData("--depth", "many", "--depth expects a whole number")]
    [InlineData("--steps", "0", "--steps must be between 1")]
    [InlineData("--width", "-4", "--width must be between 1")]
    [InlineData("--lr", "0", "--lr must be greater than 0")]
    [InlineData("--lr", "nan", "--lr must be a finite number")]
    [InlineData("--train-limit", "x", "--train-limit expects a whole number")]
    public void BadFlags_AreUsageErrors_NamingTheFlag(string flag, string value, string message)
    {
        var (code, output, err) = CliHarness.Run("diagnose", flag, value, "--out", Path.Combine(_dir, "never"));
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(message, err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    [Fact]
    public void UnknownFlag_BatchLargerThanTheData_AndMissingData_AreShortErrors()
    {
        var (unknown, _, unknownErr) = CliHarness.Run("diagnose", "--layers", "4");
        Assert.Equal(2, unknown);
        Assert.Contains("--layers", unknownErr);

        var (batch, _, batchErr) = CliHarness.Run("diagnose", "--train-limit", "100", "--batch-size", "128", "--out", Path.Combine(_dir, "b"));
        Assert.Equal(2, batch);
        CliHarness.AssertShortError(batchErr, 1, "--batch-size 128", "100 training images");

        var (missing, _, missingErr) = CliHarness.Run("diagnose", "--data-dir", Path.Combine(_dir, "nowhere"), "--out", Path.Combine(_dir, "m"));
        Assert.Equal(1, missing);
        CliHarness.AssertShortError(missingErr, 2, "--data-dir");
        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
    }
}
