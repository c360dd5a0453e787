using System.Numerics;

namespace Backprop.Kernels;

/// <summary>An element-wise unary operation over contiguous spans.</summary>
internal interface IUnaryOp<T> where T : unmanaged, INumber<T>
{
    static abstract void Apply(ReadOnlySpan<T> x, Span<T> y);
}
