using System.Text.Json;
using Backprop.Cli.Recipes;

namespace Backprop.Tests.Cli;

/// <summary>`backprop eval --json --test-limit N`: per-class precision, recall and F1 agreeing with the confusion matrix.</summary>
[Collection(Backprop.Tests.Support.ThreadsCollection.Name)]
public class EvalJsonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eval-json").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ClassScores_MatchScikitLearnWithZeroDivisionZero()
    {
        // sklearn.metrics.precision_recall_fscore_support([0,0,0,1,1], [0,0,1,1,2], labels=[0,1,2], zero_division=0)
        // → precision [1, 0.5, 0], recall [0.667, 0.5, 0], f1 [0.8, 0.5, 0], support [3, 2, 0].
        ClassScores[] s = ClassScores.Of(new[,] { { 2, 1, 0 }, { 0, 1, 1 }, { 0, 0, 0 } });
        Assert.Equal(1.0, s[0].Precision, 12);
        Assert.Equal(2.0 / 3, s[0].Recall, 12);
        Assert.Equal(0.8, s[0].F1, 12);
        Assert.Equal(3, s[0].Support);
        Assert.Equal(0.5, s[1].Precision, 12);
        Assert.Equal(0.5, s[1].F1, 12);
        Assert.Equal(new ClassScores(0, 0, 0, 0), s[2]);
    }

    [Fact]
    public void EvalJson_OnTheFirstNTestImages_IsConsistentWithItsConfusionMatrix()
    {
        string run = Path.Combine(_dir, "run");
        var (code, trainOut, err) = CliHarness.Run("train", "--epochs", "1", "--train-limit", "600", "--test-limit", "300", "--batch-size", "100", "--out", run, "--threads", "1");
        Assert.True(code == 0, err);
        Assert.Contains("tested on the first 300 test images", trainOut);
        var (evalCode, output, evalErr) = CliHarness.Run("eval", "--checkpoint", Path.Combine(run, "checkpoints", "epoch-1.ckpt"), "--json", "--test-limit", "500", "--threads", "1");
        Assert.True(evalCode == 0, evalErr);
        JsonElement root = JsonDocument.Parse(output).RootElement;
        Assert.Equal(500, root.GetProperty("examples").GetInt32());
        Assert.Equal("mlp", root.GetProperty("model").GetString());
        int[][] confusion = [.. root.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray())];
        Assert.Equal(500, confusion.Sum(r => r.Sum()));
        int trace = Enumerable.Range(0, 10).Sum(i => confusion[i][i]);
        Assert.Equal(trace / 500.0, root.GetProperty("test_accuracy").GetDouble(), 12);
        JsonElement[] classes = [.. root.GetProperty("classes").EnumerateArray()];
        Assert.Equal(10, classes.Length);
        Assert.Equal("T-shirt/top", classes[0].GetProperty("name").GetString());
        double f1Sum = 0;
        for (int c = 0; c < 10; c++)
        {
            int predicted = confusion.Sum(r => r[c]), actual = confusion[c].Sum();
            double p = predicted == 0 ? 0 : (double)confusion[c][c] / predicted, r = actual == 0 ? 0 : (double)confusion[c][c] / actual;
            Assert.Equal(actual, classes[c].GetProperty("support").GetInt32());
            Assert.Equal(p, classes[c].GetProperty("precision").GetDouble(), 12);
            Assert.Equal(r, classes[c].GetProperty("recall").GetDouble(), 12);
            double f1 = p + r == 0 ? 0 : 2 * p * r / (p + r);
            Assert.Equal(f1, classes[c].GetProperty("f1").GetDouble(), 12);
            f1Sum += f1;
        }
        Assert.Equal(f1Sum / 10, root.GetProperty("macro_f1").GetDouble(), 12);
        Assert.True(root.GetProperty("test_accuracy").GetDouble() > 0.5);
    }
}
