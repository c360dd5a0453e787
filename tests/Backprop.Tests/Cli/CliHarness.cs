using Backprop.Cli;

namespace Backprop.Tests.Cli;

/// <summary>Runs the CLI in-process and checks what a user sees after an error, and that the disk is unchanged.</summary>
internal static class CliHarness
{
    /// <summary>Runs <c>backprop ARGS</c> and returns its exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Asserts a short error: at most <paramref name="maxLines"/> lines, no stack frame, naming <paramref name="named"/>.</summary>
    public static void AssertShortError(string err, int maxLines, params string[] named)
    {
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 1 && lines.Length <= maxLines, $"expected 1 to {maxLines} lines, got:\n{err}");
        Assert.DoesNotContain("   at ", err);
        Assert.StartsWith("backprop: error: ", lines[0]);
        foreach (string n in named)
            Assert.Contains(n, err);
    }

    /// <summary>Every file and folder under <paramref name="root"/> with its size and write time, to compare before and after a run.</summary>
    public static string[] Snapshot(string root)
        => Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => File.Exists(p)
                ? $"{Path.GetRelativePath(root, p)} {new FileInfo(p).Length} {File.GetLastWriteTimeUtc(p).Ticks} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p)))}"
                : $"{Path.GetRelativePath(root, p)}/")
            .Order(StringComparer.Ordinal)
            .ToArray();
}
