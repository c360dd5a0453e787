using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.IO;

namespace Backprop.Data;

/// <summary>
/// An open IDX file (raw or gzip-compressed, detected from the content) whose header has been
/// read and checked; the data bytes are then read in chunks, so a large file never sits in memory whole.
/// </summary>
/// <remarks>
/// Nothing is allocated from a header before it is checked against the file: a raw file must hold
/// exactly the bytes its dimensions declare, and a gzip file cannot declare more than deflate can
/// expand its size to. The decompressed size of a gzip file is only known once it has been read, so
/// <see cref="ReadAll{T}"/> grows its buffer as the bytes arrive (starting at the size the gzip
/// trailer gives when that agrees with the header) instead of trusting the header.
/// </remarks>
public sealed class IdxStream : IDisposable
{
    // Deflate's densest code turns 2 bits into 258 bytes, so a gzip file inflates to at most 1032 times its size.
    private const long MaxDeflateRatio = 1032;
    private const int Chunk = 1 << 14;
    private readonly Stream _file;
    private readonly Stream _data;
    private readonly long _initialCapacity;
    private long _remaining;

    private IdxStream(string path, Stream file, Stream data, int magic, int[] dims, long count, long initialCapacity)
    {
        Path = path;
        _file = file;
        _data = data;
        Magic = magic;
        Dims = dims;
        Count = count;
        _remaining = count;
        _initialCapacity = initialCapacity;
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The magic number (2051 for MNIST images, 2049 for labels).</summary>
    public int Magic { get; }

    /// <summary>The dimensions from the header.</summary>
    public int[] Dims { get; }

    /// <summary>Number of data bytes (the product of the dimensions); at most <see cref="Array.MaxLength"/>.</summary>
    public long Count { get; }

    /// <summary>Opens a file and reads its header; only unsigned-byte data is supported.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">
    /// Not a regular non-empty file (a directory, pipe or device), bad magic number, unsupported type,
    /// a truncated header, dimensions whose product does not fit in an array, or (for a raw file) a
    /// length that differs from what the header declares.
    /// </exception>
    public static IdxStream Open(string path)
    {
        long length = InputFile.CheckRegular(path, "IDX");
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            Span<byte> probe = stackalloc byte[4];
            int got = file.ReadAtLeast(probe[..2], 2, throwOnEndOfStream: false);
            bool gzip = got == 2 && probe[0] == 0x1f && probe[1] == 0x8b;
            uint trailerSize = 0; // gzip's ISIZE: the uncompressed length mod 2^32 (of the last member only)
            if (gzip && length >= 8)
            {
                file.Position = length - 4;
                if (file.ReadAtLeast(probe, 4, throwOnEndOfStream: false) == 4)
                    trailerSize = BinaryPrimitives.ReadUInt32LittleEndian(probe);
            }
            file.Position = 0;
            Stream data = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
            try
            {
                var (magic, dims, count) = ReadHeader(data, path);
                long headerSize = 4 + 4L * dims.Length;
                long capacity;
                if (!gzip)
                {
                    long available = length - headerSize;
                    if (available < count)
                        throw new InvalidDataException(
                            $"{path}: truncated, the header [{string.Join(", ", dims)}] needs {count} data bytes but only {available} follow");
                    if (available > count)
                        throw new InvalidDataException(
                            $"{path}: {available - count} unexpected bytes after the {count} data bytes declared by the header [{string.Join(", ", dims)}]");
                    capacity = count;
                }
                else
                {
                    if (headerSize + count > length * MaxDeflateRatio)
                        throw new InvalidDataException(
                            $"{path}: truncated, the header [{string.Join(", ", dims)}] declares {count} data bytes, more than a {length}-byte gzip file can hold");
                    // A trailer that agrees with the header makes one exact allocation likely right;
                    // otherwise start small and let the bytes that actually arrive decide.
                    capacity = (uint)(headerSize + count) == trailerSize ? count : Math.Min(count, 1 << 16);
                }
                return new IdxStream(path, file, data, magic, dims, count, capacity);
            }
            catch
            {
                if (gzip) data.Dispose();
                throw;
            }
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
        int magic = CheckMagic(head, path);
        int rank = head[3];
        Span<byte> dimBytes = stackalloc byte[4 * 255];
        dimBytes = dimBytes[..(4 * rank)];
        int dimGot = ReadFully(data, dimBytes, path);
        if (rank == 0 || dimGot < dimBytes.Length)
            throw new InvalidDataException($"{path}: header declares {rank} dimensions but the file is only {4 + dimGot} bytes");
        int[] dims = ReadDims(dimBytes, rank);
        return (magic, dims, DataCount(dims, path));
    }

    /// <summary>Checks the first four header bytes and returns them as the big-endian magic number.</summary>
    internal static int CheckMagic(ReadOnlySpan<byte> head, string path)
    {
        int magic = BinaryPrimitives.ReadInt32BigEndian(head);
        if (head[0] != 0 || head[1] != 0)
            throw new InvalidDataException($"{path}: bad magic number 0x{magic:X8}; an IDX file starts with two zero bytes (MNIST images use 2051, labels 2049)");
        if (head[2] != 0x08)
            throw new InvalidDataException($"{path}: element type 0x{head[2]:X2} is not supported (only 0x08, unsigned byte)");
        return magic;
    }

    /// <summary>Decodes <paramref name="rank"/> big-endian int32 dimensions.</summary>
    internal static int[] ReadDims(ReadOnlySpan<byte> dimBytes, int rank)
    {
        var dims = new int[rank];
        for (int d = 0; d < rank; d++) dims[d] = BinaryPrimitives.ReadInt32BigEndian(dimBytes[(4 * d)..]);
        return dims;
    }

    /// <summary>
    /// The product of the dimensions, refused when a dimension is negative or the product does not
    /// fit in one array (checked at every step, so no product wraps around).
    /// </summary>
    internal static long DataCount(int[] dims, string path)
    {
        bool empty = false;
        for (int d = 0; d < dims.Length; d++)
        {
            if (dims[d] < 0)
                throw new InvalidDataException($"{path}: dimension {d} is negative ({dims[d]})");
            empty |= dims[d] == 0;
        }
        if (empty) return 0;
        long count = 1;
        for (int d = 0; d < dims.Length; d++)
        {
            count *= dims[d]; // both factors are below 2^31, so this cannot overflow a long
            if (count > Array.MaxLength)
                throw new InvalidDataException(
                    $"{path}: the dimensions [{string.Join(", ", dims)}] declare more than {Array.MaxLength} data bytes (dimension {d} takes the product past what one array holds)");
        }
        return count;
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

    /// <summary>Converts a chunk of data bytes into elements; both spans have the same length.</summary>
    internal delegate void ChunkConverter<T>(ReadOnlySpan<byte> bytes, Span<T> elements);

    /// <summary>
    /// Reads all the data, converting it chunk by chunk; the result is grown as bytes arrive, so a
    /// header that declares more than the file holds costs at most twice what was really read.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is truncated, followed by extra bytes, or the gzip stream is corrupt.</exception>
    internal T[] ReadAll<T>(ChunkConverter<T> convert)
    {
        var result = new T[_initialCapacity];
        Span<byte> chunk = stackalloc byte[Chunk];
        int done = 0;
        do // at least once, so an empty file is still checked for trailing bytes
        {
            if (done == result.Length && done < Count)
                Array.Resize(ref result, (int)Math.Min(Count, Math.Max(2L * done, Chunk)));
            int got = Read(chunk[..Math.Min(Chunk, result.Length - done)]);
            convert(chunk[..got], result.AsSpan(done, got));
            done += got;
        } while (done < Count);
        return result;
    }

    private void CheckEnd()
    {
        // Bounded: trailing bytes in a gzip file can inflate to a thousand times its size.
        const long limit = 1 << 20;
        Span<byte> extra = stackalloc byte[4096];
        long more = 0;
        int n;
        while (more < limit && (n = ReadFully(_data, extra, Path)) > 0) more += n;
        if (more > 0)
            throw new InvalidDataException(
                $"{Path}: {(more >= limit ? "at least " : "")}{more} unexpected bytes after the {Count} data bytes declared by the header [{string.Join(", ", Dims)}]");
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
