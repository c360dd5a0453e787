using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Elementwise;

// Bitwise and, or, xor on long (int64 tensors) and on byte (the bytes 0/1 of bool tensors, where
// they are the logical operations: 0/1 in, 0/1 out). TensorPrimitives vectorises them.

internal readonly struct BitwiseAndOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>, IBitwiseOperators<T, T, T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.BitwiseAnd(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.BitwiseAnd(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.BitwiseAnd(b, a, y);
    public static T Apply(T a, T b) => a & b;
}

internal readonly struct BitwiseOrOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>, IBitwiseOperators<T, T, T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.BitwiseOr(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.BitwiseOr(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.BitwiseOr(b, a, y);
    public static T Apply(T a, T b) => a | b;
}

internal readonly struct BitwiseXorOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>, IBitwiseOperators<T, T, T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Xor(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Xor(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Xor(b, a, y);
    public static T Apply(T a, T b) => a ^ b;
}
