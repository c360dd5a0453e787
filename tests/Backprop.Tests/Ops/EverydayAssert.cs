using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops;

/// <summary>Helpers shared by the everyday-op tests: comparisons that treat NaN as equal, and PyTorch-reproducible gradients.</summary>
internal static class EverydayAssert
{
    /// <summary>Asserts every element is within atol + rtol·|expected| (NaN matches NaN, infinities must be equal).</summary>
    public static void Close(double[] expected, Tensor actual, double rtol = 1e-12, double atol = 1e-12)
    {
        double[] a = actual.ToDoubleArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
        {
            double e = expected[i];
            if (double.IsNaN(e)) { Assert.True(double.IsNaN(a[i]), $"element {i}: expected NaN, got {a[i]:R}"); continue; }
            if (double.IsInfinity(e)) { Assert.True(e == a[i], $"element {i}: expected {e}, got {a[i]:R}"); continue; }
            Assert.True(Math.Abs(e - a[i]) <= atol + rtol * Math.Abs(e), $"element {i}: expected {e:R}, got {a[i]:R}");
        }
    }

    /// <summary>
    /// y = f(x) and d/dx Σ y·w with w = SineFill(20) + 1 over y's shape: the gradient the fixture script computes.
    /// </summary>
    public static (Tensor Y, Tensor Grad) Gradient(Func<Tensor, Tensor> f, Tensor x)
    {
        Tensor leaf = x.Detach().Clone().RequireGrad();
        Tensor y = f(leaf);
        Tensor w = SineFill.Tensor(20, y.Shape.ToArray()) + 1.0;
        (y * w).Sum().Backward();
        return (y.Detach(), leaf.Grad ?? Tensor.ZerosLike(leaf));
    }
}
