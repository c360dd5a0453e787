using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Backprop.Tests.Support;

/// <summary>
/// Writes checkpoint files byte by byte in the documented layout ("BPCKPT01", int32 tensor count,
/// per tensor name, dtype byte, int32 rank, int32 dims, raw elements; int32 metadata count, key and
/// value strings as int32 length + UTF-8; XxHash64 of all that), independently of Checkpoint.Save,
/// and remembers where every int32 length or count field is so a fuzzer can set it to any value.
/// </summary>
internal sealed class CheckpointBytes
{
    private readonly List<byte> _bytes = [.. "BPCKPT01"u8.ToArray()];

    /// <summary>Offsets of every int32 count, length, rank and dimension field written so far.</summary>
    public List<int> IntFields { get; } = [];

    public CheckpointBytes Int(int v)
    {
        IntFields.Add(_bytes.Count);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public CheckpointBytes Raw(ReadOnlySpan<byte> bytes)
    {
        _bytes.AddRange(bytes.ToArray());
        return this;
    }

    public CheckpointBytes String(string s)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(s);
        return Int(utf8.Length).Raw(utf8);
    }

    /// <summary>One tensor entry: dtype code 0 = float32, 1 = float64, 2 = int64.</summary>
    public CheckpointBytes Tensor(string name, byte dtype, int[] dims, byte[] data)
    {
        String(name).Raw([dtype]).Int(dims.Length);
        foreach (int d in dims) Int(d);
        return Raw(data);
    }

    /// <summary>The body so far (no checksum).</summary>
    public byte[] Body => [.. _bytes];

    /// <summary>The body followed by its checksum: a file the loader's checksum accepts.</summary>
    public byte[] Signed() => Sign(Body);

    /// <summary>Appends the XxHash64 of <paramref name="body"/>, as Checkpoint.Save does.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> body)
    {
        var file = new byte[body.Length + 8];
        body.CopyTo(file);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(body.Length), XxHash64.HashToUInt64(body));
        return file;
    }
}
