namespace Backprop.Ops.Einsum;

/// <summary>
/// A parsed einsum equation such as <c>"bij,bjk->bik"</c>: per operand its subscripts (A–Z as 0–25, a–z as 26–51,
/// so numeric order is alphabetical order with capitals first, as PyTorch sorts them) with <see cref="Ellipsis"/>
/// where "..." stands, and the explicit output's subscripts, or null when the equation has no "->". Spaces are ignored.
/// </summary>
internal sealed class EinsumEquation
{
    /// <summary>Marks the position of "..." in a term.</summary>
    public const int Ellipsis = -1;

    /// <summary>Number of letter subscripts (A–Z, a–z).</summary>
    public const int Letters = 52;

    private EinsumEquation(string text, int[][] inputs, string[] terms, int[]? output)
    {
        Text = text;
        Inputs = inputs;
        Terms = terms;
        Output = output;
    }

    /// <summary>The equation as given.</summary>
    public string Text { get; }

    /// <summary>Each operand's subscripts in order.</summary>
    public int[][] Inputs { get; }

    /// <summary>Each operand's term as written (for error messages).</summary>
    public string[] Terms { get; }

    /// <summary>The explicit output's subscripts, or null for the implicit output.</summary>
    public int[]? Output { get; }

    /// <summary>The letter of a subscript.</summary>
    public static char Letter(int label) => label < 26 ? (char)('A' + label) : (char)('a' + label - 26);

    /// <summary>Parses <paramref name="equation"/> for <paramref name="operandCount"/> operands.</summary>
    /// <exception cref="ArgumentException">A character is not a letter, '.', ',', ' ' or "->"; an ellipsis is malformed or repeated; the number of terms differs from the number of operands.</exception>
    public static EinsumEquation Parse(string equation, int operandCount)
    {
        ArgumentNullException.ThrowIfNull(equation);
        int arrow = equation.IndexOf("->", StringComparison.Ordinal);
        int lhsEnd = arrow < 0 ? equation.Length : arrow;
        var inputs = new List<int[]>();
        var terms = new List<string>();
        int start = 0;
        for (int i = 0; i <= lhsEnd; i++)
        {
            if (i < lhsEnd && equation[i] != ',') continue;
            inputs.Add(ParseTerm(equation, start, i, $"operand {inputs.Count}"));
            terms.Add(equation[start..i].Trim());
            start = i + 1;
        }
        int[]? output = arrow < 0 ? null : ParseTerm(equation, arrow + 2, equation.Length, "the output");
        if (inputs.Count > operandCount)
            throw new ArgumentException($"Einsum \"{equation}\": the equation has {inputs.Count} operand terms but {operandCount} operand(s) were given (fewer operands than the equation specifies)");
        if (inputs.Count < operandCount)
            throw new ArgumentException($"Einsum \"{equation}\": the equation has {inputs.Count} operand terms but {operandCount} operands were given (more operands than the equation specifies)");
        return new EinsumEquation(equation, [.. inputs], [.. terms], output);
    }

    private static int[] ParseTerm(string equation, int start, int end, string what)
    {
        var labels = new List<int>();
        bool ellipsis = false;
        for (int i = start; i < end; i++)
        {
            char c = equation[i];
            if (c == ' ') continue;
            if (c == '.')
            {
                if (i + 2 >= end || equation[i + 1] != '.' || equation[i + 2] != '.')
                    throw new ArgumentException($"Einsum \"{equation}\": found '.' at index {i} for {what} that is not part of an ellipsis \"...\"");
                if (ellipsis)
                    throw new ArgumentException($"Einsum \"{equation}\": {what} has more than one ellipsis \"...\" (the second at index {i})");
                ellipsis = true;
                labels.Add(Ellipsis);
                i += 2;
                continue;
            }
            if (c is >= 'A' and <= 'Z') labels.Add(c - 'A');
            else if (c is >= 'a' and <= 'z') labels.Add(26 + c - 'a');
            else
                throw new ArgumentException($"Einsum \"{equation}\": invalid subscript '{c}' at index {i} for {what}; subscripts must be letters a-z or A-Z (with ',' between operands, \"...\" for broadcast dims and \"->\" before the output)");
        }
        return [.. labels];
    }
}
