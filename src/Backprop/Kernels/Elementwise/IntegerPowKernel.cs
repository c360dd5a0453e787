namespace Backprop.Kernels.Elementwise;

/// <summary>
/// y = aᵇ for int64 (torch.pow on integer tensors): exponentiation by squaring, wrapping on overflow as C++'s
/// integer arithmetic in PyTorch's kernel does. A negative exponent gives 1 for a = 1, ±1 for a = −1 and 0
/// otherwise (PyTorch's <c>powi</c>; the op refuses a negative scalar exponent before it gets here).
/// No SIMD instruction multiplies 64-bit integers on AVX2: a scalar loop.
/// </summary>
internal readonly struct IntegerPowOp : IBinaryOp<long>
{
    public static void Apply(ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> y) { for (int i = 0; i < y.Length; i++) y[i] = Apply(a[i], b[i]); }
    public static void Apply(ReadOnlySpan<long> a, long b, Span<long> y) { for (int i = 0; i < y.Length; i++) y[i] = Apply(a[i], b); }
    public static void Apply(long a, ReadOnlySpan<long> b, Span<long> y) { for (int i = 0; i < y.Length; i++) y[i] = Apply(a, b[i]); }

    public static long Apply(long a, long b)
    {
        if (b < 0) return a == 1 ? 1 : a == -1 ? ((-(b % 2)) != 0 ? -1 : 1) : 0;
        long result = 1;
        unchecked
        {
            while (b != 0)
            {
                if ((b & 1) != 0) result *= a;
                b >>= 1;
                a *= a;
            }
        }
        return result;
    }
}
