using System.Text.RegularExpressions;
using Backprop.Diagnostics;

namespace Backprop.Tests.Diagnostics;

public partial class WarningsTests
{
    [Fact]
    public void Issued_RaisesEachDistinctWarningOncePerProcess()
    {
        string message = "test warning " + Guid.NewGuid(); // distinct from every other test's
        var seen = new List<LibraryWarning>();
        void Handler(LibraryWarning w) { if (w.Message == message) lock (seen) seen.Add(w); }
        Warnings.Issued += Handler;
        try
        {
            Warnings.Once("Test", message);
            Warnings.Once("Test", message);
        }
        finally
        {
            Warnings.Issued -= Handler;
        }
        Assert.Equal([new LibraryWarning("Test", message)], seen);
    }

    [Fact]
    public void TheLibrary_WritesNothingToTheConsole()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Backprop.slnx"))) root = Path.GetDirectoryName(root)!;
        var offenders = new List<string>();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(root, "src", "Backprop"), "*.cs", SearchOption.AllDirectories))
        {
            int n = 0;
            foreach (string line in File.ReadLines(file))
            {
                n++;
                string code = line.TrimStart();
                if (code.StartsWith("//", StringComparison.Ordinal)) continue; // comments and XML docs may show Console in examples
                if (ConsoleUse().IsMatch(code)) offenders.Add($"{Path.GetRelativePath(root, file)}:{n}: {code}");
            }
        }
        Assert.True(offenders.Count == 0, "the library writes to the console; give a Warnings.Once instead:\n" + string.Join("\n", offenders));
    }

    [GeneratedRegex(@"\bConsole\.(Error|Out|Write|WriteLine)\b")]
    private static partial Regex ConsoleUse();
}
