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

/// <summary>Runs an <see cref="IBinaryOp{T}"/> over broadcast, strided operands given as spans over their whole storage.</summary>
internal static class SpanBinaryKernel
{
    /// <summary>
    /// y[i] = op(a[i], b[i]) over <paramref name="shape"/>; a and b are read at offsets with (broadcast)
    /// strides, y is contiguous. Rows with unit or zero inner strides use the op's span forms.
    /// </summary>
    public static void Run<T, TOp>(ReadOnlySpan<T> a, int offsetA, ReadOnlySpan<int> stridesA,
                                   ReadOnlySpan<T> b, int offsetB, ReadOnlySpan<int> stridesB,
                                   Span<T> y, ReadOnlySpan<int> shape)
        where T : unmanaged, INumber<T>
        where TOp : IBinaryOp<T>
    {
        if (y.Length == 0) return;
        var rows = new StridedRows(shape, stridesA, offsetA, stridesB, offsetB, stackalloc int[StridedRows.ScratchLength(shape.Length)]);
        int inner = rows.Inner, ia = rows.Step0, ib = rows.Step1;
        for (int oy = 0; oy < y.Length; oy += inner, rows.Advance())
        {
            Span<T> yRow = y.Slice(oy, inner);
            int oa = rows.Offset0, ob = rows.Offset1;
            if (ia == 1 && ib == 1) TOp.Apply(a.Slice(oa, inner), b.Slice(ob, inner), yRow);
            else if (ia == 1 && ib == 0) TOp.Apply(a.Slice(oa, inner), b[ob], yRow);
            else if (ia == 0 && ib == 1) TOp.Apply(a[oa], b.Slice(ob, inner), yRow);
            else
                for (int i = 0; i < inner; i++) yRow[i] = TOp.Apply(a[oa + i * ia], b[ob + i * ib]);
        }
    }
}
