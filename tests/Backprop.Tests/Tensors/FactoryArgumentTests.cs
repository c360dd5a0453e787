using Backprop.Tensors;

namespace Backprop.Tests.Tensors;

/// <summary>Factories refuse values PyTorch refuses (or that give no usable tensor) with one message naming the op and the values.</summary>
public class FactoryArgumentTests
{
    // Printed as the current culture prints them ("Infinity" in the invariant culture).
    private static readonly string PosInf = double.PositiveInfinity.ToString(), NegInf = double.NegativeInfinity.ToString();

    private static void Refused(Func<Tensor> make, params string[] fragments)
    {
        var e = Assert.Throws<ArgumentException>(() => make());
        foreach (string f in fragments) Assert.Contains(f, e.Message);
    }

    [Fact]
    public void Arange_RefusesNaNZeroAndInfiniteArguments()
    {
        Refused(() => Tensor.Arange(0, 10, double.NaN), "Arange", "step", "NaN");
        Refused(() => Tensor.Arange(0, 10, 0), "Arange", "step", "0");
        Refused(() => Tensor.Arange(0, 10, double.PositiveInfinity), "Arange", "step", PosInf);
        Refused(() => Tensor.Arange(0, double.PositiveInfinity), "Arange", "end", PosInf);
        Refused(() => Tensor.Arange(double.NaN, 10), "Arange", "start", "NaN");
        Refused(() => Tensor.Arange(double.NegativeInfinity, 0, 1, DType.Float64), "Arange", NegInf);
    }

    [Fact]
    public void Arange_RefusesAStepPointingAwayFromEnd()
    {
        Refused(() => Tensor.Arange(0, 10, -1), "Arange", "step -1", "0", "10");
        Refused(() => Tensor.Arange(10, 0, 2), "Arange", "step 2");
        // An empty range is fine in either direction (as torch.arange(5, 5, -1)).
        Assert.Equal(0, Tensor.Arange(5, 5, -1).Numel);
        Assert.Equal(0, Tensor.Arange(5, 5, 1).Numel);
    }

    [Fact]
    public void Arange_TooManyValues_IsAnArgumentErrorNamingTheCount()
    {
        Refused(() => Tensor.Arange(0, 1e12), "Arange", "1E+12 values", int.MaxValue.ToString());
        Refused(() => Tensor.Arange(0, 1, 1e-300), "Arange", "values");
        Refused(() => Tensor.Arange(-1e308, 1e308, 1, DType.Float64), "Arange"); // end − start overflows to ∞
    }

    [Fact]
    public void Arange_Int64ValuesMustFit()
    {
        Refused(() => Tensor.Arange(1e19, 2e19, 1e18, DType.Int64), "Arange", "int64");
        Refused(() => Tensor.Arange(9e18, 1e19, 5e17, DType.Int64), "Arange", "int64"); // the last value, 9.5e18, does not fit
        Assert.Equal([-3L, -1L, 1L], Tensor.Arange(-3, 2, 2, DType.Int64).ToArray<long>());
    }

    [Fact]
    public void Arange_NormalValuesAreUnchanged()
    {
        Assert.Equal([0.0, 0.1f, 0.2f], Tensor.Arange(0, 0.3, 0.1).ToDoubleArray());
        Assert.Equal([5L, 3L, 1L], Tensor.Arange(5, 0, -2, DType.Int64).ToArray<long>());
        Assert.Equal(4, Tensor.Arange(0, 1, 0.3, DType.Float64).Numel); // ceil(1 / 0.3)
    }

    [Fact]
    public void Uniform_RefusesReversedNaNInfiniteAndOutOfRangeBounds()
    {
        Refused(() => Tensor.Uniform([3], 1, 0), "Uniform", "low 1", "high 0");
        Refused(() => Tensor.Uniform([3], double.NaN, 1), "Uniform", "NaN");
        Refused(() => Tensor.Uniform([3], 0, double.PositiveInfinity), "Uniform", PosInf);
        Refused(() => Tensor.Uniform([3], -1e300, 1e300), "Uniform", "float32", "1E+300"); // as PyTorch: out of bounds for float
        Refused(() => Tensor.Uniform([3], -1e308, 1e308, DType.Float64), "Uniform", "overflows");
        Refused(() => Tensor.Rand([3], DType.Int64), "Uniform", "int64");
    }

    [Fact]
    public void Uniform_EqualBoundsAndNormalBoundsStillSample()
    {
        Assert.Equal([2.0, 2.0], Tensor.Uniform([2], 2, 2, DType.Float64, new Generator(1)).ToDoubleArray());
        // Same generator, same numbers as before the checks.
        var g = new Generator(3);
        double[] expected = [-1 + 4 * g.NextDouble(), -1 + 4 * g.NextDouble()];
        Assert.Equal(expected, Tensor.Uniform([2], -1, 3, DType.Float64, new Generator(3)).ToDoubleArray());
    }

    [Fact]
    public void Normal_RefusesNegativeNaNAndInfiniteParameters()
    {
        Refused(() => Tensor.Normal([3], 0, -1), "Normal", "std", "-1");
        Refused(() => Tensor.Normal([3], 0, double.NaN), "Normal", "std", "NaN");
        Refused(() => Tensor.Normal([3], 0, double.PositiveInfinity), "Normal", "std", PosInf);
        Refused(() => Tensor.Normal([3], double.NaN, 1), "Normal", "mean", "NaN");
        Refused(() => Tensor.Normal([3], double.NegativeInfinity, 1, DType.Float64), "Normal", "mean", NegInf);
        Refused(() => Tensor.Normal([3], 1e300, 1), "Normal", "float32");
        Refused(() => Tensor.Randn([3], DType.Int64), "Normal", "int64");
    }

    [Fact]
    public void Normal_ZeroStdGivesTheMean()
        => Assert.Equal([1.5, 1.5, 1.5], Tensor.Normal([3], 1.5, 0, DType.Float64, new Generator(2)).ToDoubleArray());

    [Fact]
    public void Full_Int64RefusesValuesWithoutAnInt64()
    {
        Refused(() => Tensor.Full([2], double.NaN, DType.Int64), "Full", "NaN", "int64");
        Refused(() => Tensor.Full([2], 1e19, DType.Int64), "Full", "1E+19", "int64");
        Refused(() => Tensor.Scalar(double.PositiveInfinity, DType.Int64), "Full", PosInf);
        Assert.Equal([long.MinValue], Tensor.Full([1], -9223372036854775808.0, DType.Int64).ToArray<long>());
        Assert.Equal([-2L, -2L], Tensor.Full([2], -2.7, DType.Int64).ToArray<long>()); // truncates as torch.full
        Assert.Equal([float.PositiveInfinity], Tensor.Full([1], double.PositiveInfinity).ToArray<float>());
    }

    [Fact]
    public void RandInt_RefusesEmptyAndTooWideRanges()
    {
        Refused(() => Tensor.RandInt([2], 3, 3), "RandInt", "[3, 3)");
        Refused(() => Tensor.RandInt([2], long.MinValue, long.MaxValue), "RandInt", long.MinValue.ToString());
        Assert.All(Tensor.RandInt([100], -2, 2, new Generator(4)).ToArray<long>(), v => Assert.InRange(v, -2, 1));
    }

    [Fact]
    public void Shapes_NegativeOrOverflowing_NameTheShape()
    {
        Refused(() => Tensor.Zeros([2, -1]), "Shape", "[2, -1]");
        Refused(() => Tensor.Full([-3], 1.0), "Shape", "[-3]");
        Refused(() => Tensor.Zeros([65536, 65536]), "Shape", "[65536, 65536]", int.MaxValue.ToString());
        Refused(() => Tensor.Ones([1 << 20, 1 << 20, 1 << 20]), "Shape", "[1048576, 1048576, 1048576]");
        Assert.Equal(0, Tensor.Zeros([0, 5]).Numel);
    }
}
