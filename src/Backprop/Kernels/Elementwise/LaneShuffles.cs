using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Moves of 32-bit lanes between two 128-bit registers that the cross-platform vector API has no single call for
/// in .NET 10 (it gains Unzip/Zip later): x86 and ARM64 each have one instruction per move, used where present;
/// elsewhere (WebAssembly) the moves are built from widening, narrowing and shifts, which every platform has.
/// The portable forms are public so the tests can check them on any machine against the native ones.
/// </summary>
internal static class LaneShuffles
{
    /// <summary>Lanes 0 and 2 of a, then of b: the even elements of the 8-float run a, b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Even(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.Shuffle(a, b, 0b10_00_10_00);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.UnzipEven(a, b);
        return EvenPortable(a, b);
    }

    /// <summary>Lanes 1 and 3 of a, then of b: the odd elements of the 8-float run a, b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Odd(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.Shuffle(a, b, 0b11_01_11_01);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.UnzipOdd(a, b);
        return OddPortable(a, b);
    }

    /// <summary>a0 b0 a1 b1: the first half of the interleaving of a and b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipLow(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.UnpackLow(a, b);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.ZipLow(a, b);
        return ZipLowPortable(a, b);
    }

    /// <summary>a2 b2 a3 b3: the second half of the interleaving of a and b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipHigh(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.UnpackHigh(a, b);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.ZipHigh(a, b);
        return ZipHighPortable(a, b);
    }

    /// <summary>The low halves (64 bits) of a and b: a0 a1 b0 b1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LowHalves(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.MoveLowToHigh(a, b);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.ZipLow(a.AsUInt64(), b.AsUInt64()).AsSingle();
        return LowHalvesPortable(a, b);
    }

    /// <summary>The high halves (64 bits) of a and b: a2 a3 b2 b3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> HighHalves(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported) return Sse.MoveHighToLow(b, a);
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.ZipHigh(a.AsUInt64(), b.AsUInt64()).AsSingle();
        return HighHalvesPortable(a, b);
    }

    /// <summary>The first four bytes of v as 32-bit integers (zero-extended).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> WidenFourBytes(Vector128<byte> v)
    {
        if (Sse41.IsSupported) return Sse41.ConvertToVector128Int32(v);
        return Vector128.WidenLower(Vector128.WidenLower(v)).AsInt32();
    }

    /// <summary>The four lanes of v, each in 0..255, as four bytes (the low 32 bits of the result).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NarrowToFourBytes(Vector128<int> v)
    {
        if (Sse2.IsSupported)
        {
            Vector128<short> s = Sse2.PackSignedSaturate(v, v);
            return Sse2.PackUnsignedSaturate(s, s).AsInt32().ToScalar();
        }
        Vector128<ushort> h = Vector128.Narrow(v.AsUInt32(), v.AsUInt32());
        return Vector128.Narrow(h, h).AsInt32().ToScalar();
    }

    /// <summary><see cref="LowHalves"/> from a broadcast of b's low half and a select.</summary>
    public static Vector128<float> LowHalvesPortable(Vector128<float> a, Vector128<float> b)
        => Vector128.ConditionalSelect(Vector128.Create(ulong.MaxValue, 0), a.AsUInt64(), Vector128.Shuffle(b.AsUInt64(), Vector128.Create(0UL, 0))).AsSingle();

    /// <summary><see cref="HighHalves"/> from a broadcast of a's high half and a select.</summary>
    public static Vector128<float> HighHalvesPortable(Vector128<float> a, Vector128<float> b)
        => Vector128.ConditionalSelect(Vector128.Create(ulong.MaxValue, 0), Vector128.Shuffle(a.AsUInt64(), Vector128.Create(1UL, 1)), b.AsUInt64()).AsSingle();

    /// <summary><see cref="Even"/> from narrowing: the low half of each 64-bit lane.</summary>
    public static Vector128<float> EvenPortable(Vector128<float> a, Vector128<float> b)
        => Vector128.Narrow(a.AsUInt64(), b.AsUInt64()).AsSingle();

    /// <summary><see cref="Odd"/> from narrowing: the high half of each 64-bit lane.</summary>
    public static Vector128<float> OddPortable(Vector128<float> a, Vector128<float> b)
        => Vector128.Narrow(Vector128.ShiftRightLogical(a.AsUInt64(), 32), Vector128.ShiftRightLogical(b.AsUInt64(), 32)).AsSingle();

    /// <summary><see cref="ZipLow"/> from widening: a's lane in the low half of each 64-bit lane, b's in the high half.</summary>
    public static Vector128<float> ZipLowPortable(Vector128<float> a, Vector128<float> b)
        => (Vector128.WidenLower(a.AsUInt32()) | Vector128.ShiftLeft(Vector128.WidenLower(b.AsUInt32()), 32)).AsSingle();

    /// <summary><see cref="ZipHigh"/> from widening the upper lanes.</summary>
    public static Vector128<float> ZipHighPortable(Vector128<float> a, Vector128<float> b)
        => (Vector128.WidenUpper(a.AsUInt32()) | Vector128.ShiftLeft(Vector128.WidenUpper(b.AsUInt32()), 32)).AsSingle();
}
