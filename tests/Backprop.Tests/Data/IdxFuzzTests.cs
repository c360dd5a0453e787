using Backprop.Data;
using Backprop.Tests.Support;
using CsCheck;

namespace Backprop.Tests.Data;

/// <summary>
/// Property tests over the IDX reader, raw and gzip: valid files with bits flipped, cut short,
/// extended, or a rank or dimension field set to a boundary value (0, -1, 2^31-1, 2^31, sizes whose
/// product overflows). Every input either loads a consistent result or throws InvalidDataException
/// naming the file; nothing allocates more than a few times what the file holds (after inflating);
/// no input takes long. Each property runs <see cref="Fuzz.Seconds"/> seconds (BACKPROP_FUZZ_SECONDS).
/// </summary>
public class IdxFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("idx-fuzz").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Gen<byte[]> ValidIdx =
        from rank in Gen.Int[1, 3]
        from dims in Gen.Int[0, 6].Array[rank]
        from data in Gen.Byte.Array[dims.Aggregate(1, (a, b) => a * b)]
        select IdxValidationTests.Idx(dims, data);

    private static Gen<byte[]> Mutate(byte[] b) => Gen.Int[0, 5].SelectMany(kind => kind switch
    {
        0 => Gen.Int[0, b.Length * 8 - 1].Array[1, 4].Select(bits =>
        {
            byte[] c = (byte[])b.Clone();
            foreach (int bit in bits) c[bit / 8] ^= (byte)(1 << (bit % 8));
            return c;
        }),
        1 => Gen.Int[0, b.Length - 1].Select(n => b[..n]),
        2 => Gen.Byte.Array[1, 16].Select(extra => (byte[])[.. b, .. extra]),
        3 => Gen.Byte.Select(rank => { byte[] c = (byte[])b.Clone(); c[3] = rank; return c; }),
        _ => (from field in Gen.Int[0, 3] from v in Gen.OneOf(Fuzz.Boundaries) select (field, v)).Select(fv =>
        {
            byte[] c = (byte[])b.Clone();
            int at = 4 + 4 * fv.field;
            if (at + 4 > c.Length) Array.Resize(ref c, at + 4);
            c[at] = (byte)(fv.v >> 24); c[at + 1] = (byte)(fv.v >> 16); c[at + 2] = (byte)(fv.v >> 8); c[at + 3] = (byte)fv.v;
            return c;
        }),
    });

    // Gzip cases mutate either the content before compressing (a well-formed stream with a lying
    // header) or the compressed bytes (a corrupt stream).
    private static readonly Gen<(byte[] File, bool Gzip)> Cases =
        from content in ValidIdx
        from mode in Gen.Int[0, 2]
        from mutated in Mutate(mode == 2 ? Fuzz.Gzip(content) : content)
        select mode switch
        {
            0 => (mutated, false),
            1 => (Fuzz.Gzip(mutated), true),
            _ => (mutated, true),
        };

    [Fact]
    public void Read_EveryMutatedFile_LoadsConsistentlyOrIsRefusedByName()
    {
        string path = Path.Combine(_dir, "fuzz.idx");
        Cases.Sample(c =>
        {
            File.WriteAllBytes(path, c.File);
            long holds = c.Gzip ? Math.Max(c.File.Length, Fuzz.InflatedLength(c.File)) : c.File.Length;
            IdxFile? loaded = null;
            long allocated = Fuzz.Allocated(() =>
            {
                try { loaded = IdxReader.Read(path); }
                catch (InvalidDataException e) { Assert.Contains(path, e.Message); }
            });
            if (loaded is not null)
                Assert.Equal(loaded.Dims.Aggregate(1L, (a, d) => a * d), loaded.Data.Length);
            Assert.True(allocated <= 4 * holds + Fuzz.AllocationSlack, $"allocated {allocated} bytes for a file holding {holds}");
            if (!c.Gzip) // the in-memory parser agrees with the streaming reader
            {
                IdxFile? parsed = null;
                try { parsed = IdxReader.Parse(c.File, path); }
                catch (InvalidDataException e) { Assert.Contains(path, e.Message); }
                Assert.Equal(loaded is null, parsed is null);
                if (loaded is not null) Assert.Equal(loaded.Data, parsed!.Data);
            }
        }, time: Fuzz.Seconds, threads: 1, print: c => $"{(c.Gzip ? "gzip " : "")}{Convert.ToHexString(c.File)}");
    }

    [Fact]
    public void Read_UnmutatedFiles_RoundTrip()
    {
        string path = Path.Combine(_dir, "valid.idx");
        ValidIdx.Select(Gen.Bool).Sample((content, gzip) =>
        {
            File.WriteAllBytes(path, gzip ? Fuzz.Gzip(content) : content);
            IdxFile f = IdxReader.Read(path);
            Assert.Equal(content[(4 + 4 * f.Dims.Length)..], f.Data);
        }, time: Math.Min(Fuzz.Seconds, 1), threads: 1);
    }
}
