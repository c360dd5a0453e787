using Backprop.Tensors;

namespace Backprop.Tests.Support;

/// <summary>Short helpers for building test tensors.</summary>
internal static class T
{
    /// <summary>Float64 N(0,1) leaf that requires grad, seeded.</summary>
    public static Tensor Param(int seed, params int[] shape)
        => Tensor.Randn(shape, DType.Float64, new Generator((ulong)seed)).RequireGrad();

    /// <summary>Float64 U(low, high) leaf that requires grad, seeded.</summary>
    public static Tensor Uniform(int seed, double low, double high, params int[] shape)
        => Tensor.Uniform(shape, low, high, DType.Float64, new Generator((ulong)seed)).RequireGrad();

    /// <summary>Float64 tensor from values.</summary>
    public static Tensor F64(double[] values, params int[] shape)
        => Tensor.FromArray(values, shape.Length == 0 ? null : new Shape(shape));

    /// <summary>Float32 tensor from values.</summary>
    public static Tensor F32(float[] values, params int[] shape)
        => Tensor.FromArray(values, shape.Length == 0 ? null : new Shape(shape));

    /// <summary>Asserts two arrays are equal within an absolute tolerance.</summary>
    public static void Close(double[] expected, double[] actual, double tol = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>Asserts a tensor's values equal the expected ones within tolerance.</summary>
    public static void Close(double[] expected, Tensor actual, double tol = 1e-6) => Close(expected, actual.ToDoubleArray(), tol);
}
