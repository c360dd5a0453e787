using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// Copies blocks of op(A) and op(B) into the panel layout the micro-kernels stream:
/// A as MR-row panels stored k-major (MR values per k step), B as NR-column panels stored
/// k-major (NR values per k step). Edge panels are zero-padded so the kernel never branches.
/// Sources laid out along k (A untransposed, B transposed) are transposed 8×8 at a time with
/// AVX shuffles for float32.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Elements a packing buffer needs beyond the panels (room for overlapping vector stores).</summary>
    public const int Slack = 16;

    /// <summary>
    /// Packs an mc×kc block of op(A); <paramref name="a"/> points at its first element
    /// (row i0, depth p0 of op(A)). Output panel r holds rows r·MR.. at dst + r·MR·kc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(bool transA, T* a, nint lda, int mc, int kc, T* dst, int mr) where T : unmanaged
    {
        if (transA)
        {
            PackAlong(a, lda, kc, mc, dst, mr);                             // A(i, p) = a[p·lda + i]
            return;
        }
        for (int ir = 0; ir < mc; ir += mr)                                 // A(i, p) = a[i·lda + p]
            PackAcross(a + ir * lda, lda, Math.Min(mr, mc - ir), kc, dst + (nint)ir * kc, mr);
    }

    /// <summary>
    /// As <see cref="PackA{T}"/>, each value stored as a whole 128-bit register of copies (<see cref="SplatA{T}"/>):
    /// panel r holds rows r·MR.. at dst + r·MR·kc·lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackASplat<T>(bool transA, T* a, nint lda, int mc, int kc, T* dst, int mr) where T : unmanaged
    {
        int lanes = Vector128<T>.Count;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            T* panel = dst + (nint)ir * kc * lanes;
            int p0 = 0;
            if (!transA && typeof(T) == typeof(float) && Vector128.IsHardwareAccelerated)
            {
                // Rows run along the depth: four depths of a row per load, each lane stored as a register of copies.
                p0 = kc & ~3;
                nint step = (nint)mr * lanes;
                for (int r = 0; r < mr; r++)
                {
                    float* d = (float*)panel + r * lanes;
                    if (r >= rows)
                    {
                        for (int p = 0; p < p0; p++, d += step) Vector128<float>.Zero.Store(d);
                        continue;
                    }
                    float* row = (float*)a + (ir + r) * lda;
                    for (int p = 0; p < p0; p += 4)
                    {
                        Vector128<float> v = Vector128.Load(row + p);
                        Vector128.Shuffle(v, Vector128.Create(0)).Store(d); d += step;
                        Vector128.Shuffle(v, Vector128.Create(1)).Store(d); d += step;
                        Vector128.Shuffle(v, Vector128.Create(2)).Store(d); d += step;
                        Vector128.Shuffle(v, Vector128.Create(3)).Store(d); d += step;
                    }
                }
            }
            T* dt = panel + (nint)p0 * mr * lanes;
            for (int p = p0; p < kc; p++)
                for (int r = 0; r < mr; r++, dt += lanes)
                {
                    T v = r >= rows ? default : transA ? a[p * lda + ir + r] : a[(ir + r) * lda + p];
                    Vector128.Create(v).Store(dt);
                }
        }
    }

    /// <summary>
    /// Packs a kc×nc block of op(B); <paramref name="b"/> points at its first element
    /// (depth p0, column j0 of op(B)). Output panel r holds columns r·NR.. at dst + r·NR·kc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(bool transB, T* b, nint ldb, int kc, int nc, T* dst, int nr) where T : unmanaged
    {
        if (!transB)
        {
            PackAlong(b, ldb, kc, nc, dst, nr);                             // B(p, j) = b[p·ldb + j]
            return;
        }
        for (int jr = 0; jr < nc; jr += nr)                                 // B(p, j) = b[j·ldb + p]
            PackAcross(b + jr * ldb, ldb, Math.Min(nr, nc - jr), kc, dst + (nint)jr * kc, nr);
    }

    /// <summary>
    /// Panels of w values from rows laid out along the panel width: panel r gets
    /// dst[r·w·depth + p·w + i] = src[p·ld + r·w + i] for i &lt; w (zero past <paramref name="total"/>).
    /// Sweeps 8 source rows across all panels at a time, so the reads are a few sequential
    /// streams instead of one large-stride walk per panel (which aliases in L1 and the TLB).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackAlong<T>(T* src, nint ld, int depth, int total, T* dst, int w) where T : unmanaged
    {
        for (int p0 = 0; p0 < depth; p0 += 8)
        {
            int rowsHere = Math.Min(8, depth - p0);
            for (int r = 0; r < total; r += w)
            {
                int count = Math.Min(w, total - r);
                T* s = src + p0 * ld + r;
                T* d = dst + (nint)r * depth + p0 * w;
                for (int p = 0; p < rowsHere; p++, s += ld, d += w)
                {
                    if (count == w)
                    {
                        int i = 0;
                        if (Vector512.IsHardwareAccelerated)
                            for (; i + Vector512<T>.Count <= w; i += Vector512<T>.Count)
                                Vector512.Store(Vector512.Load(s + i), d + i);
                        if (Vector256.IsHardwareAccelerated)
                            for (; i + Vector256<T>.Count <= w; i += Vector256<T>.Count)
                                Vector256.Store(Vector256.Load(s + i), d + i);
                        if (Vector128.IsHardwareAccelerated)
                            for (; i + Vector128<T>.Count <= w; i += Vector128<T>.Count)
                                Vector128.Store(Vector128.Load(s + i), d + i);
                        if (w - i == 2 && Unsafe.SizeOf<T>() == 4) // float's 6-row A panel: the last two in one 8-byte move
                        {
                            Unsafe.WriteUnaligned(d + i, Unsafe.ReadUnaligned<ulong>(s + i));
                            i = w;
                        }
                        for (; i < w; i++) d[i] = s[i];
                    }
                    else
                    {
                        int i = 0;
                        for (; i < count; i++) d[i] = s[i];
                        for (; i < w; i++) d[i] = default;
                    }
                }
            }
        }
    }

    /// <summary>
    /// dst[p·w + i] = src[i·ld + p] for i &lt; count, zero up to w; p &lt; depth. The source has
    /// <paramref name="count"/> rows of <paramref name="depth"/> contiguous values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackAcross<T>(T* src, nint ld, int count, int depth, T* dst, int w) where T : unmanaged
    {
        int p0 = 0;
        if (typeof(T) == typeof(float) && Avx.IsSupported && (w % 8 == 0 || w == 6))
            p0 = PackAcrossAvx((float*)src, ld, count, depth, (float*)dst, w);
        else if (typeof(T) == typeof(float) && Vector128.IsHardwareAccelerated && w % 4 == 0)
            p0 = PackAcross128((float*)src, ld, count, depth, (float*)dst, w);
        for (int i = 0; i < w; i++)
        {
            T* s = src + i * ld;
            T* d = dst + i;
            if (i < count)
                for (int p = p0; p < depth; p++) d[p * w] = s[p];
            else
                for (int p = p0; p < depth; p++) d[p * w] = default;
        }
    }

    /// <summary>
    /// The 8×8-transposing part of <see cref="PackAcross{T}"/>: handles depth in steps of 8 and
    /// returns the first depth not packed. For w = 6 each 8-wide store spills two lanes into the
    /// next k step, which the following store (or the next panel, or the buffer slack) overwrites.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PackAcrossAvx(float* src, nint ld, int count, int depth, float* dst, int w)
    {
        int end = depth & ~7;
        for (int ib = 0; ib < w; ib += 8)
        {
            int rows = count - ib; // rows at or past this are zero
            float* s = src + ib * ld;
            for (int p = 0; p < end; p += 8)
            {
                float* sp = s + p;
                Vector256<float> r0 = rows > 0 ? Avx.LoadVector256(sp) : default;
                Vector256<float> r1 = rows > 1 ? Avx.LoadVector256(sp + ld) : default;
                Vector256<float> r2 = rows > 2 ? Avx.LoadVector256(sp + 2 * ld) : default;
                Vector256<float> r3 = rows > 3 ? Avx.LoadVector256(sp + 3 * ld) : default;
                Vector256<float> r4 = rows > 4 ? Avx.LoadVector256(sp + 4 * ld) : default;
                Vector256<float> r5 = rows > 5 ? Avx.LoadVector256(sp + 5 * ld) : default;
                Vector256<float> r6 = rows > 6 ? Avx.LoadVector256(sp + 6 * ld) : default;
                Vector256<float> r7 = rows > 7 ? Avx.LoadVector256(sp + 7 * ld) : default;
                Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
                float* d = dst + p * w + ib;
                Avx.Store(d, r0); d += w;
                Avx.Store(d, r1); d += w;
                Avx.Store(d, r2); d += w;
                Avx.Store(d, r3); d += w;
                Avx.Store(d, r4); d += w;
                Avx.Store(d, r5); d += w;
                Avx.Store(d, r6); d += w;
                Avx.Store(d, r7);
            }
        }
        return end;
    }

    /// <summary>
    /// <see cref="PackAcrossAvx"/> where only 128-bit vectors are fast (the 128-bit kernel's 8-wide B panels): depth in
    /// steps of 4, 4×4 blocks transposed in registers (<see cref="LaneShuffles"/>: one instruction per move on x86 and
    /// ARM64); returns the first depth not packed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PackAcross128(float* src, nint ld, int count, int depth, float* dst, int w)
    {
        int end = depth & ~3;
        for (int ib = 0; ib < w; ib += 4)
        {
            int rows = count - ib; // rows at or past this are zero
            float* s = src + ib * ld;
            for (int p = 0; p < end; p += 4)
            {
                float* sp = s + p;
                Vector128<float> r0 = rows > 0 ? Vector128.Load(sp) : default;
                Vector128<float> r1 = rows > 1 ? Vector128.Load(sp + ld) : default;
                Vector128<float> r2 = rows > 2 ? Vector128.Load(sp + 2 * ld) : default;
                Vector128<float> r3 = rows > 3 ? Vector128.Load(sp + 3 * ld) : default;
                // [a0 b0 a1 b1], [a2 b2 a3 b3], [c0 d0 c1 d1], [c2 d2 c3 d3] -> columns
                Vector128<float> t0 = LaneShuffles.ZipLow(r0, r1), t1 = LaneShuffles.ZipHigh(r0, r1);
                Vector128<float> t2 = LaneShuffles.ZipLow(r2, r3), t3 = LaneShuffles.ZipHigh(r2, r3);
                float* d = dst + p * w + ib;
                LaneShuffles.LowHalves(t0, t2).Store(d); d += w;
                LaneShuffles.HighHalves(t0, t2).Store(d); d += w;
                LaneShuffles.LowHalves(t1, t3).Store(d); d += w;
                LaneShuffles.HighHalves(t1, t3).Store(d);
            }
        }
        return end;
    }

    /// <summary>In-register transpose: row q of the input becomes column q of the output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
                                     ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        // [a0 b0 a1 b1 | a4 b4 a5 b5], [a2 b2 a3 b3 | a6 b6 a7 b7], ...
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        // [a0 b0 c0 d0 | a4 b4 c4 d4], [a1 b1 c1 d1 | a5 b5 c5 d5], ...
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(u0, u4, 0x20); r1 = Avx.Permute2x128(u1, u5, 0x20);
        r2 = Avx.Permute2x128(u2, u6, 0x20); r3 = Avx.Permute2x128(u3, u7, 0x20);
        r4 = Avx.Permute2x128(u0, u4, 0x31); r5 = Avx.Permute2x128(u1, u5, 0x31);
        r6 = Avx.Permute2x128(u2, u6, 0x31); r7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
