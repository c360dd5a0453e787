using System.Text;
using Backprop.Tensors;

namespace Backprop.Tests.Cli;

/// <summary>Small deterministic English-like texts for the text-model tests (no fortunes package needed).</summary>
internal static class TextCorpusFiles
{
    private static readonly string[] Words =
        ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "old", "man", "who", "saw", "it", "is", "not", "what", "you", "think"];

    /// <summary>About <paramref name="bytes"/> bytes of sentences of the words above, seeded.</summary>
    public static string Sentences(int bytes, ulong seed = 1)
    {
        var g = new Generator(seed);
        var sb = new StringBuilder();
        while (sb.Length < bytes)
        {
            int n = 3 + (int)g.NextInt64(6);
            for (int i = 0; i < n; i++)
            {
                string w = Words[g.NextInt64(Words.Length)];
                sb.Append(i == 0 ? char.ToUpperInvariant(w[0]) + w[1..] : w).Append(i == n - 1 ? ".\n" : " ");
            }
        }
        return sb.ToString();
    }

    /// <summary>Writes <see cref="Sentences"/> to <paramref name="path"/> and returns the path.</summary>
    public static string Write(string path, int bytes = 24_000, ulong seed = 1)
    {
        File.WriteAllText(path, Sentences(bytes, seed));
        return path;
    }
}
