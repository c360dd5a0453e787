using System.Buffers.Binary;

namespace Backprop.Data;

/// <summary>The contents of an IDX file (the MNIST format): dimensions and raw unsigned bytes.</summary>
public sealed record IdxFile(string Path, int Magic, int[] Dims, byte[] Data);

/// <summary>
/// Reads IDX files, raw or gzip-compressed (detected from the content, not the name).
/// Header: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
/// then each dimension as a big-endian int32, then the data row-major.
/// </summary>
public static class IdxReader
{
    /// <summary>Reads a whole file; only unsigned-byte data is supported. Streams the data, so no compressed or intermediate copy is held.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">Bad magic number, unsupported type, truncated or oversized content.</exception>
    public static IdxFile Read(string path)
    {
        using IdxStream s = IdxStream.Open(path);
        if (s.Count > Array.MaxLength)
            throw new InvalidDataException($"{path}: {s.Count} data bytes do not fit in one array");
        var data = new byte[s.Count];
        s.Read(data);
        return new IdxFile(path, s.Magic, s.Dims, data);
    }

    /// <summary>Parses IDX content held in memory; <paramref name="path"/> is used in error messages.</summary>
    public static IdxFile Parse(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < 4)
            throw new InvalidDataException($"{path}: too short for an IDX header ({bytes.Length} bytes)");
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{path}: bad magic number 0x{magic:X8}; an IDX file starts with two zero bytes (MNIST images use 2051, labels 2049)");
        if (bytes[2] != 0x08)
            throw new InvalidDataException($"{path}: element type 0x{bytes[2]:X2} is not supported (only 0x08, unsigned byte)");
        int rank = bytes[3];
        if (rank == 0 || bytes.Length < 4 + 4 * rank)
            throw new InvalidDataException($"{path}: header declares {rank} dimensions but the file is only {bytes.Length} bytes");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes[(4 + 4 * d)..]);
            if (dims[d] < 0) throw new InvalidDataException($"{path}: dimension {d} is negative ({dims[d]})");
            count *= dims[d];
        }
        int headerSize = 4 + 4 * rank;
        long available = bytes.Length - headerSize;
        if (available < count)
            throw new InvalidDataException($"{path}: truncated, the header [{string.Join(", ", dims)}] needs {count} data bytes but only {available} follow");
        if (available > count)
            throw new InvalidDataException($"{path}: {available - count} unexpected bytes after the {count} data bytes declared by the header [{string.Join(", ", dims)}]");
        return new IdxFile(path, magic, dims, bytes.Slice(headerSize, (int)count).ToArray());
    }
}
