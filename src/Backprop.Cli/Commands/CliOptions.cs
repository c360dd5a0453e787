using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Backprop.Cli.Commands;

/// <summary>
/// Option factories with the parsing and range checks every command needs. A bad value becomes a
/// parse error naming the option, which the app reports as a usage error.
/// </summary>
internal static class CliOptions
{
    /// <summary>A float64 option that must be finite (and greater than 0 when <paramref name="positive"/>).</summary>
    public static Option<double> Double(string name, double defaultValue, string description, bool positive = false)
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = "number",
            CustomParser = result =>
            {
                if (SingleToken(result, name) is not { } text)
                    return default;
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                    result.AddError($"{name} expects a number, got '{text}'");
                else if (!double.IsFinite(value))
                    result.AddError($"{name} must be a finite number, got '{text}'");
                else if (positive && value <= 0)
                    result.AddError($"{name} must be greater than 0, got {text}");
                return value;
            },
        };

    /// <summary>An integer option limited to [1, <paramref name="max"/>].</summary>
    public static Option<int> Count(string name, int defaultValue, int max, string description)
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = "N",
            CustomParser = result =>
            {
                if (SingleToken(result, name) is not { } text)
                    return default;
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
                {
                    bool isNumber = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
                    result.AddError(isNumber
                        ? $"{name} must be a whole number between 1 and {max}, got {text}"
                        : $"{name} expects a whole number, got '{text}'");
                }
                else if (value < 1 || value > max)
                    result.AddError($"{name} must be between 1 and {max}, got {value}");
                return value;
            },
        };

    private static string? SingleToken(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 1)
            return result.Tokens[0].Value;
        result.AddError(result.Tokens.Count == 0 ? $"{name} needs a value" : $"{name} takes one value");
        return null;
    }
}
