using System.Globalization;
using System.Text.Json;
using Backprop.Cli;

namespace Backprop.Tests.Cli;

public class ExplainTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run(args);

    /// <summary>The worked example by hand: every derivative from its closed form.</summary>
    private sealed record Expected(double Z, double P, double Loss, double GradP, double GradZ,
                                   double GradW, double GradB, double NewW, double NewB)
    {
        public static Expected Of(double x, double w, double b, double y, double lr)
        {
            double z = w * x + b;
            double p = 1 / (1 + Math.Exp(-z));
            double loss = 0.5 * (y - p) * (y - p);
            double gradP = p - y;
            double gradZ = gradP * p * (1 - p);
            double gradW = gradZ * x;
            double gradB = gradZ;
            return new(z, p, loss, gradP, gradZ, gradW, gradB, w - lr * gradW, b - lr * gradB);
        }
    }

    private static JsonElement ParseJson(string stdout)
    {
        using JsonDocument doc = JsonDocument.Parse(stdout); // throws unless stdout is exactly one JSON value
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        return doc.RootElement.Clone();
    }

    private static void AssertMatches(Expected e, JsonElement json)
    {
        const double tol = 1e-12;
        void Check(string key, double expected)
        {
            double actual = json.GetProperty(key).GetDouble();
            Assert.True(Math.Abs(expected - actual) <= tol, $"{key}: expected {expected:R}, got {actual:R}");
        }
        Check("z", e.Z);
        Check("p", e.P);
        Check("loss", e.Loss);
        Check("grad_p", e.GradP);
        Check("grad_z", e.GradZ);
        Check("grad_w", e.GradW);
        Check("grad_b", e.GradB);
        Check("new_w", e.NewW);
        Check("new_b", e.NewB);
    }

    [Fact]
    public void Json_Defaults_MatchClosedForm()
    {
        var (code, stdout, stderr) = Run("explain", "--json");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        JsonElement json = ParseJson(stdout);
        AssertMatches(Expected.Of(x: 1.5, w: 0.8, b: 0.2, y: 1.0, lr: 0.1), json);
        // Hand-worked: z = 0.8·1.5 + 0.2 = 1.4, so the numbers are not just self-consistent.
        Assert.Equal(1.4, json.GetProperty("z").GetDouble(), 1e-12);
        Assert.Equal(0.8021838885585818, json.GetProperty("p").GetDouble(), 1e-12);
        Assert.Equal(1, json.GetProperty("losses").GetArrayLength());
        Assert.Equal(json.GetProperty("loss").GetDouble(), json.GetProperty("losses")[0].GetDouble());
    }

    [Theory]
    [InlineData(-2.0, 0.3, -0.7, 0.0, 0.5)]
    [InlineData(0.25, -1.5, 3.0, 0.2, 2.0)]
    [InlineData(4.0, 2.0, 1.0, 1.0, 1e-3)]
    public void Json_OtherFlags_MatchClosedForm(double x, double w, double b, double y, double lr)
    {
        string S(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var (code, stdout, _) = Run("explain", "--json", "--x", S(x), "--w", S(w), "--b", S(b), "--y", S(y), "--lr", S(lr));
        Assert.Equal(0, code);
        AssertMatches(Expected.Of(x, w, b, y, lr), ParseJson(stdout));
    }

    [Fact]
    public void Json_EqualsSyntax_IsAccepted()
    {
        var (code, stdout, _) = Run("explain", "--json", "--x=2", "--b=-0.5");
        Assert.Equal(0, code);
        AssertMatches(Expected.Of(2, 0.8, -0.5, 1.0, 0.1), ParseJson(stdout));
    }

    [Fact]
    public void Json_HasExactlyTheRequiredKeys()
    {
        JsonElement json = ParseJson(Run("explain", "--json", "--steps", "3").Out);
        var keys = new List<string>();
        foreach (JsonProperty property in json.EnumerateObject())
            keys.Add(property.Name);
        string[] expected = ["z", "p", "loss", "grad_p", "grad_z", "grad_w", "grad_b", "new_w", "new_b", "losses"];
        Assert.Equal(expected.Order(), keys.Order());
        foreach (string key in expected)
            Assert.Equal(key == "losses" ? JsonValueKind.Array : JsonValueKind.Number, json.GetProperty(key).ValueKind);
    }

    [Fact]
    public void Json_NumbersRoundTrip()
    {
        // The printed text of every number parses back to the double the closed form gives (1e-12 above
        // allows for op-order differences; here the defaults are computed in the same order).
        JsonElement json = ParseJson(Run("explain", "--json").Out);
        string raw = json.GetProperty("p").GetRawText();
        Assert.Equal(1 / (1 + Math.Exp(-(0.8 * 1.5 + 0.2))), double.Parse(raw, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Steps5_LossesFallStrictly_AndFollowGradientDescent()
    {
        var (code, stdout, _) = Run("explain", "--json", "--steps", "5");
        Assert.Equal(0, code);
        JsonElement json = ParseJson(stdout);
        JsonElement losses = json.GetProperty("losses");
        Assert.Equal(5, losses.GetArrayLength());

        double x = 1.5, w = 0.8, b = 0.2, y = 1.0, lr = 0.1;
        for (int i = 0; i < 5; i++)
        {
            Expected e = Expected.Of(x, w, b, y, lr);
            Assert.Equal(e.Loss, losses[i].GetDouble(), 1e-12);
            if (i > 0)
                Assert.True(losses[i].GetDouble() < losses[i - 1].GetDouble(), $"loss did not fall at step {i + 1}");
            (w, b) = (e.NewW, e.NewB);
        }
        // The first-step keys still describe step 1.
        AssertMatches(Expected.Of(1.5, 0.8, 0.2, 1.0, 0.1), json);
    }

    [Fact]
    public void Text_ContainsTheKeyNumbers()
    {
        var (code, stdout, stderr) = Run("explain");
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        // Hand-worked defaults, six significant digits.
        string[] numbers =
        [
            "1.4",         // z
            "0.802184",    // p
            "0.0195656",   // loss
            "-0.197816",   // ∂loss/∂p
            "0.158685",    // ∂p/∂z
            "-0.0313904",  // ∂loss/∂z = ∂loss/∂b
            "-0.0470856",  // ∂loss/∂w
            "0.804709",    // new w
            "0.203139",    // new b
        ];
        foreach (string n in numbers)
            Assert.Contains(n, stdout);
        Assert.Contains("∂loss/∂w", stdout);
        Assert.Contains("w ← w − lr·∂loss/∂w", stdout);
        Assert.DoesNotContain("\u001b[", stdout); // no colour codes when writing to a non-terminal
    }

    [Fact]
    public void Text_Steps_ShowsTableAndFallingLoss()
    {
        var (code, stdout, _) = Run("explain", "--steps", "5");
        Assert.Equal(0, code);
        Assert.Contains("step", stdout);
        Assert.Contains("0.0192477", stdout); // loss before step 2
        Assert.Contains("The loss fell at every step", stdout);
    }

    [Fact]
    public void Text_TooLargeLearningRate_SaysTheLossRose()
    {
        // Starting near the optimum of y = 0.5 with a huge step overshoots.
        var (code, stdout, _) = Run("explain", "--y", "0.5", "--b", "-1", "--lr", "400", "--steps", "3");
        Assert.Equal(0, code);
        Assert.Contains("rose", stdout);
    }

    [Theory]
    [InlineData("--bogus", null, "--bogus")]
    [InlineData("--x", "abc", "--x")]
    [InlineData("--x", "NaN", "--x")]
    [InlineData("--w", "Infinity", "--w")]
    [InlineData("--b", "-Infinity", "--b")]
    [InlineData("--y", "NaN", "--y")]
    [InlineData("--lr", "0", "--lr")]
    [InlineData("--lr", "-0.1", "--lr")]
    [InlineData("--lr", "Infinity", "--lr")]
    [InlineData("--lr", "NaN", "--lr")]
    [InlineData("--steps", "0", "--steps")]
    [InlineData("--steps", "-3", "--steps")]
    [InlineData("--steps", "2.5", "--steps")]
    [InlineData("--steps", "many", "--steps")]
    [InlineData("--steps", "10001", "--steps")]
    public void BadFlag_IsUsageError_NamingTheFlag(string flag, string? value, string named)
    {
        string[] args = value is null ? ["explain", flag] : ["explain", flag, value];
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains(named, stderr);
        Assert.Contains("Usage:", stderr);
        Assert.Equal("", stdout);

        // The same with --json: still nothing on stdout.
        var (jsonCode, jsonOut, _) = Run([.. args, "--json"]);
        Assert.Equal(CliApp.UsageError, jsonCode);
        Assert.Equal("", jsonOut);
    }

    [Fact]
    public void MissingValue_IsUsageError()
    {
        var (code, _, stderr) = Run("explain", "--lr");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--lr", stderr);
    }

    [Fact]
    public void UnknownCommand_IsUsageError()
    {
        var (code, stdout, stderr) = Run("frobnicate");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("frobnicate", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void Overflow_IsReportedNotPrinted()
    {
        var (code, stdout, stderr) = Run("explain", "--json", "--x", "1e300", "--w", "1e300");
        Assert.Equal(CliApp.Failure, code);
        Assert.Contains("overflow", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public void NoCommand_PrintsHelp()
    {
        var (code, stdout, _) = Run();
        Assert.Equal(0, code);
        Assert.Contains("Usage:", stdout);
        Assert.Contains("backprop", stdout);
        Assert.Contains("explain", stdout);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("explain", "--help")]
    [InlineData("explain", "-h")]
    public void Help_Works(params string[] args)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Contains("Usage:", stdout);
        if (args[0] == "explain")
            foreach (string flag in new[] { "--x", "--w", "--b", "--y", "--lr", "--steps", "--json" })
                Assert.Contains(flag, stdout);
    }
}
