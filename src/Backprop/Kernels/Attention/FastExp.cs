using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Attention;

/// <summary>
/// e^x for float vectors in float arithmetic (Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6
/// polynomial for e^r, 2^n put into the exponent bits), within about 1 ulp of the exact value for the
/// softmax range (x ≤ 0; inputs are clamped to ≤ 88.02, where 2^n still fits); the BCL's float vector exp computes in double and costs several times as much, which
/// showed as half of the attention forward. Inputs below −88.38 (−∞ for masked scores included) give
/// exactly 0; NaN stays NaN. Float64 keeps the BCL's exp.
/// </summary>
internal static class FastExp
{
    private const float Hi = 88.02f, Lo = -88.3762626647949f, Log2E = 1.44269504088896341f;
    private const float C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(Lo)), Vector256.Create(Hi));
        Vector256<float> fx = Vector256.Floor(Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        x = Vector256.FusedMultiplyAdd(fx, Vector256.Create(-C2), Vector256.FusedMultiplyAdd(fx, Vector256.Create(-C1), x));
        Vector256<float> z = x * x;
        Vector256<float> y = Vector256.FusedMultiplyAdd(Vector256.Create(P0), x, Vector256.Create(P1));
        y = Vector256.FusedMultiplyAdd(y, x, Vector256.Create(P2));
        y = Vector256.FusedMultiplyAdd(y, x, Vector256.Create(P3));
        y = Vector256.FusedMultiplyAdd(y, x, Vector256.Create(P4));
        y = Vector256.FusedMultiplyAdd(y, x, Vector256.Create(P5));
        y = Vector256.FusedMultiplyAdd(y, z, x + Vector256<float>.One);
        Vector256<int> n = Vector256.ConvertToInt32(fx) + Vector256.Create(127);
        return y * Vector256.ShiftLeft(n, 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(Lo)), Vector512.Create(Hi));
        Vector512<float> fx = Vector512.Floor(Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(0.5f)));
        x = Vector512.FusedMultiplyAdd(fx, Vector512.Create(-C2), Vector512.FusedMultiplyAdd(fx, Vector512.Create(-C1), x));
        Vector512<float> z = x * x;
        Vector512<float> y = Vector512.FusedMultiplyAdd(Vector512.Create(P0), x, Vector512.Create(P1));
        y = Vector512.FusedMultiplyAdd(y, x, Vector512.Create(P2));
        y = Vector512.FusedMultiplyAdd(y, x, Vector512.Create(P3));
        y = Vector512.FusedMultiplyAdd(y, x, Vector512.Create(P4));
        y = Vector512.FusedMultiplyAdd(y, x, Vector512.Create(P5));
        y = Vector512.FusedMultiplyAdd(y, z, x + Vector512<float>.One);
        Vector512<int> n = Vector512.ConvertToInt32(fx) + Vector512.Create(127);
        return y * Vector512.ShiftLeft(n, 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(Lo)), Vector128.Create(Hi));
        Vector128<float> fx = Vector128.Floor(Vector128.FusedMultiplyAdd(x, Vector128.Create(Log2E), Vector128.Create(0.5f)));
        x = Vector128.FusedMultiplyAdd(fx, Vector128.Create(-C2), Vector128.FusedMultiplyAdd(fx, Vector128.Create(-C1), x));
        Vector128<float> z = x * x;
        Vector128<float> y = Vector128.FusedMultiplyAdd(Vector128.Create(P0), x, Vector128.Create(P1));
        y = Vector128.FusedMultiplyAdd(y, x, Vector128.Create(P2));
        y = Vector128.FusedMultiplyAdd(y, x, Vector128.Create(P3));
        y = Vector128.FusedMultiplyAdd(y, x, Vector128.Create(P4));
        y = Vector128.FusedMultiplyAdd(y, x, Vector128.Create(P5));
        y = Vector128.FusedMultiplyAdd(y, z, x + Vector128<float>.One);
        Vector128<int> n = Vector128.ConvertToInt32(fx) + Vector128.Create(127);
        return y * Vector128.ShiftLeft(n, 23).AsSingle();
    }
}
