namespace Backprop.Kernels.Elementwise;

/// <summary>
/// y = a / b rounded toward −∞ for int64 (Python's <c>//</c>, torch.div's rounding_mode="floor"): the
/// truncated quotient, less one when the signs differ and there is a remainder. A zero divisor raises
/// <see cref="DivideByZeroException"/> and long.MinValue / −1 <see cref="OverflowException"/>, as C#'s
/// division (the op names itself in the message). Integer division has no SIMD instruction: a scalar loop.
/// </summary>
internal readonly struct FloorDivideOp : IBinaryOp<long>
{
    public static void Apply(ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> y) { for (int i = 0; i < y.Length; i++) y[i] = Apply(a[i], b[i]); }
    public static void Apply(ReadOnlySpan<long> a, long b, Span<long> y) { for (int i = 0; i < y.Length; i++) y[i] = Apply(a[i], b); }
    public static void Apply(long a, ReadOnlySpan<long> b, Span<long> y) { for (int i = 0; i < y.Length; i++) y[i] = Apply(a, b[i]); }

    public static long Apply(long a, long b)
    {
        long q = a / b;
        return q * b != a && (a < 0) != (b < 0) ? q - 1 : q;
    }
}
