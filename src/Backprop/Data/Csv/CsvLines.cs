namespace Backprop.Data.Csv;

/// <summary>
/// Reads the lines of a text one at a time into a reused buffer (\n, \r\n or \r end a line), counting
/// them; a line longer than <see cref="CsvReader.MaxLineChars"/> is refused before it fills memory.
/// Errors of the underlying stream (a broken gzip file, an I/O failure) become InvalidDataExceptions naming the source.
/// </summary>
internal sealed class CsvLines(TextReader reader, string source)
{
    private char[] _buffer = new char[1 << 14];
    private int _start, _end;
    private bool _eof;

    /// <summary>The number of the line last read, from 1.</summary>
    public int LineNumber { get; private set; }

    /// <summary>The next line (without its end), valid until the next call; false at the end of the text.</summary>
    public bool TryRead(out ReadOnlySpan<char> line)
    {
        int scanned = 0; // characters after _start known to hold no line end
        while (true)
        {
            int available = _end - _start;
            int found = _buffer.AsSpan(_start + scanned, available - scanned).IndexOfAny('\r', '\n');
            if (found >= 0)
            {
                int length = scanned + found;
                int end = _start + length;
                if (_buffer[end] == '\r' && end + 1 == _end && !_eof)
                {
                    scanned = length; // a \r at the buffer's end: read on to see whether \n follows
                    Fill();
                    continue;
                }
                int skip = _buffer[end] == '\r' && end + 1 < _end && _buffer[end + 1] == '\n' ? 2 : 1;
                line = _buffer.AsSpan(_start, length);
                _start = end + skip;
                LineNumber++;
                return true;
            }
            scanned = available;
            if (_eof)
            {
                line = _buffer.AsSpan(_start, available);
                _start = _end;
                if (available == 0) return false;
                LineNumber++;
                return true;
            }
            if (available > CsvReader.MaxLineChars)
                throw new InvalidDataException(
                    $"{source}, line {LineNumber + 1}: the line is longer than {CsvReader.MaxLineChars} characters; this does not look like a CSV file of numbers");
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        int read;
        try
        {
            read = reader.Read(_buffer, _end, _buffer.Length - _end);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source}: the compressed data is damaged ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new InvalidDataException($"{source}: the file could not be read ({e.Message})", e);
        }
        if (read == 0) _eof = true;
        else _end += read;
    }
}

/// <summary>One field of a line: where it starts and how long it is (inside the quotes for a quoted field).</summary>
internal readonly record struct CsvField(int Start, int Length, bool Quoted)
{
    /// <summary>The field's characters in <paramref name="line"/>.</summary>
    public ReadOnlySpan<char> In(ReadOnlySpan<char> line) => line.Slice(Start, Length);
}

/// <summary>Splits a line into fields (RFC 4180 quoting within a line, blanks around fields trimmed).</summary>
internal static class CsvSplit
{
    /// <summary>The delimiter value meaning "runs of spaces and tabs".</summary>
    public const char Whitespace = ' ';

    /// <summary>
    /// Splits <paramref name="line"/> into <paramref name="fields"/> (cleared first), stopping once there are more
    /// than <paramref name="maxFields"/>. Returns null, or what is wrong with the line's quoting.
    /// </summary>
    public static string? Split(ReadOnlySpan<char> line, char delimiter, List<CsvField> fields, int maxFields)
    {
        fields.Clear();
        int n = line.Length, i = 0;
        bool whitespace = delimiter == Whitespace;
        while (fields.Count <= maxFields)
        {
            while (i < n && IsBlank(line[i]) && (whitespace || line[i] != delimiter)) i++; // leading blanks
            if (whitespace && i == n) return null;
            if (i < n && line[i] == '"')
            {
                int start = ++i;
                while (true)
                {
                    if (i >= n) return "a quoted field is not closed (a quoted field cannot span lines)";
                    if (line[i] == '"')
                    {
                        if (i + 1 < n && line[i + 1] == '"') { i += 2; continue; }
                        break;
                    }
                    i++;
                }
                fields.Add(new CsvField(start, i - start, true));
                i++;
                while (i < n && IsBlank(line[i]) && (whitespace || line[i] != delimiter)) i++;
                if (i == n) return null;
                if (!whitespace && line[i] != delimiter)
                    return $"unexpected text after the closing quote of field {fields.Count} (character {i + 1})";
                if (!whitespace) i++;
                continue;
            }
            int end = i;
            while (end < n && (whitespace ? !IsBlank(line[end]) : line[end] != delimiter)) end++;
            int trimmed = end;
            while (trimmed > i && IsBlank(line[trimmed - 1])) trimmed--;
            fields.Add(new CsvField(i, trimmed - i, false));
            if (end == n) return null;
            i = end + (whitespace ? 0 : 1);
        }
        return null;
    }

    /// <summary>A space or a tab.</summary>
    public static bool IsBlank(char c) => c == ' ' || c == '\t';

    /// <summary>True when the line holds only blanks.</summary>
    public static bool IsBlankLine(ReadOnlySpan<char> line)
    {
        foreach (char c in line)
            if (!IsBlank(c)) return false;
        return true;
    }

    /// <summary>The delimiter of a file whose first line is <paramref name="line"/>: a comma, tab or semicolon (first found in that order), else whitespace.</summary>
    public static char Detect(ReadOnlySpan<char> line)
    {
        if (line.Contains(',')) return ',';
        if (line.Contains('\t')) return '\t';
        if (line.Contains(';')) return ';';
        return line.Trim().IndexOfAny(' ', '\t') >= 0 ? Whitespace : ',';
    }
}
