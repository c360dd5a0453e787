using System.Text;
using Backprop.Data.Csv;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Data;

/// <summary>The CSV reader on small files written by the tests: layouts, targets, detection, and the errors.</summary>
public class CsvReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("csv").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CsvTable Parse(string text, CsvColumn target, CsvOptions? options = null, string name = "t.csv")
        => CsvReader.Read(Encoding.UTF8.GetBytes(text), name, target, options);

    private static InvalidDataException Bad(string text, CsvColumn target, CsvOptions? options = null)
        => Assert.Throws<InvalidDataException>(() => Parse(text, target, options));

    [Fact]
    public void HeaderedFile_TargetByName_Classification()
    {
        CsvTable t = Parse("a,b,label\n1,2,0\n3,4.5,1\n5,6e1,0\n", "label");
        Assert.True(t.HasHeader);
        Assert.Equal(["a", "b"], t.FeatureNames);
        Assert.Equal("label", t.TargetName);
        Assert.Equal(2, t.TargetColumn);
        Assert.Equal(new Shape(3, 2), t.Features.Shape);
        Assert.Equal([1f, 2, 3, 4.5f, 5, 60], t.Features.ToArray<float>());
        Assert.Equal(TargetKind.Classification, t.Kind);
        Assert.Equal([0L, 1, 0], t.Targets.ToArray<long>());
        Assert.Equal([0.0, 1.0], t.ClassValues);
        Assert.Equal(3, t.ToDataset().Count);
    }

    [Fact]
    public void TargetByPosition_NegativeFromTheEnd_AnyColumn()
    {
        const string text = "7,1,2\n8,3,4\n7,5,6\n";
        CsvTable first = Parse(text, 0);
        Assert.False(first.HasHeader);
        Assert.Equal(["1", "2"], first.FeatureNames);
        Assert.Equal([0L, 1, 0], first.Targets.ToArray<long>()); // classes 7 and 8, numbered by value
        Assert.Equal([7.0, 8.0], first.ClassValues);
        Assert.Equal([1f, 2, 3, 4, 5, 6], first.Features.ToArray<float>());
        Assert.Equal(1, Parse(text, -2).TargetColumn);
        Assert.Equal(0, Parse(text, -3).TargetColumn);
        Assert.Equal(1, Parse(text, CsvColumn.Parse("-2")).TargetColumn);
    }

    [Fact]
    public void RealValuedOrManyValuedTargets_AreRegression_AsAColumn()
    {
        CsvTable real = Parse("x,y\n1,0.5\n2,1.5\n", "y");
        Assert.Equal(TargetKind.Regression, real.Kind);
        Assert.Equal(new Shape(2, 1), real.Targets.Shape);
        Assert.Equal([0.5f, 1.5f], real.Targets.ToArray<float>());
        Assert.Empty(real.ClassValues);
        // 40 rows of 40 distinct integers: more than max(10, 40 / 5) values, so values to regress.
        string many = "x,y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},{i * 3}\n"));
        Assert.Equal(TargetKind.Regression, Parse(many, -1).Kind);
        Assert.Equal(TargetKind.Classification, Parse(many, -1, new CsvOptions { TargetKind = TargetKind.Classification }).Kind);
        Assert.Equal(TargetKind.Regression, Parse("1,2\n3,4\n", -1, new CsvOptions { TargetKind = TargetKind.Regression }).Kind);
        var e = Bad("x,y\n1,0\n2,2.5\n", "y", new CsvOptions { TargetKind = TargetKind.Classification });
        Assert.Contains("holds 2.5 (data row 2), not an integer class label", e.Message);
    }

    [Fact]
    public void Delimiters_Quotes_LineEnds_Bom_AndBlankLines()
    {
        Assert.Equal([1f, 2, 3, 4], Parse("a\tb\tc\n1\t2\t0\n3\t4\t1\n", -1).Features.ToArray<float>());
        Assert.Equal([1f, 2, 3, 4], Parse("a;b;c\r\n1;2;0\r\n\r\n3;4;1", -1).Features.ToArray<float>());
        Assert.Equal([1f, 2, 3, 4], Parse("  1   2  0\n\n 3 4 1 \n", -1).Features.ToArray<float>()); // runs of spaces
        Assert.Equal([1f, 2, 3, 4], Parse("1|2|0\r3|4|1\r", -1, new CsvOptions { Delimiter = '|' }).Features.ToArray<float>());
        CsvTable quoted = Parse("\uFEFF\"a, first\",\"say \"\"b\"\"\",\"c\"\n\"1\", 2 ,0\n", "c");
        Assert.Equal(["a, first", "say \"b\""], quoted.FeatureNames);
        Assert.Equal([1f, 2], quoted.Features.ToArray<float>());
    }

    [Fact]
    public void SkipRows_SkipsAPreamble_AndHeaderDetectionCanBeOverridden()
    {
        const string sklearnStyle = "3,2,setosa,versicolor\n5.1,3.5,0\n4.9,3.0,1\n6.2,2.9,1\n";
        CsvTable t = Parse(sklearnStyle, -1, new CsvOptions { SkipRows = 1 });
        Assert.False(t.HasHeader);
        Assert.Equal(new Shape(3, 2), t.Features.Shape);
        // An all-numeric first line is data unless told it is a header.
        Assert.Equal(new Shape(1, 1), Parse("1,2\n3,4\n", -1, new CsvOptions { HasHeader = true }).Features.Shape);
        Assert.Equal(["1"], Parse("1,2\n3,4\n", -1, new CsvOptions { HasHeader = true }).FeatureNames);
    }

    [Fact]
    public void RaggedRow_NamesTheLine_AndSuggestsSkipRowsForAPreamble()
    {
        var e = Bad("569,30,malignant,benign\n1,2,3,4,5,0\n", -1);
        Assert.StartsWith("t.csv, line 2: 6 fields, but the header (line 1) has 4 (separated by commas)", e.Message);
        Assert.Contains("skip it with skipRows: 1", e.Message);
        var later = Bad("a,b\n1,2\n3,4\n5\n", -1);
        Assert.Equal("t.csv, line 4: 1 field, but the header (line 1) has 2 (separated by commas)", later.Message);
        Assert.Contains("line 2: 5 fields, but the first row (line 1) has 2", Bad("1,2\n1,2,3,4,5\n", -1).Message);
    }

    [Fact]
    public void NonNumericFields_NameTheLineAndColumn()
    {
        Assert.Equal("t.csv, line 3, column \"b\" (index 1): \"abc\" is not a number", Bad("a,b,c\n1,2,0\n1,abc,0\n", -1).Message);
        Assert.StartsWith("t.csv, line 2, column index 0: an empty field (a missing value)", Bad("1,2\n,3\n", -1).Message);
        Assert.Contains("\"NaN\" is not a finite number", Bad("1,2\nNaN,3\n", -1).Message);
        Assert.Contains("\"1e39\" is outside the range of float32", Bad("1,2\n1e39,3\n", -1).Message);
        Assert.Contains("\"x\\u0007y\" is not a number", Bad("1,2\nx\ay,3\n", -1).Message);
        Assert.Contains("a quoted field is not closed", Bad("1,2\n\"3,4\n", -1).Message);
        Assert.Contains("unexpected text after the closing quote of field 1", Bad("1,2\n\"3\"x,4\n", -1).Message);
    }

    [Fact]
    public void FilesWithoutData_OrColumns_AreRefused()
    {
        Assert.StartsWith("t.csv: no data: the file holds no lines that are not blank", Bad(" \n\n", -1).Message);
        Assert.StartsWith("t.csv: no data rows after the header on line 1", Bad("a,b\n", -1).Message);
        Assert.Contains("one column found", Bad("1\n2\n", -1).Message);
        Assert.Contains("ends after 1 lines, before the 3 lines to skip", Bad("1,2\n", -1, new CsvOptions { SkipRows = 3 }).Message);
    }

    [Fact]
    public void ABadLastLine_IsRefusedBeforeTheFeatureMatrixIsAllocated()
    {
        const int rows = 20_000, columns = 50;
        var sb = new StringBuilder();
        for (int r = 0; r < rows; r++) sb.Append(string.Join(',', Enumerable.Repeat("1.5", columns - 1))).Append(",1\n");
        byte[] good = Encoding.UTF8.GetBytes(sb.ToString());
        byte[] bad = Encoding.UTF8.GetBytes(sb.Append("1,oops\n").ToString());
        const long matrix = (long)rows * (columns - 1) * sizeof(float); // 3.9 MB
        long refused = Fuzz.Allocated(() => Assert.Throws<InvalidDataException>(() => CsvReader.Read(bad, "big.csv", -1)));
        Assert.True(refused < matrix / 4, $"refusing the file allocated {refused} bytes; its feature matrix is {matrix}");
        long read = Fuzz.Allocated(() => CsvReader.Read(good, "big.csv", -1));
        Assert.InRange(read, matrix, matrix + matrix / 2); // the matrix, the targets and the buffers, no copies
    }

    [Fact]
    public void AMissingTarget_ListsTheColumns()
    {
        var e = Assert.Throws<ArgumentException>(() => Parse("a,b,c\n1,2,3\n", "d"));
        Assert.Equal("t.csv: no column named \"d\"; the columns are \"a\", \"b\", \"c\"", e.Message);
        Assert.Equal(1, Parse("Alpha,Beta\n1,2\n", "beta").TargetColumn); // a unique match ignoring case
        Assert.Contains("no header line, so give the target by position", Assert.Throws<ArgumentException>(() => Parse("1,2\n", "y")).Message);
        Assert.Contains("target column 3 is outside the file's 3 columns (0 to 2, or -3 to -1 from the end)",
            Assert.Throws<ArgumentException>(() => Parse("1,2,3\n", 3)).Message);
        Assert.Throws<ArgumentException>(() => Parse("1,2,3\n", -4));
        Assert.Contains("2 columns are named \"a\"", Assert.Throws<ArgumentException>(() => Parse("a,a,b\n1,2,3\n", "a")).Message);
    }

    [Fact]
    public void GzipFiles_AreReadByTheirContent_AndBrokenOnesNamed()
    {
        byte[] plain = Encoding.UTF8.GetBytes("a,b\n1,0\n2,1\n");
        string gz = Path.Combine(_dir, "data.csv.gz");
        File.WriteAllBytes(gz, Fuzz.Gzip(plain));
        Assert.Equal([1f, 2], CsvReader.Read(gz, -1).Features.ToArray<float>());
        string hidden = Path.Combine(_dir, "data.csv"); // gzip bytes under a plain name: the magic bytes decide
        File.WriteAllBytes(hidden, Fuzz.Gzip(plain));
        Assert.Equal([1f, 2], CsvReader.Read(hidden, -1).Features.ToArray<float>());
        File.WriteAllBytes(gz, plain);
        Assert.Equal($"{gz}: the name ends in .gz but the file is not gzip-compressed (it does not start with the gzip bytes 1f 8b)",
            Assert.Throws<InvalidDataException>(() => CsvReader.Read(gz, -1)).Message);
        byte[] broken = Fuzz.Gzip(plain);
        broken[12] ^= 0xFF;
        File.WriteAllBytes(gz, broken);
        Assert.StartsWith(gz, Assert.Throws<InvalidDataException>(() => CsvReader.Read(gz, -1)).Message);
    }

    [Fact]
    public void MissingOrSpecialPaths_AreRefusedByName()
    {
        string missing = Path.Combine(_dir, "none.csv");
        Assert.Throws<FileNotFoundException>(() => CsvReader.Read(missing, -1));
        Assert.Contains("is a directory", Assert.Throws<InvalidDataException>(() => CsvReader.Read(_dir, -1)).Message);
        string empty = Path.Combine(_dir, "empty.csv");
        File.WriteAllBytes(empty, []);
        Assert.Contains("is empty", Assert.Throws<InvalidDataException>(() => CsvReader.Read(empty, -1)).Message);
    }

    [Fact]
    public void CsvColumn_ParsesPositionsAndNames()
    {
        Assert.Equal(CsvColumn.At(-1), CsvColumn.Parse("-1"));
        Assert.Equal(CsvColumn.At(3), CsvColumn.Parse(" 3 "));
        Assert.Equal(CsvColumn.Named("target"), CsvColumn.Parse("target"));
        Assert.Equal("\"target\"", CsvColumn.Parse("target").ToString());
        Assert.Throws<ArgumentException>(() => CsvColumn.Parse(""));
    }
}
