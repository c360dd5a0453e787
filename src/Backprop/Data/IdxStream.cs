using System.Buffers.Binary;
using System.IO.Compression;

namespace Backprop.Data;

/// <summary>
/// An open IDX file (raw or gzip-compressed, detected from the content) whose header has been
/// read; the data bytes are then read in chunks, so a large file never sits in memory whole.
/// </summary>
public sealed class IdxStream : IDisposable
{
    private readonly Stream _file;
    private readonly Stream _data;
    private long _remaining;

    private IdxStream(string path, Stream file, Stream data, int magic, int[] dims, long count)
    {
        Path = path;
        _file = file;
        _data = data;
        Magic = magic;
        Dims = dims;
        Count = count;
        _remaining = count;
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The magic number (2051 for MNIST images, 2049 for labels).</summary>
    public int Magic { get; }

    /// <summary>The dimensions from the header.</summary>
    public int[] Dims { get; }

    /// <summary>Number of data bytes (the product of the dimensions).</summary>
    public long Count { get; }

    /// <summary>Opens a file and reads its header; only unsigned-byte data is supported.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Bad magic number, unsupported type, or a truncated header.</exception>
    public static IdxStream Open(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file not found: {path}", path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            Span<byte> probe = stackalloc byte[2];
            int got = file.ReadAtLeast(probe, 2, throwOnEndOfStream: false);
            file.Position = 0;
            Stream data = got == 2 && probe[0] == 0x1f && probe[1] == 0x8b ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
            var (magic, dims, count) = ReadHeader(data, path);
            return new IdxStream(path, file, data, magic, dims, count);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static (int Magic, int[] Dims, long Count) ReadHeader(Stream data, string path)
    {
        Span<byte> head = stackalloc byte[4];
        int got = ReadFully(data, head, path);
        if (got < 4)
            throw new InvalidDataException($"{path}: too short for an IDX header ({got} bytes)");
        int magic = BinaryPrimitives.ReadInt32BigEndian(head);
        if (head[0] != 0 || head[1] != 0)
            throw new InvalidDataException($"{path}: bad magic number 0x{magic:X8}; an IDX file starts with two zero bytes (MNIST images use 2051, labels 2049)");
        if (head[2] != 0x08)
            throw new InvalidDataException($"{path}: element type 0x{head[2]:X2} is not supported (only 0x08, unsigned byte)");
        int rank = head[3];
        Span<byte> dimBytes = stackalloc byte[4 * 255];
        dimBytes = dimBytes[..(4 * rank)];
        int dimGot = ReadFully(data, dimBytes, path);
        if (rank == 0 || dimGot < dimBytes.Length)
            throw new InvalidDataException($"{path}: header declares {rank} dimensions but the file is only {4 + dimGot} bytes");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(dimBytes[(4 * d)..]);
            if (dims[d] < 0) throw new InvalidDataException($"{path}: dimension {d} is negative ({dims[d]})");
            count *= dims[d];
        }
        return (magic, dims, count);
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> with the next data bytes (fewer only at the end of the data);
    /// returns how many were read. After the last byte it checks that nothing follows.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is truncated, followed by extra bytes, or the gzip stream is corrupt.</exception>
    public int Read(Span<byte> buffer)
    {
        int want = (int)Math.Min(buffer.Length, _remaining);
        int got = ReadFully(_data, buffer[..want], Path);
        _remaining -= got;
        if (got < want)
            throw new InvalidDataException(
                $"{Path}: truncated, the header [{string.Join(", ", Dims)}] needs {Count} data bytes but only {Count - _remaining} follow");
        if (_remaining == 0 && want > 0 || Count == 0)
            CheckEnd();
        return got;
    }

    private void CheckEnd()
    {
        Span<byte> extra = stackalloc byte[4096];
        long more = 0;
        int n;
        while ((n = ReadFully(_data, extra, Path)) > 0) more += n;
        if (more > 0)
            throw new InvalidDataException($"{Path}: {more} unexpected bytes after the {Count} data bytes declared by the header [{string.Join(", ", Dims)}]");
    }

    private static int ReadFully(Stream s, Span<byte> buffer, string path)
    {
        try
        {
            return s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: the gzip stream is corrupt or truncated ({e.Message})", e);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!ReferenceEquals(_data, _file)) _data.Dispose();
        _file.Dispose();
    }
}
