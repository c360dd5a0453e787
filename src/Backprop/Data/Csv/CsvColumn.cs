using System.Globalization;

namespace Backprop.Data.Csv;

/// <summary>
/// A column of a CSV file, by name (a header field) or by position (from 0; negative counts from the end,
/// −1 is the last column). Converts from an int or a string; <see cref="Parse"/> reads command-line text.
/// </summary>
public readonly record struct CsvColumn
{
    private CsvColumn(string? name, int index)
    {
        Name = name;
        Index = index;
    }

    /// <summary>The column's header name, or null for a column given by position.</summary>
    public string? Name { get; }

    /// <summary>The column's position (negative from the end) when <see cref="Name"/> is null.</summary>
    public int Index { get; }

    /// <summary>The column at <paramref name="index"/> (negative counts from the end).</summary>
    public static CsvColumn At(int index) => new(null, index);

    /// <summary>The column whose header is <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is null or empty.</exception>
    public static CsvColumn Named(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("CsvColumn: a column name must not be empty", nameof(name));
        return new(name, 0);
    }

    /// <summary>An integer (such as "3" or "-1") is a position, anything else a name.</summary>
    /// <exception cref="ArgumentException">The text is null or empty.</exception>
    public static CsvColumn Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("CsvColumn: expected a column name or position, got nothing", nameof(text));
        return int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index) ? At(index) : Named(text);
    }

    /// <summary>The column at a position.</summary>
    public static implicit operator CsvColumn(int index) => At(index);

    /// <summary>The column with a name.</summary>
    public static implicit operator CsvColumn(string name) => Named(name);

    /// <summary>The name in quotes, or the position.</summary>
    public override string ToString() => Name is null ? Index.ToString(CultureInfo.InvariantCulture) : $"\"{Name}\"";
}
