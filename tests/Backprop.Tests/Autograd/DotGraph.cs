using System.Text;

namespace Backprop.Tests.Autograd;

/// <summary>
/// A strict parser for the subset of Graphviz DOT that GraphExport writes (a digraph of node, edge and
/// default-attribute statements), so tests check the syntax and the structure without graphviz installed.
/// Follows graphviz's lexer: in a quoted string \" is a quote and any other backslash is kept for the
/// label, where \\ is a backslash and \n, \l, \r end a line. Anything else is a <see cref="FormatException"/>.
/// </summary>
internal sealed class DotGraph
{
    public string Name { get; private set; } = "";

    /// <summary>Node id → its attributes (labels unescaped), in declaration order.</summary>
    public Dictionary<string, Dictionary<string, string>> Nodes { get; } = [];

    public List<(string From, string To, Dictionary<string, string> Attributes)> Edges { get; } = [];

    /// <summary>The unescaped label of a node.</summary>
    public string Label(string id) => Nodes[id]["label"];

    /// <summary>The id of the only node whose label's first line is <paramref name="firstLine"/>.</summary>
    public string Find(string firstLine) => Assert.Single(Nodes, n => n.Value["label"].Split('\n')[0] == firstLine).Key;

    public static DotGraph Parse(string text)
    {
        var tokens = Tokenize(text);
        var g = new DotGraph();
        int i = 0;
        Expect(tokens, ref i, "digraph");
        if (tokens[i].Kind == Kind.Id) g.Name = tokens[i++].Text;
        Expect(tokens, ref i, "{");
        while (tokens[i].Text != "}" || tokens[i].Kind != Kind.Punct)
        {
            Token first = tokens[i++];
            if (first.Kind == Kind.Punct) throw new FormatException($"unexpected '{first.Text}' at token {i}");
            if (first.Kind == Kind.Id && first.Text is "graph" or "node" or "edge")
                AttributeList(tokens, ref i);
            else if (tokens[i].Text == "->" && tokens[i].Kind == Kind.Punct)
            {
                i++;
                Token to = tokens[i++];
                if (to.Kind == Kind.Punct) throw new FormatException($"edge {first.Text} -> needs a target");
                var attrs = tokens[i].Text == "[" ? AttributeList(tokens, ref i) : [];
                g.Edges.Add((first.Text, to.Text, attrs));
            }
            else
            {
                if (g.Nodes.ContainsKey(first.Text)) throw new FormatException($"node {first.Text} declared twice");
                g.Nodes[first.Text] = tokens[i].Text == "[" ? AttributeList(tokens, ref i) : [];
            }
            Expect(tokens, ref i, ";");
        }
        i++;
        if (i != tokens.Count - 1) throw new FormatException("text after the closing brace"); // the last token is the end marker
        foreach (var (from, to, _) in g.Edges)
            if (!g.Nodes.ContainsKey(from) || !g.Nodes.ContainsKey(to))
                throw new FormatException($"edge {from} -> {to} names an undeclared node");
        return g;
    }

    private static Dictionary<string, string> AttributeList(List<Token> tokens, ref int i)
    {
        var attrs = new Dictionary<string, string>();
        Expect(tokens, ref i, "[");
        while (!(tokens[i].Kind == Kind.Punct && tokens[i].Text == "]"))
        {
            Token key = tokens[i++];
            if (key.Kind == Kind.Punct) throw new FormatException($"attribute name expected, got '{key.Text}'");
            Expect(tokens, ref i, "=");
            Token value = tokens[i++];
            if (value.Kind == Kind.Punct) throw new FormatException($"attribute value expected after {key.Text}=");
            attrs[key.Text] = key.Text == "label" && value.Kind == Kind.Quoted ? UnescapeLabel(value.Text) : value.Text;
            if (tokens[i].Kind == Kind.Punct && tokens[i].Text == ",") i++;
        }
        i++;
        return attrs;
    }

    private static void Expect(List<Token> tokens, ref int i, string text)
    {
        if (i >= tokens.Count || tokens[i].Text != text || tokens[i].Kind == Kind.Quoted)
            throw new FormatException($"expected '{text}' at token {i}, got '{(i < tokens.Count ? tokens[i].Text : "end of text")}'");
        i++;
    }

    private static string UnescapeLabel(string raw)
    {
        var sb = new StringBuilder();
        for (int k = 0; k < raw.Length; k++)
        {
            if (raw[k] != '\\' || k + 1 == raw.Length) { sb.Append(raw[k]); continue; }
            char next = raw[++k];
            sb.Append(next switch { 'n' or 'l' or 'r' => '\n', _ => next });
        }
        return sb.ToString();
    }

    private enum Kind { Id, Quoted, Punct }

    private readonly record struct Token(Kind Kind, string Text);

    private static List<Token> Tokenize(string s)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '-' && i + 1 < s.Length && s[i + 1] == '>') { tokens.Add(new(Kind.Punct, "->")); i += 2; continue; }
            if ("{}[]=;,".Contains(c)) { tokens.Add(new(Kind.Punct, c.ToString())); i++; continue; }
            if (c == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= s.Length) throw new FormatException("unterminated string");
                    if (s[i] == '"') { i++; break; }
                    if (s[i] == '\\' && i + 1 < s.Length)
                    {
                        if (s[i + 1] == '"') sb.Append('"');
                        else if (s[i + 1] != '\n') sb.Append('\\').Append(s[i + 1]); // kept for the label (\\, \n)
                        i += 2;
                        continue;
                    }
                    if (s[i] == '\n') throw new FormatException("raw line break inside a string");
                    sb.Append(s[i++]);
                }
                tokens.Add(new(Kind.Quoted, sb.ToString()));
                continue;
            }
            if (char.IsAsciiLetterOrDigit(c) || c == '_' || c == '.')
            {
                int start = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_' || s[i] == '.')) i++;
                tokens.Add(new(Kind.Id, s[start..i]));
                continue;
            }
            throw new FormatException($"unexpected character '{c}' at {i}");
        }
        tokens.Add(new(Kind.Punct, "<end>"));
        return tokens;
    }
}
