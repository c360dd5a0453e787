using System.Globalization;
using System.Text;
using Backprop.Data.Csv;
using Backprop.Tensors;
using Backprop.Tests.Support;
using CsCheck;

namespace Backprop.Tests.Data;

/// <summary>
/// Property tests over the CSV reader, plain and gzip: random numeric tables (any delimiter, header or not,
/// CRLF or LF), the same with bytes flipped, cut, or CSV-significant characters inserted, and random bytes.
/// Every input either gives a consistent table or throws InvalidDataException whose message starts with the
/// file's name; nothing allocates more than a small multiple of what the text holds; no input takes long.
/// Each property runs <see cref="Fuzz.Seconds"/> seconds (BACKPROP_FUZZ_SECONDS).
/// </summary>
public class CsvFuzzTests
{
    private static readonly Gen<(string Text, float[] Values, int Rows, int Columns)> Tables =
        from rows in Gen.Int[1, 6]
        from columns in Gen.Int[2, 5]
        from header in Gen.Bool
        from delimiter in Gen.OneOf(",", "\t", ";", " ", ", ")
        from crlf in Gen.Bool
        from values in Gen.OneOf(Gen.Int[-3, 3].Select(i => (float)i), Gen.Float[-1e6f, 1e6f]).Array[rows * columns]
        select (Text(rows, columns, header, delimiter, crlf ? "\r\n" : "\n", values), values, rows, columns);

    private static string Text(int rows, int columns, bool header, string delimiter, string newline, float[] values)
    {
        var sb = new StringBuilder();
        if (header) sb.Append(string.Join(delimiter, Enumerable.Range(0, columns).Select(c => $"col{c}"))).Append(newline);
        for (int r = 0; r < rows; r++)
            sb.Append(string.Join(delimiter, values.Skip(r * columns).Take(columns).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append(newline);
        return sb.ToString();
    }

    private static readonly byte[] Significant = "\",;\t \r\n.-+eE0123456789NaIf\0\u00FF"u8.ToArray();

    private static Gen<byte[]> Mutate(byte[] b) => Gen.Int[0, 4].SelectMany(kind => kind switch
    {
        0 => Gen.Int[0, Math.Max(0, b.Length * 8 - 1)].Array[1, 4].Select(bits =>
        {
            byte[] c = (byte[])b.Clone();
            if (c.Length > 0) foreach (int bit in bits) c[bit / 8] ^= (byte)(1 << (bit % 8));
            return c;
        }),
        1 => Gen.Int[0, b.Length].Select(n => b[..n]),
        2 => (from at in Gen.Int[0, b.Length] from s in Gen.OneOf(Significant).Array[1, 4] select (at, s))
             .Select(p => (byte[])[.. b[..p.at], .. p.s, .. b[p.at..]]),
        3 => Gen.Int[0, Math.Max(0, b.Length - 1)].Select(at => b.Length == 0 ? b : (byte[])[.. b[..at], .. b[(at + 1)..]]),
        _ => Gen.Byte.Array[0, 64],
    });

    private static readonly Gen<(byte[] File, bool Gzip)> Cases =
        from table in Tables
        from mode in Gen.Int[0, 2]
        from mutated in Mutate(mode == 2 ? Fuzz.Gzip(Encoding.UTF8.GetBytes(table.Text)) : Encoding.UTF8.GetBytes(table.Text))
        select mode switch
        {
            0 => (mutated, false),
            1 => (Fuzz.Gzip(mutated), true),
            _ => (mutated, true),
        };

    [Fact]
    public void Read_AnyBytes_GiveAConsistentTableOrTheReadersOwnError()
    {
        Cases.Sample(c =>
        {
            string name = c.Gzip ? "fuzz.csv.gz" : "fuzz.csv";
            long holds = c.Gzip ? Math.Max(c.File.Length, Fuzz.InflatedLength(c.File)) : c.File.Length;
            CsvTable? table = null;
            long allocated = Fuzz.Allocated(() =>
            {
                try { table = CsvReader.Read(c.File, name, -1); }
                catch (InvalidDataException e) { Assert.StartsWith(name, e.Message); }
            });
            Assert.True(allocated <= 16 * holds + 2 * Fuzz.AllocationSlack, $"allocated {allocated} bytes for a text of {holds}");
            if (table is null) return;
            int n = table.Count;
            Assert.True(n >= 1);
            Assert.Equal(new Shape(n, table.FeatureNames.Count), table.Features.Shape);
            Assert.True(table.FeatureNames.Count >= 1);
            Assert.All(table.Features.ToArray<float>(), v => Assert.True(float.IsFinite(v)));
            if (table.Kind == TargetKind.Classification)
                Assert.All(table.Targets.ToArray<long>(), l => Assert.InRange(l, 0, table.ClassCount - 1));
            else
                Assert.Equal(new Shape(n, 1), table.Targets.Shape);
        }, time: Fuzz.Seconds, threads: 1, print: c => $"{(c.Gzip ? "gzip " : "")}{Convert.ToHexString(c.File)}");
    }

    [Fact]
    public void Read_UnmutatedTables_RoundTripEveryValue()
    {
        Tables.Select(Gen.Bool).Sample((t, gzip) =>
        {
            byte[] bytes = Encoding.UTF8.GetBytes(t.Text);
            CsvTable table = CsvReader.Read(gzip ? Fuzz.Gzip(bytes) : bytes, gzip ? "t.csv.gz" : "t.csv", -1);
            Assert.Equal(new Shape(t.Rows, t.Columns - 1), table.Features.Shape);
            float[] features = table.Features.ToArray<float>();
            double[] targets = table.Kind == TargetKind.Classification
                ? table.Targets.ToArray<long>().Select(l => table.ClassValues[(int)l]).ToArray()
                : table.Targets.ToArray<float>().Select(f => (double)f).ToArray();
            for (int r = 0; r < t.Rows; r++)
            {
                for (int c = 0; c < t.Columns - 1; c++) Assert.Equal(t.Values[r * t.Columns + c], features[r * (t.Columns - 1) + c]);
                Assert.Equal(t.Values[r * t.Columns + t.Columns - 1], (float)targets[r]);
            }
        }, time: Math.Min(Fuzz.Seconds, 1), threads: 1);
    }
}
