using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels;

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
        int rank = Math.Max(shape.Length, 1);
        Span<int> dims = stackalloc int[rank];
        Span<int> sa = stackalloc int[rank];
        Span<int> sb = stackalloc int[rank];
        Span<int> sy = stackalloc int[rank];
        if (shape.Length == 0)
        {
            dims[0] = 1; sa[0] = 0; sb[0] = 0;
        }
        else
        {
            shape.CopyTo(dims); stridesA.CopyTo(sa); stridesB.CopyTo(sb);
        }
        int s = 1;
        for (int d = rank - 1; d >= 0; d--) { sy[d] = s; s *= dims[d]; }
        rank = StridedLayout.Coalesce(dims, sa, sb, sy);

        int inner = dims[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1];
        int rows = y.Length / inner;
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int oa = offsetA, ob = offsetB, oy = 0;
        for (int r = 0; r < rows; r++)
        {
            Span<T> yRow = y.Slice(oy, inner);
            if (ia == 1 && ib == 1) TOp.Apply(a.AsSpan(oa, inner), b.AsSpan(ob, inner), yRow);
            else if (ia == 1 && ib == 0) TOp.Apply(a.AsSpan(oa, inner), b[ob], yRow);
            else if (ia == 0 && ib == 1) TOp.Apply(a[oa], b.AsSpan(ob, inner), yRow);
            else
                for (int i = 0; i < inner; i++) yRow[i] = TOp.Apply(a[oa + i * ia], b[ob + i * ib]);
            oy += inner;
            for (int d = rank - 2; d >= 0; d--)
            {
                oa += sa[d]; ob += sb[d];
                if (++counter[d] < dims[d]) break;
                oa -= sa[d] * dims[d]; ob -= sb[d] * dims[d];
                counter[d] = 0;
            }
        }
    }
}
