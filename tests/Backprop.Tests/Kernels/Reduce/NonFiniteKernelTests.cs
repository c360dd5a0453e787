using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Reduce;

namespace Backprop.Tests.Kernels.Reduce;

/// <summary>The NaN/infinity count of anomaly mode: the vectorized all-finite test must never miss one, at any position.</summary>
[Trait("Category", "Kernels")]
public class NonFiniteKernelTests
{
    private static readonly int MaxLength = 3 * Vector512<float>.Count + 1;

    private static void CheckEveryPosition<T>() where T : unmanaged, IFloatingPointIeee754<T>, IMinMaxValue<T>
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var x = new T[n];
            for (int i = 0; i < n; i++) x[i] = T.CreateTruncating(i % 2 == 0 ? 1e-40 * i : -3.5 * i); // finite, subnormals included
            if (n > 0) x[n / 2] = T.MaxValue;
            Assert.Equal(default, NonFiniteKernel.Count<T>(x));
            for (int p = 0; p < n; p++)
            {
                T saved = x[p];
                foreach ((T bad, NonFiniteCounts expected) in new[]
                {
                    (T.NaN, new NonFiniteCounts(1, 0, 0)),
                    (T.PositiveInfinity, new NonFiniteCounts(0, 1, 0)),
                    (T.NegativeInfinity, new NonFiniteCounts(0, 0, 1)),
                })
                {
                    x[p] = bad;
                    Assert.Equal(expected, NonFiniteKernel.Count<T>(x));
                    Assert.Equal(expected, NonFiniteKernel.CountScalar<T>(x));
                }
                x[p] = saved;
            }
        }
    }

    [Fact]
    public void Count_FindsANaNOrInfinityAtEveryPosition_Float32() => CheckEveryPosition<float>();

    [Fact]
    public void Count_FindsANaNOrInfinityAtEveryPosition_Float64() => CheckEveryPosition<double>();

    [Fact]
    public void Count_CountsEachKind()
    {
        float[] x = [float.NaN, 1, float.NegativeInfinity, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0, float.NaN];
        NonFiniteCounts c = NonFiniteKernel.Count<float>(x);
        Assert.Equal(new NonFiniteCounts(3, 1, 2), c);
        Assert.True(c.HasNaN && c.HasInfinity && c.Any);
        Assert.Equal(new NonFiniteCounts(3, 1, 2), c + default(NonFiniteCounts));
    }
}
