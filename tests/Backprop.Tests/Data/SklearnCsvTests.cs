using Backprop.Data;
using Backprop.Data.Csv;
using Backprop.Tensors;

namespace Backprop.Tests.Data;

/// <summary>
/// The CSV reader on the data files Debian's python3-sklearn ships (iris, wine, breast cancer, digits): shapes
/// and class counts as scikit-learn's own loaders give them, with and without the preamble line.
/// </summary>
public class SklearnCsvTests
{
    /// <summary>Where python3-sklearn (`apt-get install python3-sklearn`) installs scikit-learn's data files.</summary>
    public const string DataDirectory = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    private static string File(string name)
    {
        string path = Path.Combine(DataDirectory, name);
        Assert.True(System.IO.File.Exists(path), $"{path} is missing: install it with `sudo apt-get install python3-sklearn`");
        return path;
    }

    private static long[] ClassCounts(CsvTable t)
    {
        var counts = new long[t.ClassCount];
        foreach (long label in t.Targets.ToArray<long>()) counts[label]++;
        return counts;
    }

    [Theory]
    [InlineData("iris.csv", 150, 4, new long[] { 50, 50, 50 })]
    [InlineData("wine_data.csv", 178, 13, new long[] { 59, 71, 48 })]
    [InlineData("breast_cancer.csv", 569, 30, new long[] { 212, 357 })]
    public void PreambleFiles_WithSkipRows1_LoadAsScikitLearnDoes(string name, int rows, int features, long[] classes)
    {
        CsvTable t = CsvReader.Read(File(name), -1, new CsvOptions { SkipRows = 1 });
        Assert.False(t.HasHeader);
        Assert.Equal(new Shape(rows, features), t.Features.Shape);
        Assert.Equal(TargetKind.Classification, t.Kind);
        Assert.Equal(Enumerable.Range(0, classes.Length).Select(c => (double)c), t.ClassValues);
        Assert.Equal(classes, ClassCounts(t));
    }

    [Fact]
    public void Digits_Gzipped_WithoutPreamble()
    {
        CsvTable t = CsvReader.Read(File("digits.csv.gz"), -1);
        Assert.Equal(new Shape(1797, 64), t.Features.Shape);
        Assert.Equal(10, t.ClassCount);
        Assert.Equal([178L, 182, 177, 183, 181, 182, 181, 179, 174, 180], ClassCounts(t));
        float[] pixels = t.Features.ToArray<float>();
        Assert.Equal(0, pixels.Min());
        Assert.Equal(16, pixels.Max());
        Assert.Equal([0f, 0, 5, 13, 9, 1, 0, 0], pixels[..8]); // the first row of the file
    }

    [Fact]
    public void BreastCancer_WithoutSkipRows_PointsAtThePreamble()
    {
        var e = Assert.Throws<InvalidDataException>(() => CsvReader.Read(File("breast_cancer.csv"), -1));
        Assert.Contains("breast_cancer.csv, line 2: 31 fields, but the header (line 1) has 4", e.Message);
        Assert.Contains("skip it with skipRows: 1", e.Message);
    }

    [Fact]
    public void Boston_HasAHeaderAfterItsPreamble_AndARealTarget()
    {
        CsvTable t = CsvReader.Read(File("boston_house_prices.csv"), "MEDV", new CsvOptions { SkipRows = 1 });
        Assert.True(t.HasHeader);
        Assert.Equal(new Shape(506, 13), t.Features.Shape);
        Assert.Equal("CRIM", t.FeatureNames[0]);
        Assert.Equal(TargetKind.Regression, t.Kind);
        Assert.Equal(new Shape(506, 1), t.Targets.Shape);
        Assert.Equal(24f, t.Targets.ToArray<float>()[0]);
        // Without skipping, the preamble "506,13,,,…" is read as data and its empty fields are refused.
        var e = Assert.Throws<InvalidDataException>(() => CsvReader.Read(File("boston_house_prices.csv"), -1));
        Assert.Contains("boston_house_prices.csv, line 1, column index 2: an empty field", e.Message);
        Assert.Contains("skip it with skipRows: 1", e.Message);
    }

    [Fact]
    public void SpaceSeparatedFiles_GzippedOrWithAHeader()
    {
        CsvTable diabetes = CsvReader.Read(File("diabetes_data_raw.csv.gz"), -1);
        Assert.Equal(new Shape(442, 9), diabetes.Features.Shape);
        Assert.Equal(TargetKind.Regression, diabetes.Kind); // integer glucose levels, but 56 of them: too many to be classes
        CsvTable linnerud = CsvReader.Read(File("linnerud_physiological.csv"), "Pulse");
        Assert.Equal(["Weight", "Waist"], linnerud.FeatureNames);
        Assert.Equal(new Shape(20, 2), linnerud.Features.Shape);
    }

    [Fact]
    public void Iris_WithoutSkipRows_ReadsThePreambleAsAHeader()
    {
        // Its preamble "150,4,setosa,versicolor,virginica" has one field per column, so it passes for a header.
        CsvTable t = CsvReader.Read(File("iris.csv"), -1);
        Assert.True(t.HasHeader);
        Assert.Equal(new Shape(150, 4), t.Features.Shape);
        Assert.Equal("virginica", t.TargetName);
    }

    [Fact]
    public void ASplitOfDigits_FeedsADataLoader()
    {
        CsvTable t = CsvReader.Read(File("digits.csv.gz"), CsvColumn.Parse("64")); // a number is a position
        Subset<(Tensor Input, Tensor Target)>[] parts = Dataset.RandomSplit(t.ToDataset(), [0.8, 0.2], new Generator(0));
        Assert.Equal([1438, 359], parts.Select(p => p.Count));
        var (x, y) = new DataLoader(parts[1], 359).Single();
        Assert.Equal(new Shape(359, 64), x.Shape);
        Assert.Equal(new Shape(359), y.Shape);
        Assert.Equal(DType.Int64, y.DType);
    }
}
