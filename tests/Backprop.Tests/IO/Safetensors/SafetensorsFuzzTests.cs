using System.Buffers.Binary;
using System.Text;
using Backprop.IO.Safetensors;
using Backprop.Tests.Support;
using CsCheck;

namespace Backprop.Tests.IO.Safetensors;

/// <summary>
/// Property tests over the safetensors reader: valid files with the header length set to boundary values,
/// a number of the header (dimension or offset) replaced by a boundary value, bits flipped, cut short or
/// extended. TryLoad never throws, Load throws only InvalidDataException (or NotSupportedException for a dtype
/// Backprop cannot hold), messages name the file, and no load allocates more than the file's size implies.
/// Each property runs <see cref="Fuzz.Seconds"/> seconds (BACKPROP_FUZZ_SECONDS).
/// </summary>
public class SafetensorsFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetensors-fuzz").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly (string Name, int Size)[] DTypes = [("F32", 4), ("F64", 8), ("I64", 8), ("BOOL", 1), ("F16", 2), ("BF16", 2), ("I32", 4)];

    private sealed record Entry(string Name, int DType, int[] Dims);

    private static readonly Gen<Entry> Entries =
        from name in Gen.String[Gen.Char['a', 'e'], 1, 3]
        from dtype in Gen.Int[0, DTypes.Length - 1]
        from dims in Gen.Int[0, 3].Array[0, 3]
        select new Entry(name, dtype, dims);

    private static readonly Gen<byte[]> Valid =
        from entries in Entries.Array[0, 4]
        from meta in Gen.Bool
        from pad in Gen.Int[0, 7]
        select Build(entries, meta, pad);

    /// <summary>A valid file: unique names, offsets tiling the data, BOOL bytes 0 or 1.</summary>
    private static byte[] Build(Entry[] entries, bool meta, int pad)
    {
        var parts = new List<string>();
        if (meta) parts.Add("\"__metadata__\":{\"format\":\"pt\"}");
        var data = new List<byte>();
        var seen = new HashSet<string>();
        foreach (Entry e in entries)
        {
            if (!seen.Add(e.Name)) continue;
            var (dtype, size) = DTypes[e.DType];
            int bytes = e.Dims.Aggregate(1, (a, b) => a * b) * size;
            parts.Add(SafetensorsBytes.Entry(e.Name, dtype, e.Dims, data.Count, data.Count + bytes));
            for (int i = 0; i < bytes; i++) data.Add(dtype == "BOOL" ? (byte)(i & 1) : (byte)(i * 37 + 11));
        }
        return SafetensorsBytes.Make("{" + string.Join(",", parts) + "}" + new string(' ', pad), [.. data]);
    }

    private static readonly long[] Boundaries =
        [0, 1, 2, 3, 4, 7, 8, -1, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, 1L << 31, 1L << 32, 1L << 40, 65536, 100_000_001];

    private static Gen<byte[]> Mutate(byte[] valid) =>
        from kind in Gen.Int[0, 5]
        from value in Gen.Frequency((3, Gen.OneOf(Boundaries.Select(Gen.Const).ToArray())), (1, Gen.Long))
        from which in Gen.Int[0, 1000]
        from bits in Gen.Int[0, valid.Length * 8 - 1].Array[1, 4]
        from cut in Gen.Int[0, valid.Length]
        from extra in Gen.Byte.Array[1, 16]
        select Apply(valid, kind, value, which, bits, cut, extra);

    private static byte[] Apply(byte[] valid, int kind, long value, int which, int[] bits, int cut, byte[] extra)
    {
        switch (kind)
        {
            case 0: return valid;
            case 1:
                byte[] b = (byte[])valid.Clone();
                BinaryPrimitives.WriteInt64LittleEndian(b, value);
                return b;
            case 2: // one number of the header (a dimension or an offset) replaced: the JSON stays valid
                int headerLength = (int)BinaryPrimitives.ReadInt64LittleEndian(valid);
                string header = Encoding.UTF8.GetString(valid, 8, headerLength);
                var numbers = System.Text.RegularExpressions.Regex.Matches(header, "(?<=[\\[,])\\d+(?=[\\],])");
                if (numbers.Count == 0) return valid;
                var m = numbers[which % numbers.Count];
                string changed = header[..m.Index] + value.ToString(System.Globalization.CultureInfo.InvariantCulture) + header[(m.Index + m.Length)..];
                return SafetensorsBytes.Make(changed, valid[(8 + headerLength)..]);
            case 3:
                byte[] f = (byte[])valid.Clone();
                foreach (int bit in bits) f[bit / 8] ^= (byte)(1 << (bit % 8));
                return f;
            case 4: return valid[..cut];
            default: return [.. valid, .. extra];
        }
    }

    private static readonly Gen<(byte[] File, bool Unmutated)> Cases =
        Valid.SelectMany(v => Mutate(v).Select(file => (file, file.AsSpan().SequenceEqual(v))));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Load_EveryMutatedFile_LoadsOrFailsCleanly_WithinTheFilesSize(bool memoryMap)
    {
        string path = Path.Combine(_dir, "fuzz.safetensors");
        Cases.Sample(c =>
        {
            File.WriteAllBytes(path, c.File);
            SafetensorsData? loaded = null;
            Exception? thrown = null;
            long allocated = Fuzz.Allocated(() => thrown = Record.Exception(() => loaded = SafetensorsFile.Load(path, memoryMap)));
            if (c.Unmutated) Assert.Null(thrown);
            if (thrown is null)
                Assert.True(loaded!.Tensors.Sum(t => t.Value.Numel * 8L) <= 4L * c.File.Length);
            else
            {
                Assert.True(thrown is InvalidDataException or NotSupportedException, $"Load threw {thrown.GetType().Name}: {thrown.Message}");
                Assert.Contains(path, thrown.Message);
            }
            Assert.True(allocated <= 64L * c.File.Length + Fuzz.AllocationSlack, $"allocated {allocated} bytes for a {c.File.Length}-byte file");
            bool ok = SafetensorsFile.TryLoad(path, out _, out string? error);
            Assert.Equal(thrown is null, ok);
            if (!ok) Assert.Contains(path, error);
        }, time: Fuzz.Seconds, threads: 1, print: c => Convert.ToHexString(c.File));
    }
}
