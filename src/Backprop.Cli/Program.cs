namespace Backprop.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        // ∂, ←, ½ and friends: Windows consoles default to a legacy code page.
        if (OperatingSystem.IsWindows() && !Console.IsOutputRedirected)
            Console.OutputEncoding = System.Text.Encoding.UTF8;
        return CliApp.Run(args, Console.Out, Console.Error);
    }
}
