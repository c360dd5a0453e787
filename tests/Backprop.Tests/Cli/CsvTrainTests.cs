using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Tests.Data;

namespace Backprop.Tests.Cli;

/// <summary>
/// `backprop train --data FILE.csv --target COLUMN` and `backprop predict` on a CSV-trained checkpoint: small
/// files written here (classification and regression), the Targets on scikit-learn's digits and breast
/// cancer files, and errors that name the file, the line or the flag.
/// </summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class CsvTrainTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("csv-train-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    /// <summary>200 rows "a,b,label" with label = 1 where a + b > 0 (points on a deterministic spiral of radii).</summary>
    private string ClassificationCsv()
    {
        var sb = new StringBuilder("a,b,label\n");
        for (int i = 0; i < 200; i++)
        {
            double a = Math.Sin(i * 1.7) * (1 + i % 7), b = Math.Cos(i * 2.3) * (1 + i % 5);
            if (Math.Abs(a + b) < 0.3) b += a + b >= 0 ? 0.5 : -0.5; // a margin around the boundary
            sb.Append(CultureInfo.InvariantCulture, $"{a:R},{b:R},{(a + b > 0 ? 1 : 0)}\n");
        }
        string path = Path.Combine(_dir, "blobs.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static JsonElement LastMetrics(string run)
        => JsonDocument.Parse(File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))[^1]).RootElement;

    [Fact]
    public void Classification_TrainsWritesTheRunAndPredicts()
    {
        string csv = ClassificationCsv(), run = Path.Combine(_dir, "run");
        var (code, output, err) = Run("train", "--data", csv, "--target", "label", "--epochs", "15", "--hidden", "16,8", "--out", run, "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("classification, 2 classes", output);
        Assert.Contains("160 training, 40 held out for testing", output);
        Assert.Contains("mlp 2-16-8-2", output);
        Assert.Equal(15, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(run, "curves.png")));
        string ckpt = Path.Combine(run, "checkpoints", "epoch-15.ckpt");
        Assert.True(File.Exists(ckpt));
        Assert.True(LastMetrics(run).GetProperty("test_accuracy").GetDouble() >= 0.9, File.ReadAllText(Path.Combine(run, "metrics.jsonl")));

        // Inline rows far on either side of a + b = 0; the checkpoint standardizes them as the training rows were.
        var (p1, out1, e1) = Run("predict", "--checkpoint", ckpt, "4,3", "-3,-4", "--top", "1");
        Assert.True(p1 == 0, e1);
        string[] lines = out1.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("input: 1 ", lines[0]);
        Assert.StartsWith("input: 0 ", lines[1]);

        // A file with the target column still in it: the column is dropped by name; every row predicted with both classes.
        string rows = Path.Combine(_dir, "rows.csv");
        File.WriteAllText(rows, "a,b,label\n5,5,1\n-5,-5,0\n0.5,4,1\n");
        var (p2, out2, e2) = Run("predict", "--checkpoint", ckpt, rows);
        Assert.True(p2 == 0, e2);
        string[] fileLines = out2.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, fileLines.Length);
        Assert.StartsWith("rows.csv row 1: 1 ", fileLines[0]);
        Assert.StartsWith("rows.csv row 2: 0 ", fileLines[1]);
        Assert.Contains(" %, ", fileLines[2]);
    }

    [Fact]
    public void Regression_IsDetectedFromTheTarget_AndPredictsInTheTargetsUnits()
    {
        var sb = new StringBuilder("x1,x2,y\n");
        for (int i = 0; i < 300; i++)
        {
            double a = Math.Sin(i * 0.37) * 3, b = Math.Cos(i * 0.91) * 2;
            sb.Append(CultureInfo.InvariantCulture, $"{a:R},{b:R},{100 + 20 * a - 10 * b:R}\n");
        }
        string csv = Path.Combine(_dir, "linear.csv"), run = Path.Combine(_dir, "reg");
        File.WriteAllText(csv, sb.ToString());
        var (code, output, err) = Run("train", "--data", csv, "--target", "-1", "--epochs", "25", "--out", run, "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("target 'y': regression", output);
        double rmse = LastMetrics(run).GetProperty("test_rmse").GetDouble();
        Assert.True(rmse < 5, $"test RMSE {rmse} (the target's spread is about 45)");

        var (p, pout, perr) = Run("predict", "--checkpoint", Path.Combine(run, "checkpoints", "epoch-25.ckpt"), "1,1");
        Assert.True(p == 0, perr);
        Assert.StartsWith("input: y = ", pout);
        double predicted = double.Parse(pout.Trim()["input: y = ".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(predicted, 100, 120); // 100 + 20 − 10 = 110
    }

    [Fact]
    public void SklearnDigits_ReachesTheTarget()
    {
        string run = Path.Combine(_dir, "digits");
        var (code, output, err) = Run("train", "--data", Path.Combine(SklearnCsvTests.DataDirectory, "digits.csv.gz"), "--target", "-1", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("1,438 training, 359 held out for testing", output);
        double accuracy = LastMetrics(run).GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.95, $"digits held-out accuracy {accuracy:P2}, target 95%");
    }

    [Fact]
    public void SklearnBreastCancer_ReachesTheTarget_WithSkipRows()
    {
        string run = Path.Combine(_dir, "cancer");
        string csv = Path.Combine(SklearnCsvTests.DataDirectory, "breast_cancer.csv");
        var (code, output, err) = Run("train", "--data", csv, "--skip-rows", "1", "--target", "-1", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("455 training, 114 held out for testing", output);
        double accuracy = LastMetrics(run).GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.93, $"breast cancer held-out accuracy {accuracy:P2}, target 93%");

        // Without --skip-rows the preamble is taken for a header; the error says which flag fixes it.
        var (bad, _, badErr) = Run("train", "--data", csv, "--target", "-1", "--out", Path.Combine(_dir, "cancer2"));
        Assert.Equal(1, bad);
        CliHarness.AssertShortError(badErr, 2, "breast_cancer.csv, line 2", "--skip-rows 1");
        Assert.False(Directory.Exists(Path.Combine(_dir, "cancer2")));
    }

    [Fact]
    public void BadInputs_AreOneLineErrorsNamingTheFileLineOrFlag()
    {
        string ragged = Path.Combine(_dir, "ragged.csv");
        File.WriteAllText(ragged, "a,b,y\n1,2,0\n3,4\n");
        string good = ClassificationCsv();
        string outDir = Path.Combine(_dir, "never");

        var (c1, _, e1) = Run("train", "--data", ragged, "--target", "y", "--out", outDir);
        Assert.Equal(1, c1);
        CliHarness.AssertShortError(e1, 2, "ragged.csv, line 3");

        var (c2, _, e2) = Run("train", "--data", Path.Combine(_dir, "missing.csv"), "--target", "y", "--out", outDir);
        Assert.Equal(1, c2);
        CliHarness.AssertShortError(e2, 2, "--data", "missing.csv");

        var (c3, _, e3) = Run("train", "--data", good, "--target", "nope", "--out", outDir);
        Assert.Equal(1, c3);
        CliHarness.AssertShortError(e3, 2, "--target nope", "\"a\", \"b\", \"label\"");

        var (c4, _, e4) = Run("train", "--data", good, "--out", outDir);
        Assert.Equal(2, c4);
        CliHarness.AssertShortError(e4, 2, "--target");

        var (c5, _, e5) = Run("train", "--data", good, "--target", "-1", "--hidden", "16,x", "--out", outDir);
        Assert.Equal(2, c5);
        CliHarness.AssertShortError(e5, 2, "--hidden", "16,x");

        var (c6, _, e6) = Run("train", "--data", good, "--target", "-1", "--model", "cnn", "--out", outDir);
        Assert.Equal(2, c6);
        CliHarness.AssertShortError(e6, 2, "--model", "--data");

        var (c7, _, e7) = Run("train", "--target", "-1", "--out", outDir);
        Assert.Equal(2, c7);
        CliHarness.AssertShortError(e7, 2, "--target", "--data");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Predict_RefusesRowsOfTheWrongWidthOrNotNumbers_AndMissingFiles()
    {
        string csv = ClassificationCsv(), run = Path.Combine(_dir, "p");
        Assert.Equal(0, Run("train", "--data", csv, "--target", "label", "--epochs", "1", "--out", run, "--threads", "1").Code);
        string ckpt = Path.Combine(run, "checkpoints", "epoch-1.ckpt");

        var (c1, _, e1) = Run("predict", "--checkpoint", ckpt, "1,2,3");
        Assert.Equal(1, c1);
        CliHarness.AssertShortError(e1, 2, "3 values", "2 features", "a, b");

        var (c2, _, e2) = Run("predict", "--checkpoint", ckpt, "1,x");
        Assert.Equal(1, c2);
        CliHarness.AssertShortError(e2, 2, "'x'", "position 2");

        var (c3, _, e3) = Run("predict", "--checkpoint", ckpt, Path.Combine(_dir, "none.csv"));
        Assert.Equal(1, c3);
        CliHarness.AssertShortError(e3, 2, "no such file", "none.csv");

        string wide = Path.Combine(_dir, "wide.csv");
        File.WriteAllText(wide, "1,2,3,4\n");
        var (c4, _, e4) = Run("predict", "--checkpoint", ckpt, wide);
        Assert.Equal(1, c4);
        CliHarness.AssertShortError(e4, 2, "wide.csv has 4 columns", "2 features");
    }
}
