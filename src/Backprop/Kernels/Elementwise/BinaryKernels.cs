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
    /// <summary>Float operands of at least this many elements are split over the threads.</summary>
    public const int ParallelMinLength = 1 << 16;

    /// <summary>
    /// y = op(a, b) for contiguous operands: a and b as long as y, or one of them a single value.
    /// Long float arrays are split over the threads (each element depends only on its own inputs, so
    /// no result changes); integer ops stay on the calling thread, where a division by zero is raised.
    /// </summary>
    public static unsafe void RunContiguous<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged, INumber<T>
        where TOp : IBinaryOp<T>
    {
        int n = y.Length;
        bool split = n >= ParallelMinLength && (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && Threading.Parallelism.ThreadCount > 1;
        if (!split)
        {
            Apply<T, TOp>(a, b, y);
            return;
        }
        fixed (T* pa = a, pb = b, py = y)
        {
            var body = new ContiguousBody<T, TOp> { A = pa, B = pb, Y = py, AScalar = a.Length != n, BScalar = b.Length != n };
            Threading.Parallelism.ParallelFor(n, 64, ref body, Threading.Parallelism.BalancedChunks);
        }
    }

    private static void Apply<T, TOp>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, INumber<T> where TOp : IBinaryOp<T>
    {
        if (a.Length == y.Length && b.Length == y.Length) TOp.Apply(a, b, y);
        else if (a.Length == y.Length) TOp.Apply(a, b[0], y);
        else TOp.Apply(a[0], b, y);
    }

    private unsafe struct ContiguousBody<T, TOp> : Threading.IRangeBody where T : unmanaged, INumber<T> where TOp : IBinaryOp<T>
    {
        public T* A, B, Y;
        public bool AScalar, BScalar;

        public readonly void Invoke(int start, int end)
        {
            int len = end - start;
            var y = new Span<T>(Y + start, len);
            if (AScalar) TOp.Apply(*A, new ReadOnlySpan<T>(B + start, len), y);
            else if (BScalar) TOp.Apply(new ReadOnlySpan<T>(A + start, len), *B, y);
            else TOp.Apply(new ReadOnlySpan<T>(A + start, len), new ReadOnlySpan<T>(B + start, len), y);
        }
    }

    /// <summary>
    /// y[i] = op(a[i], b[i]) over <paramref name="shape"/>; a and b are given by their whole storage (an
    /// array, or a span over bool tensors' bytes), offset and (broadcast) strides, y is contiguous. Rows with
    /// unit or zero inner strides use span kernels.
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
