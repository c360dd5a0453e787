using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Tests.NN;

public class InitTests
{
    private static (double Mean, double Std, double MaxAbs) Stats(Tensor t)
    {
        double[] v = t.ToDoubleArray();
        double mean = v.Average();
        return (mean, Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Average()), v.Max(Math.Abs));
    }

    [Fact]
    public void Fans_FollowPyTorch()
    {
        Assert.Equal((784, 512), Init.Fans([512, 784]));
        Assert.Equal((3 * 25, 8 * 25), Init.Fans([8, 3, 5, 5]));
        Assert.Throws<ArgumentException>(() => Init.Fans([5]));
    }

    [Fact]
    public void Gains_FollowPyTorch()
    {
        Assert.Equal(Math.Sqrt(2), Init.Gain(Nonlinearity.Relu), 15);
        Assert.Equal(5.0 / 3, Init.Gain(Nonlinearity.Tanh), 15);
        Assert.Equal(Math.Sqrt(2 / (1 + 0.2 * 0.2)), Init.Gain(Nonlinearity.LeakyRelu, 0.2), 15);
        Assert.Equal(1.0, Init.Gain(Nonlinearity.Sigmoid));
    }

    [Fact]
    public void XavierUniform_HasBoundAndVariance()
    {
        var (_, std, maxAbs) = Stats(Init.XavierUniform([300, 500], generator: new Generator(1), dtype: DType.Float64));
        double a = Math.Sqrt(6.0 / 800);
        Assert.True(maxAbs <= a);
        Assert.Equal(a / Math.Sqrt(3), std, 2);
    }

    [Fact]
    public void XavierNormal_HasStd()
    {
        var (mean, std, _) = Stats(Init.XavierNormal([300, 500], gain: 2, generator: new Generator(1), dtype: DType.Float64));
        Assert.Equal(0, mean, 2);
        Assert.Equal(2 * Math.Sqrt(2.0 / 800), std, 3);
    }

    [Fact]
    public void Kaiming_FanInAndFanOut()
    {
        var (_, stdIn, _) = Stats(Init.KaimingNormal([400, 200], nonlinearity: Nonlinearity.Relu, generator: new Generator(2), dtype: DType.Float64));
        Assert.Equal(Math.Sqrt(2.0 / 200), stdIn, 3);
        var (_, stdOut, maxOut) = Stats(Init.KaimingUniform([400, 200], mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, generator: new Generator(2), dtype: DType.Float64));
        double bound = Math.Sqrt(2) * Math.Sqrt(3.0 / 400);
        Assert.True(maxOut <= bound);
        Assert.Equal(bound / Math.Sqrt(3), stdOut, 3);
    }

    [Theory]
    [InlineData(4, 6)]
    [InlineData(6, 4)]
    [InlineData(5, 5)]
    public void Orthogonal_IsOrthonormalAlongTheSmallerSide(int rows, int cols)
    {
        double[] w = Init.Orthogonal([rows, cols], gain: 1.5, generator: new Generator(3), dtype: DType.Float64).ToDoubleArray();
        int k = Math.Min(rows, cols);
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
            {
                double dot = 0;
                if (rows <= cols) for (int j = 0; j < cols; j++) dot += w[a * cols + j] * w[b * cols + j];
                else for (int i = 0; i < rows; i++) dot += w[i * cols + a] * w[i * cols + b];
                Assert.Equal(a == b ? 2.25 : 0, dot, 10);
            }
    }

    [Fact]
    public void Initialisers_RefuseBadParameters_NamingTheOpAndValues()
    {
        var e = Assert.Throws<ArgumentException>(() => Init.Normal([3, 3], 0, -1));
        Assert.Contains("Normal", e.Message);
        Assert.Contains("-1", e.Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Init.Normal([3, 3], 0, double.NaN)).Message);
        var u = Assert.Throws<ArgumentException>(() => Init.Uniform([3], 1, 0));
        Assert.Contains("Uniform", u.Message);
        Assert.Contains("low 1", u.Message);
        // A negative or NaN gain makes the bound or std invalid, refused the same way.
        Assert.Contains("Uniform", Assert.Throws<ArgumentException>(() => Init.XavierUniform([3, 3], gain: -1)).Message);
        Assert.Contains("Normal", Assert.Throws<ArgumentException>(() => Init.XavierNormal([3, 3], gain: double.NaN)).Message);
        Assert.Contains("Uniform", Assert.Throws<ArgumentException>(() => Init.KaimingUniform([3, 3], a: double.NaN)).Message);
    }
}
