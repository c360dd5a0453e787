using Xunit.Abstractions;
namespace Backprop.Tests.IO.Onnx;

/// <summary>
/// The importer against ONNX's own node tests (<see cref="OnnxConformance"/>): on the tests it claims, it passes at
/// least as many as ONNX Runtime, and every claimed test passes (a regression names the test and the output).
/// The data comes from Debian's libonnx-testdata, which tools/install-test-data.sh installs.
/// </summary>
public class OnnxConformanceTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryClaimedNodeTestPassesAndOrtPassesNoMore()
    {
        Assert.True(Directory.Exists(OnnxConformance.NodeTests), $"{OnnxConformance.NodeTests} is missing: install libonnx-testdata (tools/install-test-data.sh)");
        var results = OnnxConformance.RunAll();
        var claimed = results.Where(r => r.Claimed).ToList();
        int ours = claimed.Count(r => r.Ours is null), ort = claimed.Count(r => r.Ort is null);
        output.WriteLine($"node tests {results.Count}, claimed {claimed.Count}, importer passes {ours}, ONNX Runtime passes {ort}");
        foreach (var r in claimed.Where(r => r.Ort is not null)) output.WriteLine($"ORT fails {r.Name}: {r.Ort}");
        string[] failures = [.. claimed.Where(r => r.Ours is not null).Select(r => $"{r.Name}: {r.Ours}")];
        foreach (string f in failures) output.WriteLine("FAIL " + f);
        output.WriteLine("claimed: " + string.Join(" ", claimed.Select(r => r.Name)));
        var excluded = results.Where(r => !r.Claimed).Select(r => OnnxConformance.Why(r.Name)).GroupBy(w => w).OrderByDescending(g => g.Count());
        foreach (var g in excluded.Take(60)) output.WriteLine($"excluded {g.Count()}: {g.Key}");
        Assert.True(results.Count > 900, $"only {results.Count} node tests found");
        Assert.True(claimed.Count >= 611, $"the claimed set shrank to {claimed.Count} tests");
        // The comparison itself can fail: a claimed test's expected output, nudged past the tolerance, does not match.
        var want = OnnxImportTests.ReadTensor(Path.Combine(OnnxConformance.NodeTests, "test_relu", "test_data_set_0", "output_0.pb"));
        Assert.Null(OnnxConformance.Compare(want, want.Clone()));
        Assert.NotNull(OnnxConformance.Compare(want, want * 1.01 + 1e-3));
        Assert.True(ours >= ort, $"the importer passes {ours} of {claimed.Count} claimed node tests, ONNX Runtime {ort}");
        Assert.Empty(failures);
    }
}
