using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Backprop.Tensors;

namespace Backprop.IO;

/// <summary>
/// Named tensors plus string metadata in one file, written crash-safely: the bytes go to a
/// temporary file in the same directory, are flushed to disk, and only then renamed over the
/// target, so an interrupted save leaves the previous file intact. A trailing XxHash64 checksum
/// lets a truncated or corrupted file be refused.
/// </summary>
/// <remarks>
/// Layout (little-endian): "BPCKPT01", int32 tensor count, per tensor: name, dtype byte (0 float32,
/// 1 float64, 2 int64, 3 bool: a code older files never hold, so they still load), int32 rank, int32
/// dims, raw elements (a bool is one byte, 0 or 1); int32 metadata count, per entry: key, value (strings are int32
/// byte length + UTF-8); then the 8-byte checksum of everything before it.
/// </remarks>
public sealed class Checkpoint
{
    private static readonly byte[] Magic = "BPCKPT01"u8.ToArray();

    /// <summary>
    /// Test hook for the calling thread: runs with the temporary file's path once the tensors are
    /// written and flushed to it, before the metadata, the checksum and the rename, so a test sees
    /// the disk as a kill at that moment would leave it, and a hook that throws stands in for a
    /// crash in the middle of a save. Same moment as <see cref="SavePoint.MidWrite"/>.
    /// </summary>
    [ThreadStatic] internal static Action<string>? InterruptSaveForTests;

    /// <summary>
    /// Test hook for the calling thread: runs at each <see cref="SavePoint"/> of a save with the
    /// temporary file's path; a hook that throws stands in for a crash at that point, and what is on
    /// disk while it runs is what a kill at that point would leave.
    /// </summary>
    [ThreadStatic] internal static Action<SavePoint, string>? SaveFaultForTests;

    /// <summary>The points inside <see cref="Save"/> where <see cref="SaveFaultForTests"/> runs.</summary>
    internal enum SavePoint
    {
        /// <summary>The temporary file exists, empty.</summary>
        BeforeWrite,
        /// <summary>The tensors are written and flushed; the metadata and checksum are not.</summary>
        MidWrite,
        /// <summary>The temporary file is complete and on disk; the target still holds the previous file.</summary>
        BeforeRename,
        /// <summary>The new file has replaced the target (the temporary path no longer exists).</summary>
        AfterRename,
    }

    // Temporary files this process is writing now: the stale-file sweep must never take them.
    private static readonly ConcurrentDictionary<string, byte> ActiveTemps = new(StringComparer.Ordinal);

    /// <summary>Creates a checkpoint in memory.</summary>
    public Checkpoint(List<KeyValuePair<string, Tensor>> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The tensors, in file order.</summary>
    public List<KeyValuePair<string, Tensor>> Tensors { get; }

    /// <summary>String metadata (epoch, model name, ...).</summary>
    public Dictionary<string, string> Metadata { get; }

    /// <summary>Tensors whose names start with <paramref name="prefix"/>, with the prefix removed.</summary>
    public List<KeyValuePair<string, Tensor>> WithPrefix(string prefix)
    {
        var result = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, t) in Tensors)
            if (name.StartsWith(prefix, StringComparison.Ordinal)) result.Add(new(name[prefix.Length..], t));
        return result;
    }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    public Tensor Get(string name)
    {
        foreach (var (n, t) in Tensors) if (n == name) return t;
        throw new KeyNotFoundException($"Checkpoint: no tensor named '{name}'");
    }

    /// <summary>
    /// Writes the checkpoint atomically (temp file, flush to disk, rename). Temporary files that a
    /// crashed save left in the same folder (<c>.NAME.ckpt.PID.tmp</c>) are removed first.
    /// </summary>
    /// <exception cref="IOException">The file could not be written; any previous file at <paramref name="path"/> is untouched.</exception>
    public void Save(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        ActiveTemps[temp] = 0;
        try
        {
            RemoveStaleTemps(dir, Path.GetFileName(full));
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                SaveFaultForTests?.Invoke(SavePoint.BeforeWrite, temp);
                var hash = new XxHash64();
                void Write(ReadOnlySpan<byte> bytes)
                {
                    hash.Append(bytes);
                    stream.Write(bytes);
                }
                Write(Magic);
                WriteInt(Write, Tensors.Count);
                foreach (var (name, tensor) in Tensors)
                {
                    WriteString(Write, name);
                    Write([(byte)tensor.DType]);
                    WriteInt(Write, tensor.Rank);
                    for (int d = 0; d < tensor.Rank; d++) WriteInt(Write, tensor.Shape[d]);
                    Tensor c = tensor.Contiguous();
                    switch (c.DType)
                    {
                        case DType.Float32: Write(MemoryMarshal.AsBytes(c.ReadOnlyElements<float>())); break;
                        case DType.Float64: Write(MemoryMarshal.AsBytes(c.ReadOnlyElements<double>())); break;
                        case DType.Int64: Write(MemoryMarshal.AsBytes(c.ReadOnlyElements<long>())); break;
                        default: Write(MemoryMarshal.AsBytes(c.ReadOnlyElements<bool>())); break; // one byte, 0 or 1
                    }
                }
                if (InterruptSaveForTests is not null || SaveFaultForTests is not null)
                {
                    stream.Flush();
                    InterruptSaveForTests?.Invoke(temp);
                    SaveFaultForTests?.Invoke(SavePoint.MidWrite, temp);
                }
                WriteInt(Write, Metadata.Count);
                foreach (var (key, value) in Metadata)
                {
                    WriteString(Write, key);
                    WriteString(Write, value);
                }
                Span<byte> digest = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(digest, hash.GetCurrentHashAsUInt64());
                stream.Write(digest);
                stream.Flush(flushToDisk: true);
            }
            SaveFaultForTests?.Invoke(SavePoint.BeforeRename, temp);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new IOException($"Checkpoint: could not save {full}: {e.Message}. Any previous checkpoint at that path is unchanged.", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        finally
        {
            ActiveTemps.TryRemove(temp, out _);
        }
        // Outside the try: once renamed, a failure must not claim the previous file is unchanged.
        SaveFaultForTests?.Invoke(SavePoint.AfterRename, temp);
    }

    /// <summary>
    /// Deletes what a save killed mid-way left in <paramref name="dir"/>: files named like this
    /// class's temporary files (<c>.NAME.PID.tmp</c> where NAME ends in .ckpt or is
    /// <paramref name="fileName"/>) that are empty or start with the checkpoint header, whose
    /// process is gone (or is this one, not writing it now), and that no writer holds open.
    /// Best effort: a file that cannot be checked or deleted is left alone.
    /// </summary>
    private static void RemoveStaleTemps(string dir, string fileName)
    {
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(dir, ".*.tmp"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        try
        {
            foreach (string candidate in candidates)
            {
                if (!IsTempName(Path.GetFileName(candidate), fileName, out int pid)) continue;
                if (pid == Environment.ProcessId ? ActiveTemps.ContainsKey(candidate) : IsRunning(pid)) continue;
                try
                {
                    if (LooksLikeOurTemp(candidate)) File.Delete(candidate);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // locked by a writer, or not ours to delete
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the folder could not be listed
    }

    /// <summary>True for ".NAME.PID.tmp" where NAME ends in ".ckpt" or is <paramref name="fileName"/>.</summary>
    internal static bool IsTempName(string name, string fileName, out int pid)
    {
        pid = 0;
        if (!name.StartsWith('.') || !name.EndsWith(".tmp", StringComparison.Ordinal) || name.Length < 7) return false;
        string middle = name[1..^4];
        int dot = middle.LastIndexOf('.');
        if (dot <= 0) return false;
        string pidText = middle[(dot + 1)..];
        if (pidText.Length is 0 or > 9 || !pidText.All(char.IsAsciiDigit)) return false;
        string target = middle[..dot];
        if (!target.EndsWith(".ckpt", StringComparison.Ordinal) && target != fileName) return false;
        pid = int.Parse(pidText, System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }

    internal static bool IsRunning(int pid)
    {
        if (OperatingSystem.IsBrowser()) return true; // no process list to ask: keep the file, as when the platform refuses below
        try
        {
            using Process p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; } // no such process
        catch (InvalidOperationException) { return false; }
        catch (Exception e) when (e is PlatformNotSupportedException or System.ComponentModel.Win32Exception) { return true; }
    }

    private static bool LooksLikeOurTemp(string path)
    {
        // FileShare.None takes an exclusive lock (flock on Unix): it fails while a writer has the file open.
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
        Span<byte> head = stackalloc byte[8];
        int got = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return got == 0 || got == head.Length && head.SequenceEqual(Magic);
    }

    internal static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void WriteInt(Action<ReadOnlySpan<byte>> write, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        write(b);
    }

    private static void WriteString(Action<ReadOnlySpan<byte>> write, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        WriteInt(write, bytes.Length);
        write(bytes);
    }

    /// <summary>Reads and verifies a checkpoint.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// The path is not a regular non-empty file (a directory, pipe or device), or the file is not a
    /// checkpoint, or is truncated or corrupted; the message names the file and the field.
    /// </exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static Checkpoint Load(string path) => Read(path);

    /// <summary>Reads a checkpoint, returning false with a message (naming the file) instead of throwing.</summary>
    public static bool TryLoad(string path, out Checkpoint? checkpoint, out string? error)
    {
        try
        {
            checkpoint = Read(path);
            error = null;
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            checkpoint = null;
            error = e is InvalidDataException or FileNotFoundException ? e.Message : $"Checkpoint: could not read {path}: {e.Message}";
            return false;
        }
    }

    private static Checkpoint Read(string path)
    {
        long length;
        try
        {
            length = InputFile.CheckRegular(path, "checkpoint");
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"Checkpoint: file not found: {path}", path, e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Checkpoint: {e.Message}", e);
        }
        if (length > Array.MaxLength)
            throw new InvalidDataException($"Checkpoint: {path} is {length} bytes, more than a checkpoint can hold ({Array.MaxLength}); it is not a backprop checkpoint");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        // The header is checked before a buffer the size of the file is made.
        Span<byte> head = stackalloc byte[Magic.Length];
        int got = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (length < Magic.Length + 8 || got < head.Length || !head.SequenceEqual(Magic))
            throw new InvalidDataException(
                $"Checkpoint: {path} is not a backprop checkpoint (missing the BPCKPT01 header) or is truncated ({length} bytes)");
        var bytes = new byte[length];
        head.CopyTo(bytes);
        got = head.Length + file.ReadAtLeast(bytes.AsSpan(head.Length), bytes.Length - head.Length, throwOnEndOfStream: false);
        if (got < bytes.Length || file.ReadByte() >= 0)
            throw new InvalidDataException($"Checkpoint: {path} changed size while it was read ({length} bytes expected); it cannot be loaded");
        ReadOnlySpan<byte> body = bytes.AsSpan(0, bytes.Length - 8);
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8));
        if (XxHash64.HashToUInt64(body) != stored)
            throw new InvalidDataException($"Checkpoint: {path} is corrupted or truncated (checksum mismatch); it cannot be loaded. Use an earlier checkpoint.");
        try
        {
            return Parse(body);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Checkpoint: {path} is malformed: {e.Message}", e);
        }
    }

    // Every count and length is checked against the bytes that remain before anything is sized
    // from it, so a file whose checksum matches but whose fields lie allocates no more than its size.
    private static Checkpoint Parse(ReadOnlySpan<byte> body)
    {
        int pos = Magic.Length;
        // Smallest entries: a tensor is a name length, a dtype byte and a rank (9 bytes); a metadata entry two lengths (8).
        int count = ReadCount(body, ref pos, "tensor count", 9);
        var tensors = new List<KeyValuePair<string, Tensor>>(count);
        for (int i = 0; i < count; i++)
        {
            string name = ReadString(body, ref pos, $"the name of tensor {i}");
            if (pos >= body.Length) throw new InvalidDataException($"unexpected end of data in the dtype of '{name}'");
            byte code = body[pos++];
            if (code > (byte)DType.Bool) throw new InvalidDataException($"unknown dtype code {code} for '{name}'");
            var dtype = (DType)code;
            int rank = ReadCount(body, ref pos, $"rank of '{name}'", 4);
            var dims = new int[rank];
            for (int d = 0; d < rank; d++)
            {
                dims[d] = ReadInt(body, ref pos, $"dimension {d} of '{name}'");
                if (dims[d] < 0) throw new InvalidDataException($"dimension {d} of '{name}' is negative ({dims[d]})");
            }
            int byteCount = DataBytes(dims, dtype.ElementSize(), body.Length - pos, name);
            var shape = new Shape(dims);
            ReadOnlySpan<byte> data = body.Slice(pos, byteCount);
            pos += byteCount;
            Tensor t = dtype switch
            {
                DType.Float32 => Tensor.WrapArray(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
                DType.Float64 => Tensor.WrapArray(MemoryMarshal.Cast<byte, double>(data).ToArray(), shape),
                DType.Int64 => Tensor.WrapArray(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
                _ => Tensor.WrapArray(ReadBools(data, name), shape),
            };
            tensors.Add(new(name, t));
        }
        int metaCount = ReadCount(body, ref pos, "metadata count", 8);
        var metadata = new Dictionary<string, string>(metaCount);
        for (int i = 0; i < metaCount; i++)
        {
            string key = ReadString(body, ref pos, $"metadata key {i}");
            metadata[key] = ReadString(body, ref pos, $"the value of metadata '{key}'");
        }
        if (pos != body.Length) throw new InvalidDataException($"{body.Length - pos} unexpected trailing bytes");
        return new Checkpoint(tensors, metadata);
    }

    /// <summary>A bool tensor's bytes, each 0 or 1: any other byte is not a bool this format wrote.</summary>
    private static bool[] ReadBools(ReadOnlySpan<byte> data, string name)
    {
        int bad = data.IndexOfAnyExcept((byte)0, (byte)1);
        if (bad >= 0) throw new InvalidDataException($"element {bad} of the bool tensor '{name}' is the byte {data[bad]}, not 0 or 1");
        return MemoryMarshal.Cast<byte, bool>(data).ToArray();
    }

    /// <summary>
    /// Bytes of a tensor's elements, refused when a partial product of the dimensions passes what a
    /// tensor holds (the rule <see cref="Shape"/> applies, even when a later dimension is 0) or the
    /// elements need more than the <paramref name="remaining"/> bytes.
    /// </summary>
    private static int DataBytes(int[] dims, int elementSize, int remaining, string name)
    {
        long elements = 1;
        foreach (int d in dims)
        {
            elements *= d; // both factors are at most 2^31 here, so no long overflow
            if (elements > int.MaxValue)
                throw new InvalidDataException($"the shape [{string.Join(", ", dims)}] of '{name}' has more elements than a tensor holds");
        }
        long bytes = elements * elementSize;
        if (bytes > remaining)
            throw new InvalidDataException($"the shape [{string.Join(", ", dims)}] of '{name}' needs {bytes} bytes but only {remaining} are left in the file");
        return (int)bytes;
    }

    private static int ReadInt(ReadOnlySpan<byte> body, ref int pos, string field)
    {
        if (body.Length - pos < 4) throw new InvalidDataException($"unexpected end of data in the {field}");
        int v = BinaryPrimitives.ReadInt32LittleEndian(body[pos..]);
        pos += 4;
        return v;
    }

    /// <summary>Reads a count whose entries take at least <paramref name="minEntryBytes"/> each, refused when negative or larger than the bytes left allow.</summary>
    private static int ReadCount(ReadOnlySpan<byte> body, ref int pos, string field, int minEntryBytes)
    {
        int v = ReadInt(body, ref pos, field);
        if (v < 0) throw new InvalidDataException($"the {field} is negative ({v})");
        if (v > (body.Length - pos) / minEntryBytes)
            throw new InvalidDataException($"the {field} is {v}, more than the {body.Length - pos} bytes left in the file can hold");
        return v;
    }

    private static string ReadString(ReadOnlySpan<byte> body, ref int pos, string field)
    {
        int length = ReadInt(body, ref pos, $"length of {field}");
        if (length < 0 || length > body.Length - pos)
            throw new InvalidDataException($"bad string length {length} for {field} ({body.Length - pos} bytes left)");
        string s = Encoding.UTF8.GetString(body.Slice(pos, length));
        pos += length;
        return s;
    }
}
