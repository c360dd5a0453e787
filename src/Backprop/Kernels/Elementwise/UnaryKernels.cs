using System.Numerics;

namespace Backprop.Kernels.Elementwise;

/// <summary>An element-wise unary operation over contiguous spans.</summary>
internal interface IUnaryOp<T> where T : unmanaged, INumber<T>
{
    static abstract void Apply(ReadOnlySpan<T> x, Span<T> y);
}

internal readonly struct ExpKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => System.Numerics.Tensors.TensorPrimitives.Exp(x, y);
}

internal readonly struct LogKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => System.Numerics.Tensors.TensorPrimitives.Log(x, y);
}

internal readonly struct SinKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => System.Numerics.Tensors.TensorPrimitives.Sin(x, y);
}

internal readonly struct CosKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => System.Numerics.Tensors.TensorPrimitives.Cos(x, y);
}

internal readonly struct SigmoidKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => System.Numerics.Tensors.TensorPrimitives.Sigmoid(x, y);
}

internal readonly struct TanhKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => System.Numerics.Tensors.TensorPrimitives.Tanh(x, y);
}
