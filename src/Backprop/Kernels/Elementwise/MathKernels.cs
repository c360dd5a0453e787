using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

internal readonly struct SqrtKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sqrt(x, y);
}

internal readonly struct RsqrtKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.ReciprocalSqrt(x, y);
}

internal readonly struct ReciprocalKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Reciprocal(x, y);
}

internal readonly struct SquareKernel<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Multiply(x, x, y);
}

internal readonly struct CubeKernel<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y)
    {
        TensorPrimitives.Multiply(x, x, y);
        TensorPrimitives.Multiply(y, x, y);
    }
}

internal readonly struct RoundKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    // Half to even, like PyTorch.
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Round(x, y);
}

internal readonly struct FloorKernel<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Floor(x, y);
}

internal readonly struct AbsKernel<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    // TensorPrimitives.Abs throws on long.MinValue; PyTorch wraps it to itself, as the vector abs does.
    public static void Apply(ReadOnlySpan<T> x, Span<T> y)
    {
        if (typeof(T) == typeof(long)) VectorLoop.Unary(default(AbsOp<T>), x, y);
        else TensorPrimitives.Abs(x, y);
    }
}

/// <summary>|x| with wrap-around for the most negative integer.</summary>
internal readonly struct AbsOp<T> : IVectorUnary<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => x < T.Zero ? unchecked(T.Zero - x) : x;
    public Vector128<T> Invoke(Vector128<T> x) => Vector128.Abs(x);
    public Vector256<T> Invoke(Vector256<T> x) => Vector256.Abs(x);
    public Vector512<T> Invoke(Vector512<T> x) => Vector512.Abs(x);
}

/// <summary>sign(x) ∈ {−1, 0, 1}; NaN gives 0 (as PyTorch).</summary>
internal readonly struct SignOp<T> : IVectorUnary<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero;

    public Vector128<T> Invoke(Vector128<T> x)
        => (Vector128.GreaterThan(x, Vector128<T>.Zero) & Vector128<T>.One) - (Vector128.LessThan(x, Vector128<T>.Zero) & Vector128<T>.One);

    public Vector256<T> Invoke(Vector256<T> x)
        => (Vector256.GreaterThan(x, Vector256<T>.Zero) & Vector256<T>.One) - (Vector256.LessThan(x, Vector256<T>.Zero) & Vector256<T>.One);

    public Vector512<T> Invoke(Vector512<T> x)
        => (Vector512.GreaterThan(x, Vector512<T>.Zero) & Vector512<T>.One) - (Vector512.LessThan(x, Vector512<T>.Zero) & Vector512<T>.One);
}

internal readonly struct SignKernel<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static void Apply(ReadOnlySpan<T> x, Span<T> y) => VectorLoop.Unary(default(SignOp<T>), x, y);
}

/// <summary>y = min(max(x, lo), hi); NaN stays NaN; lo &gt; hi gives hi everywhere (as PyTorch).</summary>
internal readonly struct ClampOp<T>(T lo, T hi) : IVectorUnary<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => T.IsNaN(x) ? x : T.Min(T.Max(x, lo), hi);

    public Vector128<T> Invoke(Vector128<T> x)
    {
        Vector128<T> c = Vector128.Min(Vector128.Max(x, Vector128.Create(lo)), Vector128.Create(hi));
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), c, x);
    }

    public Vector256<T> Invoke(Vector256<T> x)
    {
        Vector256<T> c = Vector256.Min(Vector256.Max(x, Vector256.Create(lo)), Vector256.Create(hi));
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), c, x);
    }

    public Vector512<T> Invoke(Vector512<T> x)
    {
        Vector512<T> c = Vector512.Min(Vector512.Max(x, Vector512.Create(lo)), Vector512.Create(hi));
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), c, x);
    }
}

/// <summary>dx = lo ≤ x ≤ hi ? dy : 0 (operands: x, dy).</summary>
internal readonly struct ClampBackwardOp<T>(T lo, T hi) : IVectorBinary<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x, T dy) => x >= lo && x <= hi ? dy : T.Zero;

    public Vector128<T> Invoke(Vector128<T> x, Vector128<T> dy)
        => Vector128.GreaterThanOrEqual(x, Vector128.Create(lo)) & Vector128.LessThanOrEqual(x, Vector128.Create(hi)) & dy;

    public Vector256<T> Invoke(Vector256<T> x, Vector256<T> dy)
        => Vector256.GreaterThanOrEqual(x, Vector256.Create(lo)) & Vector256.LessThanOrEqual(x, Vector256.Create(hi)) & dy;

    public Vector512<T> Invoke(Vector512<T> x, Vector512<T> dy)
        => Vector512.GreaterThanOrEqual(x, Vector512.Create(lo)) & Vector512.LessThanOrEqual(x, Vector512.Create(hi)) & dy;
}

/// <summary>y = aᵇ.</summary>
internal readonly struct PowOp<T> : IBinaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static void Apply(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Pow(a, b, y);
    public static void Apply(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Pow(a, b, y);
    public static void Apply(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Pow(a, b, y);
    public static T Apply(T a, T b) => T.Pow(a, b);
}

/// <summary>y = m ≠ 0 ? t : 0 (operands: t, m); a select, so inf/NaN in t never leak through where m is 0.</summary>
internal readonly struct KeepWhereOp<T> : IVectorBinary<T> where T : unmanaged, INumber<T>
{
    public T Invoke(T t, T m) => m != T.Zero ? t : T.Zero;
    public Vector128<T> Invoke(Vector128<T> t, Vector128<T> m) => Vector128.AndNot(t, Vector128.Equals(m, Vector128<T>.Zero));
    public Vector256<T> Invoke(Vector256<T> t, Vector256<T> m) => Vector256.AndNot(t, Vector256.Equals(m, Vector256<T>.Zero));
    public Vector512<T> Invoke(Vector512<T> t, Vector512<T> m) => Vector512.AndNot(t, Vector512.Equals(m, Vector512<T>.Zero));
}
