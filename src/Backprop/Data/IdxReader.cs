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
    /// <exception cref="InvalidDataException">
    /// Not a regular non-empty file (a directory, pipe or device), bad magic number, unsupported type,
    /// truncated or oversized content; the message names the file and the field.
    /// </exception>
    public static IdxFile Read(string path)
    {
        using IdxStream s = IdxStream.Open(path);
        byte[] data = s.ReadAll<byte>(static (bytes, elements) => bytes.CopyTo(elements));
        return new IdxFile(path, s.Magic, s.Dims, data);
    }

    /// <summary>Parses IDX content held in memory; <paramref name="path"/> is used in error messages.</summary>
    /// <exception cref="InvalidDataException">Bad magic number, unsupported type, truncated or oversized content.</exception>
    public static IdxFile Parse(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < 4)
            throw new InvalidDataException($"{path}: too short for an IDX header ({bytes.Length} bytes)");
        int magic = IdxStream.CheckMagic(bytes, path);
        int rank = bytes[3];
        if (rank == 0 || bytes.Length < 4 + 4 * rank)
            throw new InvalidDataException($"{path}: header declares {rank} dimensions but the file is only {bytes.Length} bytes");
        int[] dims = IdxStream.ReadDims(bytes[4..], rank);
        long count = IdxStream.DataCount(dims, path);
        int headerSize = 4 + 4 * rank;
        long available = bytes.Length - headerSize;
        if (available < count)
            throw new InvalidDataException($"{path}: truncated, the header [{string.Join(", ", dims)}] needs {count} data bytes but only {available} follow");
        if (available > count)
            throw new InvalidDataException($"{path}: {available - count} unexpected bytes after the {count} data bytes declared by the header [{string.Join(", ", dims)}]");
        return new IdxFile(path, magic, dims, bytes.Slice(headerSize, (int)count).ToArray());
    }
}
