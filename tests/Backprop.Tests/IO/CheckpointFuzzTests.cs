using Backprop.IO;
using Backprop.Tests.Support;
using CsCheck;

namespace Backprop.Tests.IO;

/// <summary>
/// Property tests over the checkpoint loader: valid checkpoints with bits flipped, cut short,
/// extended, or a count, length, rank or dimension field set to a boundary value, most of them
/// re-signed so the checksum (unkeyed) passes and the parser itself is exercised. TryLoad never
/// throws, Load throws only InvalidDataException, both name the file, and no load allocates more
/// than the file's size implies. Each property runs <see cref="Fuzz.Seconds"/> seconds (BACKPROP_FUZZ_SECONDS).
/// </summary>
public class CheckpointFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ckpt-fuzz").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Entry(byte[] Name, byte DType, int[] Dims, byte[] Data);

    private static readonly Gen<Entry> Tensors =
        from name in Gen.Byte.Array[0, 8]
        from dtype in Gen.Byte[0, 2]
        from rank in Gen.Int[0, 3]
        from dims in Gen.Int[0, 3].Array[rank]
        from data in Gen.Byte.Array[dims.Aggregate(1, (a, b) => a * b) * (dtype == 0 ? 4 : 8)]
        select new Entry(name, dtype, dims, data);

    private static readonly Gen<CheckpointBytes> Valid =
        from tensors in Tensors.Array[0, 3]
        from meta in Gen.Byte.Array[0, 6].Array[0, 6]
        select Build(tensors, meta);

    private static CheckpointBytes Build(Entry[] tensors, byte[][] meta)
    {
        var b = new CheckpointBytes().Int(tensors.Length);
        foreach (Entry t in tensors)
        {
            b.Int(t.Name.Length).Raw(t.Name).Raw([t.DType]).Int(t.Dims.Length);
            foreach (int d in t.Dims) b.Int(d);
            b.Raw(t.Data);
        }
        b.Int(meta.Length / 2);
        for (int i = 0; i + 1 < meta.Length; i += 2) b.Int(meta[i].Length).Raw(meta[i]).Int(meta[i + 1].Length).Raw(meta[i + 1]);
        return b;
    }

    private static Gen<byte[]> Mutate(CheckpointBytes valid)
    {
        byte[] body = valid.Body;
        return from kind in Gen.Int[0, 5]
               from resign in Gen.Int[0, 4] // four times in five the checksum is made to match
               from field in Gen.Int[0, valid.IntFields.Count - 1]
               from value in Gen.Frequency((3, Gen.OneOf(Fuzz.Boundaries)), (1, Gen.Int))
               from bits in Gen.Int[0, body.Length * 8 - 1].Array[1, 4]
               from cut in Gen.Int[0, body.Length + 7]
               from extra in Gen.Byte.Array[1, 16]
               select Apply(body, valid.IntFields, kind, resign > 0, field, value, bits, cut, extra);
    }

    private static byte[] Apply(byte[] body, List<int> fields, int kind, bool resign, int field, int value, int[] bits, int cut, byte[] extra)
    {
        byte[] file = CheckpointBytes.Sign(body);
        switch (kind)
        {
            case 0: return file; // unmutated: must load
            case 1:
                byte[] b = (byte[])body.Clone();
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(fields[field]), value);
                return resign ? CheckpointBytes.Sign(b) : [.. b, .. file[^8..]];
            case 2:
                byte[] f = resign ? (byte[])body.Clone() : file;
                foreach (int bit in bits) f[bit / 8 % f.Length] ^= (byte)(1 << (bit % 8));
                return resign ? CheckpointBytes.Sign(f) : f;
            case 3: return resign ? CheckpointBytes.Sign(body.AsSpan(0, Math.Min(cut, body.Length))) : file[..Math.Min(cut, file.Length - 1)];
            case 4: return resign ? CheckpointBytes.Sign([.. body, .. extra]) : [.. file, .. extra];
            default: // a count field set and the rest of the file cut after it: "30 bytes declaring 2^31"
                byte[] head = body[..Math.Min(body.Length, fields[field] + 4 + cut % 16)];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(fields[field]), value);
                return CheckpointBytes.Sign(head);
        }
    }

    private static readonly Gen<(byte[] File, bool Unmutated)> Cases =
        Valid.SelectMany(v => Mutate(v).Select(file => (file, file.AsSpan().SequenceEqual(v.Signed()))));

    [Fact]
    public void TryLoad_EveryMutatedFile_LoadsOrReturnsFalse_WithinTheFilesSize()
    {
        string path = Path.Combine(_dir, "fuzz.ckpt");
        Cases.Sample(c =>
        {
            File.WriteAllBytes(path, c.File);
            bool ok = false;
            string? error = null;
            Checkpoint? loaded = null;
            long allocated = Fuzz.Allocated(() => ok = Checkpoint.TryLoad(path, out loaded, out error));
            if (c.Unmutated) Assert.True(ok, error);
            if (ok)
                Assert.True(loaded!.Tensors.Sum(t => t.Value.Numel * 8L) <= 2L * c.File.Length);
            else
                Assert.Contains(path, error);
            Assert.True(allocated <= 64L * c.File.Length + Fuzz.AllocationSlack, $"allocated {allocated} bytes for a {c.File.Length}-byte file");
            Exception? thrown = Record.Exception(() => Checkpoint.Load(path));
            Assert.True(ok ? thrown is null : thrown is InvalidDataException, $"Load threw {thrown?.GetType().Name}: {thrown?.Message}");
        }, time: Fuzz.Seconds, threads: 1, print: c => Convert.ToHexString(c.File));
    }
}
