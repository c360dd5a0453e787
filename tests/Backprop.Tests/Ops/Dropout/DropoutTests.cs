using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Dropout;

public class DropoutTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Training_ZeroesAboutPAndScalesSurvivors(double p)
    {
        const int n = 100_000;
        Tensor x = Tensor.Uniform([n], 1, 2, DType.Float64, new Generator(1));
        double[] xv = x.ToDoubleArray();
        double[] y = Functional.Dropout(x, p, generator: new Generator(2)).ToDoubleArray();
        int zeros = 0;
        for (int i = 0; i < n; i++)
        {
            if (y[i] == 0) zeros++;
            else Assert.Equal(xv[i] / (1 - p), y[i], 1e-12);
        }
        // Binomial(n, p): 5 standard deviations.
        Assert.InRange((double)zeros / n, p - 5 * Math.Sqrt(p * (1 - p) / n), p + 5 * Math.Sqrt(p * (1 - p) / n));
    }

    [Fact]
    public void SeededGenerator_IsReproducible()
    {
        Tensor x = Tensor.Ones([4, 50]);
        double[] a = Functional.Dropout(x, 0.5, generator: new Generator(42)).ToDoubleArray();
        double[] b = Functional.Dropout(x, 0.5, generator: new Generator(42)).ToDoubleArray();
        double[] c = Functional.Dropout(x, 0.5, generator: new Generator(43)).ToDoubleArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, v => Assert.True(v == 0 || v == 2));
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void Gradient_IsMaskTimesScale(DType dtype)
    {
        Tensor x = Tensor.Uniform([3, 40], 1, 2, dtype, new Generator(3)).RequireGrad();
        Tensor y = Functional.Dropout(x, 0.25, generator: new Generator(4));
        Assert.Equal(dtype, y.DType);
        y.Sum().Backward();
        double[] yv = y.ToDoubleArray(), g = x.Grad!.ToDoubleArray();
        for (int i = 0; i < g.Length; i++)
            Assert.Equal(yv[i] == 0 ? 0 : 1 / 0.75, g[i], 1e-6);
    }

    [Fact]
    public void GradCheck_WithFixedMask()
    {
        Tensor x = T.Param(1, 3, 4);
        GradCheck.Verify(v => Functional.Dropout(v[0], 0.4, generator: new Generator(9)), [x]);
        GradCheck.VerifySecondOrder(v => Functional.Dropout(v[0] * v[0], 0.4, generator: new Generator(9)), [T.Param(2, 3, 4)]);
    }

    [Fact]
    public void PZeroOrEval_ReturnsInputUnchanged()
    {
        Tensor x = T.Param(1, 2, 3);
        Assert.Same(x, Functional.Dropout(x, 0));
        Assert.Same(x, Functional.Dropout(x, 0.5, training: false));
        Assert.Same(x, Functional.Dropout(x, 1, training: false));
    }

    [Fact]
    public void POne_GivesZerosAndZeroGradient()
    {
        Tensor x = T.Param(1, 2, 3);
        Tensor y = Functional.Dropout(x, 1);
        T.Close([0, 0, 0, 0, 0, 0], y, 0);
        y.Sum().Backward();
        T.Close([0, 0, 0, 0, 0, 0], x.Grad!, 0);
    }

    [Fact]
    public void Errors()
    {
        var p = Assert.Throws<ArgumentException>(() => Functional.Dropout(Tensor.Ones([2]), 1.5));
        Assert.Contains("Dropout", p.Message);
        Assert.Contains("1.5", p.Message);
        Assert.Throws<ArgumentException>(() => Functional.Dropout(Tensor.Ones([2]), double.NaN));
        var dtype = Assert.Throws<ArgumentException>(() => Functional.Dropout(Tensor.Zeros([2], DType.Int64)));
        Assert.Contains("int64", dtype.Message);
    }
}
