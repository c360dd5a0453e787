using Backprop.Tensors;

namespace Backprop.Tests.Ops.Reduce;

/// <summary>Any and All, whole and per dim; values from PyTorch 2.x (tools/dtype-reference.py).</summary>
public class AnyAllTests
{
    private static void Is(bool[] expected, Tensor t)
    {
        Assert.Equal(DType.Bool, t.DType);
        Assert.Equal(expected, t.ToArray<bool>());
    }

    private static readonly Tensor M = Tensor.FromArray(new[] { true, false, true, false, false, true }, [2, 3]);

    [Fact]
    public void Bool_WholeAndPerDim()
    {
        Is([true], M.Any().Reshape(1));
        Assert.Equal(0, M.Any().Rank);
        Is([false], M.All().Reshape(1));
        Is([true, false, true], M.Any(0));
        Is([false, false], M.All(1));
        Is([true, true], M.Any(1, keepDim: true).Reshape(2));
        Assert.Equal(new Shape(2, 1), M.Any(1, keepDim: true).Shape);
        Is([false, false, true], M.All(-2));
        Is([true, false, true], M.T().Any(1)); // strided input
    }

    [Fact]
    public void Float_NonzeroIsTrue()
    {
        // torch: x3.any(1) = [F, T, T, T]; x3.all(2) = [F, F, T, F]; x3.all() = F
        Tensor x3 = Tensor.FromArray(new[] { 0.0, 1, 0, 0, 2, double.NaN, 0, 3 }, [2, 2, 2]);
        Is([false, true, true, true], x3.Any(1).Reshape(4));
        Is([false, false, true, false], x3.All(2).Reshape(4));
        Is([false], x3.All().Reshape(1));
        Is([true], Tensor.FromArray(new long[] { 0, 0, 7 }).Any().Reshape(1));
    }

    [Fact]
    public void Empty_AnyIsFalse_AllIsTrue()
    {
        Tensor e = Tensor.Zeros([0, 3]);
        Is([false], e.Any().Reshape(1));
        Is([true], e.All().Reshape(1));
        Is([false, false, false], e.Any(0));
        Is([true, true, true], e.All(0));
        Assert.Equal(new Shape(0), e.Any(1).Shape);
    }

    [Fact]
    public void ZeroDim_AndBadDim()
    {
        Is([true], Tensor.Scalar(2).Any(0).Reshape(1));
        Is([false], Tensor.Scalar(0).All(-1).Reshape(1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => M.Any(2));
        Assert.Contains("Any", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }

    [Fact]
    public void LongRows_MatchALoop()
    {
        var rng = new Random(3);
        bool[] v = Enumerable.Range(0, 7 * 130).Select(_ => rng.Next(50) != 0).ToArray();
        Tensor t = Tensor.FromArray(v, [7, 130]);
        for (int r = 0; r < 7; r++)
        {
            Assert.Equal(v.Skip(r * 130).Take(130).All(b => b), t.All(1).ToArray<bool>()[r]);
            Assert.Equal(v.Skip(r * 130).Take(130).Any(b => !b), (!t).Any(1).ToArray<bool>()[r]);
        }
        for (int c = 0; c < 130; c++)
            Assert.Equal(Enumerable.Range(0, 7).All(r => v[r * 130 + c]), t.All(0).ToArray<bool>()[c]);
    }
}
