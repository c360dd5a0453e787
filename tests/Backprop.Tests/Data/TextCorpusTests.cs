using System.Text;
using Backprop.Data;

namespace Backprop.Tests.Data;

/// <summary>Loading text as bytes from a file or a folder, what a folder load skips, the validation split and the errors.</summary>
public class TextCorpusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("corpus").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    /// <summary>A strfile-like index: a header of big-endian words, several of them zero.</summary>
    private static byte[] DatIndex() => [0, 0, 0, 2, 0, 0, 0, 12, 0, 0, 0, 90, 0, 0, 0, 3, 0, 0, 0, 0, (byte)'%', 0, 0, 0];

    [Fact]
    public void File_IsReadAsBytes_AndItsLastTenthIsValidation()
    {
        string text = "naïve café: ½ of 20 bytes!"; // multi-byte UTF-8 characters count as their bytes
        string path = Write("one.txt", text);
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        TextCorpus corpus = TextCorpus.Load(path);
        int held = bytes.Length / 10;
        Assert.Equal(bytes[..^held], corpus.Training.ToArray());
        Assert.Equal(bytes[^held..], corpus.Validation.ToArray());
        Assert.Equal([Path.GetFullPath(path)], corpus.Files);
        Assert.Empty(corpus.Skipped);
        Assert.Equal(bytes.Length, corpus.TotalBytes);
    }

    [Fact]
    public void Split_IsDeterministic_AndFollowsTheFraction()
    {
        string path = Write("t.txt", string.Concat(Enumerable.Range(0, 500).Select(i => $"line {i}\n")));
        TextCorpus a = TextCorpus.Load(path, 0.25), b = TextCorpus.Load(path, 0.25);
        Assert.Equal(a.Training.ToArray(), b.Training.ToArray());
        Assert.Equal(a.Validation.ToArray(), b.Validation.ToArray());
        long total = new FileInfo(path).Length;
        Assert.Equal((int)Math.Floor(total * 0.25), a.Validation.Length);
        Assert.EndsWith("line 499\n", Text(a.Validation));
        Assert.Equal(0, TextCorpus.Load(path, 0).Validation.Length);
    }

    [Fact]
    public void Folder_ReadsTextFilesInOrder_SkipsBinariesLinksHiddenAndEmptyFiles()
    {
        Write("b", "bbbbbbbbbbBBBBBBBBBB"); // 20 bytes: 2 held out
        Write("a", "aaaaaaaaaA");           // 10 bytes: 1 held out
        Write("sub/c", new string('c', 29) + "C"); // 30 bytes: 3 held out
        Write("a.dat", DatIndex());
        Write(".hidden", "hidden text");
        Write("empty", "");
        File.CreateSymbolicLink(Path.Combine(_dir, "a.u8"), "a");                 // after its target
        File.CreateSymbolicLink(Path.Combine(_dir, "0-link-to-b"), Path.Combine(_dir, "b")); // before its target

        TextCorpus corpus = TextCorpus.Load(_dir);

        Assert.Equal(["a", "b", "sub/c"], corpus.Files.Select(f => Path.GetRelativePath(_dir, f).Replace('\\', '/')));
        Assert.Equal("aaaaaaaaa" + "bbbbbbbbbbBBBBBBBB" + new string('c', 27), Text(corpus.Training));
        Assert.Equal("A" + "BB" + "ccC", Text(corpus.Validation));
        string skipped = string.Join("\n", corpus.Skipped);
        Assert.Contains("a.dat: binary (it holds NUL bytes", skipped);
        Assert.Contains("a.u8: a link to a, read already", skipped);
        Assert.Contains("0-link-to-b: a link to b, read already", skipped);
        Assert.Contains("empty: empty or not a regular file", skipped);
        Assert.DoesNotContain("hidden", skipped + string.Join("", corpus.Files)); // hidden files are not even listed
        Assert.Equal(4, corpus.Skipped.Count);
    }

    [Fact]
    public void Folder_ReadsALinkToAFileOutsideIt()
    {
        string outside = Directory.CreateTempSubdirectory("corpus-outside").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "x"), "outside text!!!!!!!!");
            Write("in/own", "own text!!!!!!!!!!!!");
            File.CreateSymbolicLink(Path.Combine(_dir, "in", "linked"), Path.Combine(outside, "x"));
            TextCorpus corpus = TextCorpus.Load(Path.Combine(_dir, "in"));
            Assert.Equal(2, corpus.Files.Count);
            Assert.StartsWith("outside text", Text(corpus.Training));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void LegacyEightBitText_IsText_RandomBytesAreNot()
    {
        byte[] latin1 = Encoding.Latin1.GetBytes("The café on the Rue de Rivoli served crêpes, and the waiter smiled at the old señor.");
        Assert.Null(TextCorpus.IsBinary(latin1));
        Assert.Null(TextCorpus.IsBinary("tab\tand\r\nlines\fand \x1b[1mANSI\x1b[0m"u8));
        var g = new Random(3);
        var noise = new byte[4096];
        g.NextBytes(noise);
        for (int i = 0; i < noise.Length; i++) noise[i] = noise[i] == 0 ? (byte)1 : noise[i]; // no NUL: the other rule must catch it
        Assert.Contains("not UTF-8", TextCorpus.IsBinary(noise));
    }

    [Fact]
    public void MissingPath_IsOneClearError()
    {
        string path = Path.Combine(_dir, "nowhere");
        var e = Assert.Throws<FileNotFoundException>(() => TextCorpus.Load(path));
        Assert.Equal($"text not found: {path} (pass a text file or a folder of text files)", e.Message);
    }

    [Fact]
    public void EmptyFile_IsRefusedByName()
    {
        string path = Write("empty.txt", "");
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void BinaryGarbageFile_IsRefusedByName()
    {
        var bytes = new byte[10_000];
        new Random(1).NextBytes(bytes);
        string path = Write("garbage.bin", bytes);
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(path));
        Assert.StartsWith($"{path} is not text: it holds NUL bytes", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void FolderWithoutText_IsRefusedByName_SayingWhatWasSkipped()
    {
        Write("f/x.dat", DatIndex());
        var e = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(Path.Combine(_dir, "f")));
        Assert.Contains(Path.Combine(_dir, "f"), e.Message);
        Assert.Contains("no text files (skipped 1: x.dat: binary", e.Message);

        Directory.CreateDirectory(Path.Combine(_dir, "none"));
        var empty = Assert.Throws<InvalidDataException>(() => TextCorpus.Load(Path.Combine(_dir, "none")));
        Assert.Contains("holds no files", empty.Message);
    }

    [Fact]
    public void BadFraction_IsRefused()
    {
        string path = Write("t", "text");
        Assert.Throws<ArgumentOutOfRangeException>(() => TextCorpus.Load(path, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextCorpus.Load(path, double.NaN));
    }
}
