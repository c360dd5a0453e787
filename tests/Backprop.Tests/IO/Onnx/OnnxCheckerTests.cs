using System.Diagnostics;
using Backprop.IO.Onnx;

namespace Backprop.Tests.IO.Onnx;

/// <summary>
/// Debian's onnx.checker (python3-onnx, installed by tools/install-test-data.sh) accepts every model of the export
/// catalogue with full_check (shape inference included). This test exports the whole catalogue itself, so it checks
/// every kind of file the export tests produce whichever tests ran before it. It fails, rather than skips, when
/// /usr/bin/python3 cannot import onnx.
/// </summary>
public class OnnxCheckerTests
{
    private const string Python = "/usr/bin/python3";

    // One interpreter for all files (importing onnx takes a while); each file is checked and reported on its own.
    private const string Script = """
        import sys
        import onnx
        failed = 0
        for path in sys.argv[1:]:
            try:
                onnx.checker.check_model(onnx.load(path), full_check=True)
            except Exception as e:
                failed += 1
                print(f"{path}: {type(e).__name__}: {e}")
        print(f"checked {len(sys.argv) - 1} files, {failed} rejected")
        sys.exit(1 if failed else 0)
        """;

    private static (int Code, string Output) RunPython(params string[] args)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        using Process p = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Python}");
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    [Fact]
    public void OnnxCheckerAcceptsEveryCatalogueExport()
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: the onnx.checker test needs Debian's python3 with python3-onnx (run tools/install-test-data.sh)");
        var (importCode, importOutput) = RunPython("-c", "import onnx");
        Assert.True(importCode == 0, $"{Python} cannot import onnx: install Debian's python3-onnx (tools/install-test-data.sh does). {importOutput}");

        string dir = Directory.CreateTempSubdirectory("onnx-checker").FullName;
        try
        {
            var files = new List<string>();
            foreach (OnnxCase c in OnnxExportCatalogue.All)
            {
                string path = Path.Combine(dir, c.Name + ".onnx");
                OnnxExport.Save(c.Model(), c.Example, path, c.DimNames);
                files.Add(path);
            }
            var (code, output) = RunPython(["-c", Script, .. files]);
            Assert.True(code == 0, $"onnx.checker rejected exports:\n{output}");
            Assert.Contains($"checked {files.Count} files, 0 rejected", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
