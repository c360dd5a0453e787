using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN;

public class GumbelSoftmaxTests
{
    [Fact]
    public void Soft_RowsAreDistributions_AndTheGradientChecks()
    {
        Tensor logits = T.Param(1, 4, 5);
        Tensor y = Functional.GumbelSoftmax(logits, tau: 0.7, generator: new Generator(3));
        double[] v = y.ToDoubleArray();
        for (int r = 0; r < 4; r++)
            Assert.Equal(1.0, v.Skip(5 * r).Take(5).Sum(), 12);
        Assert.All(v, p => Assert.InRange(p, 0, 1));
        // The same generator seed gives the same noise on every call, so the function is deterministic.
        GradCheck.Verify(t => Functional.GumbelSoftmax(t[0], tau: 0.7, generator: new Generator(3)), [T.Param(1, 4, 5)]);
        GradCheck.Verify(t => Functional.GumbelSoftmax(t[0], tau: 2, dim: 0, generator: new Generator(4)), [T.Param(2, 3, 2)]);
    }

    [Fact]
    public void Hard_IsTheOneHotOfTheArgmax_WithTheSoftSamplesGradient()
    {
        Tensor a = T.Param(5, 6, 4), b = T.Param(5, 6, 4);
        Tensor weights = T.Param(6, 6, 4).Detach();
        Tensor hard = Functional.GumbelSoftmax(a, tau: 0.5, hard: true, generator: new Generator(9));
        Tensor soft = Functional.GumbelSoftmax(b, tau: 0.5, hard: false, generator: new Generator(9));
        double[] h = hard.ToDoubleArray(), s = soft.ToDoubleArray();
        for (int r = 0; r < 6; r++)
        {
            int argmax = 0;
            for (int j = 1; j < 4; j++) if (s[4 * r + j] > s[4 * r + argmax]) argmax = j;
            for (int j = 0; j < 4; j++) Assert.Equal(j == argmax ? 1.0 : 0.0, h[4 * r + j], 15);
        }
        (hard * weights).Sum().Backward();
        (soft * weights).Sum().Backward();
        T.Close(b.Grad!.ToDoubleArray(), a.Grad!, 1e-14);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void AUniformDrawOfZero_StillGivesAFiniteSample(DType dtype)
    {
        // xoshiro256** with s1 = 0 returns 0 first: NextSingle() = NextDouble() = 0 for the first element.
        var g = new Generator(1);
        g.SetState([1, 0, 0, 0, 0, 0]);
        Tensor y = Functional.GumbelSoftmax(T.Param(3, 2, 3).To(dtype), hard: true, generator: g);
        Assert.All(y.ToDoubleArray(), v => Assert.True(double.IsFinite(v), $"sample {v}"));
    }

    [Fact]
    public void BadTau_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Functional.GumbelSoftmax(T.Param(1, 2, 3), tau: 0));
        Assert.Contains("GumbelSoftmax", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }
}
