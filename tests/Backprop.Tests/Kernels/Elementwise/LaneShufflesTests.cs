using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Tests.Kernels.Elementwise;

/// <summary>
/// The lane moves of <see cref="LaneShuffles"/>, the form this machine uses and the portable one (which WebAssembly
/// takes), against the lane order they promise; NaN payloads and −0 must pass through bit for bit.
/// </summary>
[Trait("Category", "Kernels")]
public class LaneShufflesTests
{
    private static readonly float[] A = [1.5f, -0f, float.NaN, float.PositiveInfinity];
    private static readonly float[] B = [BitConverter.Int32BitsToSingle(0x7FC0_1234), -7.25f, float.Epsilon, 3e38f];

    private static void AssertLanes(Vector128<float> v, params float[] expected)
    {
        for (int i = 0; i < 4; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(v.GetElement(i)));
    }

    [Fact]
    public void Even_And_Odd_Split_An_Eight_Float_Run()
    {
        Vector128<float> a = Vector128.Create(A), b = Vector128.Create(B);
        AssertLanes(LaneShuffles.Even(a, b), A[0], A[2], B[0], B[2]);
        AssertLanes(LaneShuffles.EvenPortable(a, b), A[0], A[2], B[0], B[2]);
        AssertLanes(LaneShuffles.Odd(a, b), A[1], A[3], B[1], B[3]);
        AssertLanes(LaneShuffles.OddPortable(a, b), A[1], A[3], B[1], B[3]);
    }

    [Fact]
    public void Zip_Interleaves_Two_Registers()
    {
        Vector128<float> a = Vector128.Create(A), b = Vector128.Create(B);
        AssertLanes(LaneShuffles.ZipLow(a, b), A[0], B[0], A[1], B[1]);
        AssertLanes(LaneShuffles.ZipLowPortable(a, b), A[0], B[0], A[1], B[1]);
        AssertLanes(LaneShuffles.ZipHigh(a, b), A[2], B[2], A[3], B[3]);
        AssertLanes(LaneShuffles.ZipHighPortable(a, b), A[2], B[2], A[3], B[3]);
    }

    [Fact]
    public void Halves_Pair_The_64_Bit_Lanes()
    {
        Vector128<float> a = Vector128.Create(A), b = Vector128.Create(B);
        AssertLanes(LaneShuffles.LowHalves(a, b), A[0], A[1], B[0], B[1]);
        AssertLanes(LaneShuffles.LowHalvesPortable(a, b), A[0], A[1], B[0], B[1]);
        AssertLanes(LaneShuffles.HighHalves(a, b), A[2], A[3], B[2], B[3]);
        AssertLanes(LaneShuffles.HighHalvesPortable(a, b), A[2], A[3], B[2], B[3]);
    }

    [Fact]
    public void Bytes_Widen_And_Narrow_Back()
    {
        Vector128<byte> bytes = Vector128.Create((byte)0, 3, 255, 2, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9);
        Vector128<int> wide = LaneShuffles.WidenFourBytes(bytes);
        Assert.Equal(Vector128.Create(0, 3, 255, 2), wide);
        Assert.Equal(0x02FF_0300, LaneShuffles.NarrowToFourBytes(wide));
    }
}
