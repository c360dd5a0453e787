using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Backprop.Cli.Commands;

/// <summary>
/// Option factories with the parsing and range checks every command needs. A bad value becomes a
/// parse error naming the option and the value, which the app reports as a usage error; no value a
/// user types reaches System.CommandLine's own converters, whose failures are exceptions.
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
            CustomParser = result => ParseDouble(result, name, positive) ?? default,
        };

    /// <summary>A float64 option without a default (null when absent) that must be finite and greater than 0.</summary>
    public static Option<double?> OptionalPositiveDouble(string name, string description)
        => new(name)
        {
            Description = description,
            HelpName = "number",
            CustomParser = result => ParseDouble(result, name, positive: true),
        };

    /// <summary>An integer option limited to [1, <paramref name="max"/>].</summary>
    public static Option<int> Count(string name, int defaultValue, int max, string description)
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = "N",
            CustomParser = result => ParseCount(result, name, max) ?? default,
        };

    /// <summary>An integer option without a default (null when absent) limited to [1, <paramref name="max"/>].</summary>
    public static Option<int?> OptionalCount(string name, int max, string description)
        => new(name)
        {
            Description = description,
            HelpName = "N",
            CustomParser = result => ParseCount(result, name, max),
        };

    /// <summary>An integer option without a default (null when absent) limited to [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int?> OptionalInt(string name, int min, int max, string description)
        => new(name)
        {
            Description = description,
            HelpName = "N",
            CustomParser = result =>
            {
                if (SingleToken(result, name) is not { } text)
                    return null;
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
                    result.AddError($"{name} expects a whole number, got '{text}'");
                else if (value < min || value > max)
                    result.AddError($"{name} must be between {min} and {max}, got {value}");
                return value;
            },
        };

    /// <summary>A float64 option without a default (null when absent) in [0, 1) (a probability such as dropout).</summary>
    public static Option<double?> OptionalFraction(string name, string description)
        => new(name)
        {
            Description = description,
            HelpName = "p",
            CustomParser = result =>
            {
                if (ParseDouble(result, name, positive: false) is not double value)
                    return null;
                if (value < 0 || value >= 1)
                    result.AddError($"{name} must be at least 0 and below 1, got {result.Tokens[0].Value}");
                return value;
            },
        };

    /// <summary>A string option without a default (null when absent) that accepts only one of <paramref name="choices"/>.</summary>
    public static Option<string?> OptionalChoice(string name, IReadOnlyList<string> choices, string description)
        => new(name)
        {
            Description = description,
            HelpName = string.Join('|', choices),
            CustomParser = result =>
            {
                if (SingleToken(result, name) is not { } text)
                    return null;
                if (!choices.Contains(text))
                    result.AddError($"{name} must be {OneOf(choices)}, got '{text}'");
                return text;
            },
        };

    /// <summary>An unsigned 64-bit option (a seed): a whole number from 0 to 2^64 - 1.</summary>
    public static Option<ulong> UInt64(string name, ulong defaultValue, string description)
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = "N",
            CustomParser = result =>
            {
                if (SingleToken(result, name) is not { } text)
                    return default;
                if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
                    result.AddError($"{name} expects a whole number from 0 to {ulong.MaxValue}, got '{text}'");
                return value;
            },
        };

    /// <summary>A string option that accepts only one of <paramref name="choices"/>.</summary>
    public static Option<string> Choice(string name, string defaultValue, IReadOnlyList<string> choices, string description)
        => new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = string.Join('|', choices),
            CustomParser = result =>
            {
                if (SingleToken(result, name) is not { } text)
                    return defaultValue;
                if (!choices.Contains(text))
                    result.AddError($"{name} must be {OneOf(choices)}, got '{text}'");
                return text;
            },
        };

    /// <summary>A file or folder path option; an empty value is refused. Null when absent unless <paramref name="defaultValue"/> is given.</summary>
    public static Option<string?> Path(string name, string description, string helpName, string? defaultValue = null)
    {
        var option = new Option<string?>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result =>
            {
                if (SingleToken(result, name) is not { } text)
                    return null;
                if (string.IsNullOrWhiteSpace(text) || text.Contains('\0'))
                    result.AddError($"{name} expects a {helpName} path, got '{text}'");
                return text;
            },
        };
        // Without a default, so that Required is enforced.
        if (defaultValue is not null)
            option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>"a, b or c".</summary>
    public static string OneOf(IReadOnlyList<string> choices)
        => choices.Count == 1 ? choices[0] : $"{string.Join(", ", choices.Take(choices.Count - 1))} or {choices[^1]}";

    private static double? ParseDouble(ArgumentResult result, string name, bool positive)
    {
        if (SingleToken(result, name) is not { } text)
            return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            result.AddError($"{name} expects a number, got '{text}'");
        else if (!double.IsFinite(value))
            result.AddError($"{name} must be a finite number, got '{text}'");
        else if (positive && value <= 0)
            result.AddError($"{name} must be greater than 0, got {text}");
        return value;
    }

    private static int? ParseCount(ArgumentResult result, string name, int max)
    {
        if (SingleToken(result, name) is not { } text)
            return null;
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
    }

    private static string? SingleToken(ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 1)
            return result.Tokens[0].Value;
        result.AddError(result.Tokens.Count == 0 ? $"{name} needs a value" : $"{name} takes one value");
        return null;
    }
}
