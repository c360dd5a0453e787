using System.Buffers;
using System.Text;
using Backprop.IO;

namespace Backprop.Data;

/// <summary>
/// Text as bytes, for byte-level language models: the vocabulary is the 256 byte values, so any
/// UTF-8 text (or any other encoding) is read as it is, with nothing to tokenise. Loaded from one file
/// or from a folder of files, and split into training and held-out validation bytes: the last
/// <see cref="ValidationFraction"/> of every file is validation, the rest training, so the split is
/// deterministic and every file is represented in both.
/// </summary>
/// <remarks>
/// A folder is read recursively in ordinal order of the relative paths; the training parts of all
/// files are concatenated in that order, and so are the validation parts. Skipped (and listed in
/// <see cref="Skipped"/>): hidden files and folders (names starting with '.'); empty files and
/// anything that is not a regular file (pipes, devices, sockets); binary files (see
/// <see cref="IsBinary"/>), such as the <c>.dat</c> indexes beside Debian's fortune files; and
/// symbolic links to a file the folder already holds (Debian's <c>cookie.u8 → cookie</c>), so no
/// text is read twice. A link to a file outside the folder is read.
/// </remarks>
/// <example>
/// <code>
/// TextCorpus corpus = TextCorpus.Load(TextCorpus.DefaultPath);             // Debian's fortunes
/// var train = TextWindows.Random(corpus.Training, context: 128, batchSize: 32, seed: 1);
/// var validation = TextWindows.Tiled(corpus.Validation, context: 128, batchSize: 64);
/// </code>
/// </example>
public sealed class TextCorpus
{
    /// <summary>Where Debian's <c>fortunes</c> package puts its fortune files (plain text and .dat indexes).</summary>
    public const string DefaultPath = "/usr/share/games/fortunes";

    /// <summary>The number of distinct tokens: every byte value is one.</summary>
    public const int VocabularySize = 256;

    /// <summary>The fraction of every file held out for validation when none is given.</summary>
    public const double DefaultValidationFraction = 0.1;

    private readonly byte[] _training, _validation;

    private TextCorpus(string path, byte[] training, byte[] validation, double fraction, List<string> files, List<string> skipped)
    {
        Path = path;
        _training = training;
        _validation = validation;
        ValidationFraction = fraction;
        Files = files;
        Skipped = skipped;
    }

    /// <summary>The file or folder the text came from, as given.</summary>
    public string Path { get; }

    /// <summary>The fraction of every file held out for validation.</summary>
    public double ValidationFraction { get; }

    /// <summary>The training bytes (the first part of every file, in file order).</summary>
    public ReadOnlyMemory<byte> Training => _training;

    /// <summary>The validation bytes (the last <see cref="ValidationFraction"/> of every file, in file order).</summary>
    public ReadOnlyMemory<byte> Validation => _validation;

    /// <summary>The files read, as full paths, in order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>What a folder load skipped, one line each ("art.dat: binary (NUL bytes)").</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Training and validation bytes together.</summary>
    public long TotalBytes => (long)_training.Length + _validation.Length;

    /// <summary>
    /// Reads a text file, or every text file in a folder (see the remarks of <see cref="TextCorpus"/>
    /// for what is skipped), and splits off the last <paramref name="validationFraction"/> of each file.
    /// </summary>
    /// <param name="path">A text file or a folder of text files.</param>
    /// <param name="validationFraction">In [0, 1): the share of each file's bytes (rounded down) held out for validation.</param>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/> (for <see cref="DefaultPath"/> the message says how to install it).</exception>
    /// <exception cref="InvalidDataException">
    /// The file is empty, not a regular file or binary; the folder holds no text file; or the text is
    /// larger than one array can hold. The message names the path.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="validationFraction"/> is outside [0, 1).</exception>
    public static TextCorpus Load(string path, double validationFraction = DefaultValidationFraction)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "TextCorpus: the validation fraction must be in [0, 1)");
        var files = new List<string>();
        var skipped = new List<string>();
        var contents = new List<byte[]>();
        if (Directory.Exists(path))
        {
            ReadFolder(path, files, skipped, contents);
            if (files.Count == 0)
                throw new InvalidDataException(skipped.Count == 0
                    ? $"{path}: the folder holds no files to read text from"
                    : $"{path}: the folder holds no text files (skipped {skipped.Count}: {string.Join("; ", skipped.Take(3))}{(skipped.Count > 3 ? "; …" : "")})");
        }
        else
        {
            if (!File.Exists(path))
                throw new FileNotFoundException(path == DefaultPath || path == DefaultPath + "/"
                    ? $"text not found: {path} (Debian's fortunes corpus; install it with `sudo apt-get install fortunes`, or pass another file or folder)"
                    : $"text not found: {path} (pass a text file or a folder of text files)", path);
            long length;
            try
            {
                length = InputFile.CheckRegular(path, "text");
            }
            catch (FileNotFoundException e)
            {
                throw new FileNotFoundException($"text not found: {path}", path, e);
            }
            CheckSize(path, length, 0);
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0)
                throw new InvalidDataException($"{path} is empty; there is no text to learn from");
            if (IsBinary(bytes) is string why)
                throw new InvalidDataException($"{path} is not text: {why}; pass a text file (UTF-8) or a folder of them");
            files.Add(System.IO.Path.GetFullPath(path));
            contents.Add(bytes);
        }
        long total = 0, held = 0;
        foreach (byte[] c in contents)
        {
            total += c.Length;
            held += ValidationBytes(c.Length, validationFraction);
        }
        var training = new byte[total - held];
        var validation = new byte[held];
        int t = 0, v = 0;
        foreach (byte[] c in contents)
        {
            int h = ValidationBytes(c.Length, validationFraction), keep = c.Length - h;
            c.AsSpan(0, keep).CopyTo(training.AsSpan(t));
            c.AsSpan(keep).CopyTo(validation.AsSpan(v));
            t += keep;
            v += h;
        }
        return new TextCorpus(path, training, validation, validationFraction, files, skipped);
    }

    /// <summary>Makes a corpus from bytes in memory (e.g. a string's UTF-8), split like a one-file load.</summary>
    /// <param name="text">The bytes.</param>
    /// <param name="validationFraction">In [0, 1): the share of the bytes (rounded down) held out at the end.</param>
    /// <param name="name">What <see cref="Path"/> reports.</param>
    public static TextCorpus FromBytes(ReadOnlySpan<byte> text, double validationFraction = DefaultValidationFraction, string name = "(memory)")
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "TextCorpus: the validation fraction must be in [0, 1)");
        int h = ValidationBytes(text.Length, validationFraction);
        return new TextCorpus(name, text[..^h].ToArray(), text[^h..].ToArray(), validationFraction, [], []);
    }

    /// <summary>
    /// Why <paramref name="bytes"/> is not text, or null if it is. Binary means: a NUL byte anywhere
    /// (text never holds one; fortune's .dat indexes, images and executables almost always do), or more
    /// than a tenth of the bytes being control characters other than tab, line breaks, form feed,
    /// backspace and escape, or bytes that are not part of a valid UTF-8 sequence (random data; text in
    /// a legacy 8-bit encoding has far fewer).
    /// </summary>
    public static string? IsBinary(ReadOnlySpan<byte> bytes)
    {
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
            return $"it holds NUL bytes (the first at offset {nul}), as binary files do";
        if (System.Text.Unicode.Utf8.IsValid(bytes) && !HasManyControls(bytes))
            return null;
        long odd = 0;
        for (int i = 0; i < bytes.Length;)
        {
            OperationStatus status = Rune.DecodeFromUtf8(bytes[i..], out Rune rune, out int used);
            if (status != OperationStatus.Done || (rune.Value < 32 && !IsTextControl(rune.Value)) || rune.Value == 127)
                odd += used;
            i += Math.Max(used, 1);
        }
        return odd * 10 > bytes.Length
            ? $"{odd} of its {bytes.Length} bytes are control characters or not UTF-8, as in binary data"
            : null;
    }

    private static bool HasManyControls(ReadOnlySpan<byte> bytes)
    {
        long controls = 0;
        foreach (byte b in bytes)
            if ((b < 32 && !IsTextControl(b)) || b == 127) controls++;
        return controls * 10 > bytes.Length;
    }

    private static bool IsTextControl(int c) => c is '\t' or '\n' or '\v' or '\f' or '\r' or '\b' or 0x1B;

    private static int ValidationBytes(int length, double fraction) => (int)Math.Floor(length * fraction);

    private static void CheckSize(string path, long fileLength, long soFar)
    {
        if (fileLength + soFar > Array.MaxLength)
            throw new InvalidDataException($"{path}: {fileLength + soFar:N0} bytes of text is more than one array can hold ({Array.MaxLength:N0} bytes); use a smaller text");
    }

    /// <summary>The text files under <paramref name="folder"/>: regular files first (deduplicating by target), then links to files not read yet.</summary>
    private static void ReadFolder(string folder, List<string> files, List<string> skipped, List<byte[]> contents)
    {
        string root = System.IO.Path.GetFullPath(folder);
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.Hidden,
            IgnoreInaccessible = false,
            ReturnSpecialDirectories = false,
        };
        List<string> entries;
        try
        {
            entries = [.. Directory.EnumerateFiles(root, "*", options)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{folder}: cannot list the folder: {e.Message}", e);
        }
        entries.Sort(StringComparer.Ordinal);

        // Regular files first, so a link is recognised as a duplicate whether it sorts before or after its target.
        var read = new Dictionary<string, string>(StringComparer.Ordinal); // real path -> relative name
        var links = new List<string>();
        var included = new List<(string Path, byte[] Bytes)>();
        long total = 0;
        foreach (string entry in entries)
        {
            var info = new FileInfo(entry);
            if (info.LinkTarget is not null) { links.Add(entry); continue; }
            if (Read(entry, info, root, skipped, ref total) is byte[] bytes)
            {
                read[entry] = Relative(root, entry);
                included.Add((entry, bytes));
            }
        }
        foreach (string link in links)
        {
            FileSystemInfo? target;
            try
            {
                target = new FileInfo(link).ResolveLinkTarget(returnFinalTarget: true);
            }
            catch (IOException)
            {
                skipped.Add($"{Relative(root, link)}: a link that cannot be followed");
                continue;
            }
            if (target is not FileInfo file || !file.Exists)
            {
                skipped.Add($"{Relative(root, link)}: a link to nothing readable");
                continue;
            }
            string real = file.FullName;
            if (read.TryGetValue(real, out string? original))
            {
                skipped.Add($"{Relative(root, link)}: a link to {original}, read already");
                continue;
            }
            if (Read(link, file, root, skipped, ref total) is byte[] bytes)
            {
                read[real] = Relative(root, link);
                included.Add((link, bytes));
            }
        }
        included.Sort((a, b) => StringComparer.Ordinal.Compare(a.Path, b.Path));
        foreach (var (path, bytes) in included)
        {
            files.Add(path);
            contents.Add(bytes);
        }
    }

    /// <summary>A folder entry's bytes, or null (and a line in <paramref name="skipped"/>) when it is not a text file.</summary>
    private static byte[]? Read(string entry, FileInfo info, string root, List<string> skipped, ref long total)
    {
        string name = Relative(root, entry);
        // Pipes, sockets and devices report a length of 0 and are never opened (a pipe would block).
        if (info.Length == 0)
        {
            skipped.Add($"{name}: empty or not a regular file");
            return null;
        }
        CheckSize(entry, info.Length, total);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(entry);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            skipped.Add($"{name}: cannot be read ({e.Message})");
            return null;
        }
        if (IsBinary(bytes) is string why)
        {
            skipped.Add($"{name}: binary ({why})");
            return null;
        }
        total += bytes.Length;
        return bytes;
    }

    private static string Relative(string root, string path) => System.IO.Path.GetRelativePath(root, path);
}
