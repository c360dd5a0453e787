using Backprop.Kernels.Elementwise;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>The widening kernels of safetensors loading against a scalar reference at every length up to 3 × 16 + 1 elements.</summary>
[Trait("Category", "Kernels")]
public class WidenKernelTests
{
    private static ushort Bits(int i) => (ushort)(i * 7919 + 13); // every pattern class: signs, exponents, NaN payloads

    [Fact]
    public void BFloat16ToSingle_EveryLength_MatchesShiftingIntoTheUpperHalf()
    {
        for (int n = 0; n <= 3 * 16 + 1; n++)
        {
            var x = new ushort[n];
            for (int i = 0; i < n; i++) x[i] = Bits(i + n);
            var y = new float[n];
            WidenKernel.BFloat16ToSingle(x, y);
            for (int i = 0; i < n; i++) Assert.Equal((uint)x[i] << 16, BitConverter.SingleToUInt32Bits(y[i]));
        }
    }

    [Fact]
    public void HalfToSingle_EveryLength_MatchesTheHalfCast()
    {
        for (int n = 0; n <= 3 * 16 + 1; n++)
        {
            var x = new Half[n];
            for (int i = 0; i < n; i++) x[i] = BitConverter.UInt16BitsToHalf(Bits(i + n));
            var y = new float[n];
            WidenKernel.HalfToSingle(x, y);
            for (int i = 0; i < n; i++)
                Assert.True(float.IsNaN((float)x[i]) ? float.IsNaN(y[i]) : BitConverter.SingleToUInt32Bits((float)x[i]) == BitConverter.SingleToUInt32Bits(y[i]), $"n={n}, i={i}");
        }
    }

    [Fact]
    public void Int32ToInt64_EveryLength_KeepsValuesAndSigns()
    {
        for (int n = 0; n <= 3 * 8 + 1; n++)
        {
            var x = new int[n];
            for (int i = 0; i < n; i++) x[i] = i % 3 == 0 ? int.MinValue + i : int.MaxValue - i * 1000;
            var y = new long[n];
            WidenKernel.Int32ToInt64(x, y);
            for (int i = 0; i < n; i++) Assert.Equal(x[i], y[i]);
        }
    }
}
