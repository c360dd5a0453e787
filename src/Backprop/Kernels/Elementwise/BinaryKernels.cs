using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Elementwise;

/// <summary>An element-wise binary operation with span, span-scalar and scalar forms.</summary>
internal interface IBinaryOp<T> where T : unmanaged, INumber<T>
{
    static abstract void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y);
    static abstract void Apply(ReadOnlySpan<T> a, T b, Span<T> y);
    static abstract void Apply(T a, ReadOnlySpan<T> b, Span<T> y);
    static abstract T Apply(T a, T b);
}

internal readonly struct AddOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Add(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(b, a, y);
    public static T Apply(T a, T b) => a + b;
}

internal readonly struct SubOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static T Apply(T a, T b) => a - b;
}

internal readonly struct MulOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(b, a, y);
    public static T Apply(T a, T b) => a * b;
}

internal readonly struct DivOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static T Apply(T a, T b) => a / b;
}

internal readonly struct MaxOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Max(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(b, a, y);
    public static T Apply(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? a + b : T.Max(a, b);
}

internal readonly struct MinOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Min(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(b, a, y);
    public static T Apply(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? a + b : T.Min(a, b);
}

/// <summary>Runs a binary op over broadcast, strided operands into a contiguous destination.</summary>
internal static class BinaryKernel
{
    /// <summary>
    /// y[i] = op(a[i], b[i]) over <paramref name="shape"/>; a and b are given by array, offset and
    /// (broadcast) strides, y is contiguous. Rows with unit or zero inner strides use span kernels.
    /// </summary>
    public static void Run<T, TOp>(T[] a, int offsetA, ReadOnlySpan<int> stridesA,
                                   T[] b, int offsetB, ReadOnlySpan<int> stridesB,
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
            if (ia == 1 && ib == 1) TOp.Apply(a.AsSpan(oa, inner), b.AsSpan(ob, inner), yRow);
            else if (ia == 1 && ib == 0) TOp.Apply(a.AsSpan(oa, inner), b[ob], yRow);
            else if (ia == 0 && ib == 1) TOp.Apply(a[oa], b.AsSpan(ob, inner), yRow);
            else
                for (int i = 0; i < inner; i++) yRow[i] = TOp.Apply(a[oa + i * ia], b[ob + i * ib]);
        }
    }
}
