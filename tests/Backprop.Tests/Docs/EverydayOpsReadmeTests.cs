using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Tests.Docs;

/// <summary>The README's everyday-ops snippet, run as a test; a second test keeps the README copy identical.</summary>
public class EverydayOpsReadmeTests
{
    [Fact]
    public void Snippet_RunsWithTheShapesItClaims()
    {
        // README-EVERYDAY-BEGIN
        Tensor x = Tensor.Randn([4, 6], generator: new Generator(1));
        Tensor a = Tensor.Randn([2, 3, 5]), b = Tensor.Randn([2, 5, 4]);

        var (values, indices) = x.Sort(dim: -1, descending: true);   // int64 indices; TopK(k, dim, largest, sorted), ArgSort
        Tensor c = x.CumSum(1);                                       // CumProd(dim); Prod() / Prod(dim, keepDim)
        Tensor n = x.Norm(2, dim: 1, keepDim: true);                  // p = 2, 1, ±inf, 0 or any real; FrobeniusNorm([-2, -1])
        Tensor u = Functional.Normalize(x, p: 2, dim: 1);             // x / max(‖x‖, eps)
        Tensor r = x.Flip(0).Roll(shifts: 1, dims: 1);                // Roll(1) rolls the flattened tensor
        Tensor y = Tensor.Einsum("bij,bjk->bik", a, b);               // "ii" trace, "ii->i" diagonal, "...ij->...ji", implicit output
        Tensor e = Tensor.Eye(3), l = Tensor.Linspace(0, 1, steps: 5), g = Tensor.Logspace(0, 2, steps: 3);
        Tensor small = x.Abs().Log1p(), grow = x.Expm1();             // accurate near 0
        // README-EVERYDAY-END

        Assert.Equal(DType.Int64, indices.DType);
        Assert.Equal(new Shape(4, 6), values.Shape);
        Assert.Equal(new Shape(4, 6), c.Shape);
        Assert.Equal(new Shape(4, 1), n.Shape);
        Assert.Equal(new Shape(4, 6), u.Shape);
        Assert.Equal(new Shape(4, 6), r.Shape);
        Assert.Equal(new Shape(2, 3, 4), y.Shape);
        Assert.Equal(new float[] { 0, 0.25f, 0.5f, 0.75f, 1 }, l.ToArray<float>());
        Assert.Equal(new float[] { 1, 10, 100 }, g.ToArray<float>());
        Assert.Equal(3.0, e.Sum().Item());
        Assert.True(small.Min().Item() >= 0);
        Assert.True(grow.Min().Item() > -1);
    }

    [Fact]
    public void Readme_ShowsExactlyTheTestedSnippet()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Backprop.slnx"))) root = Path.GetDirectoryName(root)!;
        string[] test = File.ReadAllLines(Path.Combine(root, "tests", "Backprop.Tests", "Docs", "EverydayOpsReadmeTests.cs"));
        string readme = File.ReadAllText(Path.Combine(root, "README.md")).Replace("\r\n", "\n");
        int begin = Array.FindIndex(test, l => l.Contains("README-EVERYDAY-BEGIN")), end = Array.FindIndex(test, l => l.Contains("README-EVERYDAY-END"));
        string[] lines = test[(begin + 1)..end];
        int indent = lines[0].Length - lines[0].TrimStart().Length;
        Assert.Contains(string.Join("\n", Array.ConvertAll(lines, s => s.Length >= indent ? s[indent..] : s.TrimStart())), readme);
    }
}
