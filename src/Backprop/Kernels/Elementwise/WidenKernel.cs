using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Exact widening of narrow element types that files hold (safetensors' F16, BF16, I32) to the types
/// Backprop stores: every half and bfloat16 value is a float, every int32 a long.
/// </summary>
internal static class WidenKernel
{
    /// <summary>y[i] = (float)x[i] for IEEE binary16 values (subnormals, infinities and NaN kept).</summary>
    public static void HalfToSingle(ReadOnlySpan<Half> x, Span<float> y) => TensorPrimitives.ConvertToSingle(x, y);

    /// <summary>y[i] = the float whose upper 16 bits are the bfloat16 x[i] and lower 16 bits zero.</summary>
    public static void BFloat16ToSingle(ReadOnlySpan<ushort> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("BFloat16ToSingle: destination is shorter than the source");
        Span<uint> bits = MemoryMarshal.Cast<float, uint>(y);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(x.Slice(i, Vector256<ushort>.Count)));
                (lo << 16).CopyTo(bits[i..]);
                (hi << 16).CopyTo(bits[(i + Vector256<uint>.Count)..]);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= x.Length - Vector128<ushort>.Count; i += Vector128<ushort>.Count)
            {
                var (lo, hi) = Vector128.Widen(Vector128.Create(x.Slice(i, Vector128<ushort>.Count)));
                (lo << 16).CopyTo(bits[i..]);
                (hi << 16).CopyTo(bits[(i + Vector128<uint>.Count)..]);
            }
        for (; i < x.Length; i++) bits[i] = (uint)x[i] << 16;
    }

    /// <summary>y[i] = x[i] for 32-bit integers widened to 64.</summary>
    public static void Int32ToInt64(ReadOnlySpan<int> x, Span<long> y) => TensorPrimitives.ConvertChecked(x, y);
}
