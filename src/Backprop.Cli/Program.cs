namespace Backprop.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        // ∂, ←, ½ and friends: Windows consoles default to a legacy code page.
        if (OperatingSystem.IsWindows() && !Console.IsOutputRedirected)
            Console.OutputEncoding = System.Text.Encoding.UTF8;
        // The library never prints; its warnings (once per message) go to the user here.
        Backprop.Diagnostics.Warnings.Issued += w => Console.Error.WriteLine($"warning: {w.Source}: {w.Message}");
        return CliApp.Run(args, Console.Out, Console.Error);
    }
}
