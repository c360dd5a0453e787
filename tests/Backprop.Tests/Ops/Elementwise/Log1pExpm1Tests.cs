using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;
using F = Backprop.Tests.Ops.EverydayFixtures;

namespace Backprop.Tests.Ops.Elementwise;

/// <summary>Log1p and Expm1 against torch.log1p/torch.expm1 (tiny arguments, −1, ±∞, NaN), in both precisions, with gradients.</summary>
public class Log1pExpm1Tests
{
    private static Tensor X() => T.F64(F.Log1pInput, F.Log1pInput.Length);

    [Fact]
    public void Log1p_MatchesPyTorch_AccurateNearZero()
    {
        EverydayAssert.Close(F.Log1pDouble, X().Log1p(), 1e-15, 0);
        EverydayAssert.Close(F.Log1pFloat, X().To(DType.Float32).Log1p(), 5e-7, 0);
        // 1e-12: Log(1 + x) would give 1.000088900582341e-12; log1p keeps every digit.
        Assert.Equal(1e-12 - 0.5e-24, T.F64([1e-12], 1).Log1p().Item(), 1e-27);
        Assert.True(double.IsNegative(T.F64([-0.0], 1).Log1p().Item()));
    }

    [Fact]
    public void Expm1_MatchesPyTorch_AccurateNearZero()
    {
        EverydayAssert.Close(F.Expm1Double, X().Expm1(), 1e-15, 0);
        EverydayAssert.Close(F.Expm1Float, Functional.Expm1(X().To(DType.Float32)), 5e-7, 0);
        Assert.Equal(1e-10 + 0.5e-20, T.F64([1e-10], 1).Expm1().Item(), 1e-25);
    }

    [Fact]
    public void LongInputs_TakeTheVectorPath()
    {
        // 1,000 elements, so the 256/512-bit bodies run (and the parallel split is not needed); same values as element by element.
        Tensor x = Tensor.Uniform([1000], -0.99, 3, DType.Float64, new Generator(4));
        double[] log1p = x.Log1p().ToDoubleArray(), expm1 = x.Expm1().ToDoubleArray(), xs = x.ToDoubleArray();
        for (int i = 0; i < xs.Length; i++)
        {
            Assert.Equal(Math.Log(1 + xs[i]), log1p[i], 1e-13);
            Assert.Equal(Math.Exp(xs[i]) - 1, expm1[i], 1e-13);
        }
    }

    [Fact]
    public void Gradients()
    {
        Tensor x = T.Uniform(1, -0.9, 2, 3, 4);
        GradCheck.Verify(t => t[0].Log1p(), [x]);
        GradCheck.Verify(t => t[0].Expm1(), [x]);
        GradCheck.Verify(t => t[0].T().Log1p(), [x]);
        GradCheck.Verify(t => t[0].Expand(2, 3, 4).Expm1(), [x]);
        GradCheck.VerifySecondOrder(t => t[0].Log1p(), [x]);
        GradCheck.VerifySecondOrder(t => t[0].Expm1(), [x]);
        Assert.Equal("Log1pBackward", x.Log1p().GradFn!.Name);
        Assert.Equal("Expm1Backward", x.Expm1().GradFn!.Name);
    }

    [Fact]
    public void Int64_ComputesInFloat32_AsTorch() // torch.log1p(torch.ones(2, 2, dtype=torch.int64)) is float32
    {
        Tensor y = Tensor.Ones([2, 2], DType.Int64).Log1p();
        Assert.Equal(DType.Float32, y.DType);
        Assert.Equal([MathF.Log(2), MathF.Log(2), MathF.Log(2), MathF.Log(2)], y.ToArray<float>());
        Assert.Equal(DType.Float32, Tensor.Ones([3], DType.Int64).Expm1().DType);
    }
}
