using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using Backprop.Cli.Commands;

namespace Backprop.Cli;

/// <summary>
/// The <c>backprop</c> command-line tool as a callable function: parses the arguments, runs the chosen
/// command and returns the process exit code. Commands write only to the writers they are given, so the
/// whole tool runs in-process in tests.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when a command failed while running.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for a bad command line (unknown option, bad value); the usage goes to stderr.</summary>
    public const int UsageError = 2;

    /// <summary>The name users type, shown in usage lines.</summary>
    public const string Name = "backprop";

    /// <summary>Runs the tool with <paramref name="args"/> (without the program name).</summary>
    /// <param name="args">Command-line arguments, e.g. <c>["explain", "--json"]</c>.</param>
    /// <param name="stdout">Where results and help go.</param>
    /// <param name="stderr">Where errors and, after an error, the usage go.</param>
    /// <returns>The exit code: <see cref="Success"/>, <see cref="Failure"/> or <see cref="UsageError"/>.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var verbose = new Option<bool>("--verbose")
        {
            Description = $"On an error, also print the full exception for a bug report (or set {VerboseVariable}=1).",
            Recursive = true,
        };
        Command root = CreateRootCommand();
        root.Options.Add(verbose);
        ParseResult parse = root.Parse(args);

        // A help request wins over errors elsewhere on the line, as in most tools.
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            foreach (var error in parse.Errors)
                stderr.WriteLine($"{Name}: error: {Describe(error)}");
            WriteUsageHint(parse, stderr);
            return UsageError;
        }

        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return parse.Invoke(config);
        }
        catch (Exception e)
        {
            bool details = parse.GetValue(verbose) || Environment.GetEnvironmentVariable(VerboseVariable) is "1" or "true";
            return Report(e, details, stderr);
        }
    }

    /// <summary>Environment variable that, set to 1, makes every error print its full exception.</summary>
    public const string VerboseVariable = "BACKPROP_VERBOSE";

    /// <summary>
    /// Prints an exception that ended a command: a <see cref="CliException"/> as its one-line message, anything
    /// else (a bug, or a failure nobody anticipated) as one line with the type and message plus a pointer to
    /// --verbose; with <paramref name="details"/>, the full exception (inner ones included) follows.
    /// </summary>
    private static int Report(Exception e, bool details, TextWriter stderr)
    {
        if (e is CliException cli)
        {
            stderr.WriteLine($"{Name}: error: {OneLine(cli.Message)}");
            if (details && cli.InnerException is { } inner)
                stderr.WriteLine(inner.ToString());
            return cli.ExitCode;
        }
        stderr.WriteLine($"{Name}: error: {OneLine(e.Message)} ({e.GetType().Name})");
        if (details)
            stderr.WriteLine(e.ToString());
        else
            stderr.WriteLine($"run with --verbose (or {VerboseVariable}=1) for details to include in a bug report");
        return Failure;
    }

    /// <summary>A parse error as one line that names the option it is about.</summary>
    private static string Describe(ParseError error)
    {
        string message = OneLine(error.Message);
        SymbolResult? symbol = error.SymbolResult;
        if (symbol is ArgumentResult { Parent: OptionResult parent })
            symbol = parent;
        if (symbol is OptionResult option && !message.Contains(option.Option.Name, StringComparison.Ordinal))
            message = $"{option.Option.Name}: {message}";
        return message;
    }

    /// <summary>Collapses line breaks and tabs (System.CommandLine lists choices one per line) into single spaces.</summary>
    private static string OneLine(string message)
        => string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>After a usage error: the command's usage line and where to read about its options.</summary>
    private static void WriteUsageHint(ParseResult parse, TextWriter stderr)
    {
        var path = new List<string>();
        for (SymbolResult? result = parse.CommandResult; result is CommandResult command; result = command.Parent)
            path.Insert(0, command.Command.Name);
        string commandPath = string.Join(' ', path);
        Command chosen = parse.CommandResult.Command;
        string arguments = string.Concat(chosen.Arguments.Select(a => $" <{a.Name}>"));
        string subcommand = chosen.Subcommands.Count > 0 ? " [command]" : "";
        stderr.WriteLine($"Usage: {commandPath}{arguments}{subcommand} [options]; run '{commandPath} --help' for the list");
    }

    /// <summary>The root command with every subcommand attached; running it alone prints the help.</summary>
    internal static Command CreateRootCommand()
    {
        // A plain Command rather than RootCommand, so usage lines say "backprop" whatever the host
        // executable is called (dotnet Backprop.Cli.dll, the test host).
        var root = new Command(Name, "Backprop: a deep-learning library built on reverse-mode autograd.")
        {
            new HelpOption(),
            new VersionOption(),
            ExplainCommand.Create(),
            TrainCommand.Create(),
            EvalCommand.Create(),
            PredictCommand.Create(),
            SampleCommand.Create(),
            BenchCommand.Create(),
            DiagnoseCommand.Create(),
            EstimatorsCommand.Create(),
            ExportCommand.Create(),
        };
        root.SetAction(parse =>
        {
            WriteHelp(parse, parse.InvocationConfiguration.Output);
            return Success;
        });
        return root;
    }

    /// <summary>Writes the help of the command <paramref name="parse"/> chose to <paramref name="writer"/>.</summary>
    internal static void WriteHelp(ParseResult parse, TextWriter writer)
    {
        // The help renderer writes to the invocation's output, so ask for "<command path> --help"
        // with the output pointed at the writer we want.
        var path = new List<string>();
        for (var result = parse.CommandResult; result.Parent is CommandResult parent; result = parent)
            path.Insert(0, result.Command.Name);
        path.Add("--help");
        parse.RootCommandResult.Command.Parse(path).Invoke(new InvocationConfiguration { Output = writer, Error = writer });
    }
}

/// <summary>
/// A failure a command reports to the user as one line on stderr, with an exit code; the exception it
/// explains (if any) is printed in full only with --verbose.
/// </summary>
internal sealed class CliException(string message, int exitCode = CliApp.Failure, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The process exit code to return.</summary>
    public int ExitCode { get; } = exitCode;
}
