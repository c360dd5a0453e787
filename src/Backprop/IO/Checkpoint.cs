using System.Buffers.Binary;
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
/// Layout (little-endian): "BPCKPT01", int32 tensor count, per tensor: name, dtype byte, int32
/// rank, int32 dims, raw elements; int32 metadata count, per entry: key, value (strings are int32
/// byte length + UTF-8); then the 8-byte checksum of everything before it.
/// </remarks>
public sealed class Checkpoint
{
    private static readonly byte[] Magic = "BPCKPT01"u8.ToArray();

    /// <summary>
    /// Test hook for the calling thread: runs with the temporary file's path once the tensors are
    /// written and flushed to it, before the metadata, the checksum and the rename, so a test sees
    /// the disk as a kill at that moment would leave it, and a hook that throws stands in for a
    /// crash in the middle of a save.
    /// </summary>
    [ThreadStatic] internal static Action<string>? InterruptSaveForTests;

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

    /// <summary>Writes the checkpoint atomically (temp file, flush to disk, rename).</summary>
    /// <exception cref="IOException">The file could not be written; any previous file at <paramref name="path"/> is untouched.</exception>
    public void Save(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
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
                        default: Write(MemoryMarshal.AsBytes(c.ReadOnlyElements<long>())); break;
                    }
                }
                if (InterruptSaveForTests is { } interrupt)
                {
                    stream.Flush();
                    interrupt(temp);
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
    }

    private static void TryDelete(string path)
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
    /// <exception cref="InvalidDataException">The file is not a checkpoint, or is truncated or corrupted.</exception>
    public static Checkpoint Load(string path)
    {
        if (!TryLoad(path, out Checkpoint? checkpoint, out string? error))
        {
            if (!File.Exists(path)) throw new FileNotFoundException(error, path);
            throw new InvalidDataException(error);
        }
        return checkpoint!;
    }

    /// <summary>Reads a checkpoint, returning false with a message instead of throwing.</summary>
    public static bool TryLoad(string path, out Checkpoint? checkpoint, out string? error)
    {
        checkpoint = null;
        if (!File.Exists(path))
        {
            error = $"Checkpoint: file not found: {path}";
            return false;
        }
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length + 8 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            error = $"Checkpoint: {path} is not a backprop checkpoint (missing the BPCKPT01 header) or is truncated ({bytes.Length} bytes)";
            return false;
        }
        ReadOnlySpan<byte> body = bytes.AsSpan(0, bytes.Length - 8);
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8));
        if (XxHash64.HashToUInt64(body) != stored)
        {
            error = $"Checkpoint: {path} is corrupted or truncated (checksum mismatch); it cannot be loaded. Use an earlier checkpoint.";
            return false;
        }
        try
        {
            int pos = Magic.Length;
            int count = ReadInt(body, ref pos);
            var tensors = new List<KeyValuePair<string, Tensor>>(count);
            for (int i = 0; i < count; i++)
            {
                string name = ReadString(body, ref pos);
                var dtype = (DType)body[pos++];
                int rank = ReadInt(body, ref pos);
                var dims = new int[rank];
                for (int d = 0; d < rank; d++) dims[d] = ReadInt(body, ref pos);
                var shape = new Shape(dims);
                int byteCount = checked(shape.Numel * dtype.ElementSize());
                ReadOnlySpan<byte> data = body.Slice(pos, byteCount);
                pos += byteCount;
                Tensor t = dtype switch
                {
                    DType.Float32 => Tensor.WrapArray(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
                    DType.Float64 => Tensor.WrapArray(MemoryMarshal.Cast<byte, double>(data).ToArray(), shape),
                    DType.Int64 => Tensor.WrapArray(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
                    _ => throw new InvalidDataException($"unknown dtype code {(int)dtype} for '{name}'"),
                };
                tensors.Add(new(name, t));
            }
            int metaCount = ReadInt(body, ref pos);
            var metadata = new Dictionary<string, string>(metaCount);
            for (int i = 0; i < metaCount; i++)
            {
                string key = ReadString(body, ref pos);
                metadata[key] = ReadString(body, ref pos);
            }
            if (pos != body.Length) throw new InvalidDataException($"{body.Length - pos} unexpected trailing bytes");
            checkpoint = new Checkpoint(tensors, metadata);
            error = null;
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or OverflowException or IndexOutOfRangeException)
        {
            error = $"Checkpoint: {path} is malformed: {e.Message}";
            return false;
        }
    }

    private static int ReadInt(ReadOnlySpan<byte> body, ref int pos)
    {
        if (pos + 4 > body.Length) throw new InvalidDataException("unexpected end of data");
        int v = BinaryPrimitives.ReadInt32LittleEndian(body[pos..]);
        pos += 4;
        return v;
    }

    private static string ReadString(ReadOnlySpan<byte> body, ref int pos)
    {
        int length = ReadInt(body, ref pos);
        if (length < 0 || pos + length > body.Length) throw new InvalidDataException($"bad string length {length}");
        string s = Encoding.UTF8.GetString(body.Slice(pos, length));
        pos += length;
        return s;
    }
}
