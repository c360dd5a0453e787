using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Gemm;

namespace Backprop.Kernels.Recurrent;

/// <summary>
/// The small product of one recurrent step, C[rows, cols] (+)= A[rows, k]·B[k, cols], for one packed
/// panel of B (NR columns, k-major, as <see cref="GemmPacking.PackB{T}"/> writes it) and an A read in
/// place, row-major with row stride lda. The recurrent weights are packed once per sequence and A (the
/// previous hidden state, or the gate gradients of the step after) changes every step, so A is not
/// packed at all: each row of the tile broadcasts its values straight from A's row. Rows are cut into
/// tiles of nearly equal height (a batch of 32 on AVX2 is 6+6+5+5+5+5 rows, not 6·5 + 2), each computed
/// by a kernel specialised for its height, so no row is computed twice and nothing is wasted on padding.
/// </summary>
internal static unsafe class RecurrentGemm
{
    /// <summary>Columns of a B panel for the kernel this CPU runs on (2 vectors wide; 4 without SIMD).</summary>
    public static int PanelWidth<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => SimdWidths.Has512 ? Vector512Tiles<T>.NR
           : SimdWidths.Has256 ? Tiles6x2<T, Width256<T>, Vector256<T>>.NR
           : SimdWidths.Has128 ? Tiles6x2<T, Width128<T>, Vector128<T>>.NR
           : ScalarTiles<T>.NR;

    /// <summary>
    /// C[rows, cols] = A·B (or C += A·B when <paramref name="accumulate"/>), A [rows, k] row stride lda,
    /// B one packed panel of <typeparamref name="K"/>.NR columns of which the first <paramref name="cols"/>
    /// are stored into C (row stride ldc). k is walked in blocks of K.KC so the panel block stays in L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    public static void Panel<T, K>(int rows, int cols, int k, T* a, nint lda, T* b, T* c, nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IRecurrentTiles<T>
    {
        if (rows <= 0 || cols <= 0) return;
        int nr = K.NR, mr = K.MR;
        int tiles = (rows + mr - 1) / mr, small = rows / tiles, extra = rows % tiles;
        T* edge = stackalloc T[mr * nr];
        if (k == 0)
        {
            if (!accumulate)
                for (int r = 0; r < rows; r++) new Span<T>(c + r * ldc, cols).Clear();
            return;
        }
        for (int p0 = 0; p0 < k; p0 += K.KC)
        {
            int kc = Math.Min(K.KC, k - p0);
            bool acc = accumulate || p0 > 0;
            int r0 = 0;
            for (int i = 0; i < tiles; i++)
            {
                int height = small + (i < extra ? 1 : 0);
                T* at = a + r0 * lda + p0;
                if (cols == nr)
                    K.Tile(height, kc, at, lda, b + (nint)p0 * nr, c + r0 * ldc, ldc, acc);
                else
                {
                    K.Tile(height, kc, at, lda, b + (nint)p0 * nr, edge, nr, false);
                    for (int r = 0; r < height; r++)
                    {
                        T* dst = c + (r0 + r) * ldc;
                        T* src = edge + r * nr;
                        if (acc) for (int j = 0; j < cols; j++) dst[j] += src[j];
                        else for (int j = 0; j < cols; j++) dst[j] = src[j];
                    }
                }
                r0 += height;
            }
        }
    }
}

/// <summary>A height known to the JIT: kernels specialised on it keep only the rows they compute.</summary>
internal interface IRowCount
{
    static abstract int Value { get; }
}

internal struct Rows1 : IRowCount { public static int Value => 1; }
internal struct Rows2 : IRowCount { public static int Value => 2; }
internal struct Rows3 : IRowCount { public static int Value => 3; }
internal struct Rows4 : IRowCount { public static int Value => 4; }
internal struct Rows5 : IRowCount { public static int Value => 5; }
internal struct Rows6 : IRowCount { public static int Value => 6; }
internal struct Rows7 : IRowCount { public static int Value => 7; }
internal struct Rows8 : IRowCount { public static int Value => 8; }

/// <summary>
/// A register tile of up to MR rows × NR columns with A read row-major: C = A·B or C += A·B over kc
/// depth steps, B packed k-major (NR values per step).
/// </summary>
internal unsafe interface IRecurrentTiles<T> where T : unmanaged
{
    static abstract int MR { get; }
    static abstract int NR { get; }
    static abstract int KC { get; }

    /// <summary>The tile's <paramref name="height"/> (1..MR) rows.</summary>
    static abstract void Tile(int height, int kc, T* a, nint lda, T* b, T* c, nint ldc, bool accumulate);
}

/// <summary>Up to 8 rows × 2 zmm (16 accumulators).</summary>
internal unsafe struct Vector512Tiles<T> : IRecurrentTiles<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 8;
    public static int NR => 2 * Vector512<T>.Count;
    public static int KC => 1024 / Unsafe.SizeOf<T>();

    public static void Tile(int height, int kc, T* a, nint lda, T* b, T* c, nint ldc, bool accumulate)
    {
        switch (height)
        {
            case 1: Run<Rows1>(kc, a, lda, b, c, ldc, accumulate); break;
            case 2: Run<Rows2>(kc, a, lda, b, c, ldc, accumulate); break;
            case 3: Run<Rows3>(kc, a, lda, b, c, ldc, accumulate); break;
            case 4: Run<Rows4>(kc, a, lda, b, c, ldc, accumulate); break;
            case 5: Run<Rows5>(kc, a, lda, b, c, ldc, accumulate); break;
            case 6: Run<Rows6>(kc, a, lda, b, c, ldc, accumulate); break;
            case 7: Run<Rows7>(kc, a, lda, b, c, ldc, accumulate); break;
            default: Run<Rows8>(kc, a, lda, b, c, ldc, accumulate); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<R>(int kc, T* a, nint lda, T* b, T* c, nint ldc, bool accumulate) where R : struct, IRowCount
    {
        int n = R.Value, nv = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        // Rows past the height point at row 0 (never read: their code is compiled out).
        T* a0 = a, a1 = n > 1 ? a + lda : a, a2 = n > 2 ? a + 2 * lda : a, a3 = n > 3 ? a + 3 * lda : a;
        T* a4 = n > 4 ? a + 4 * lda : a, a5 = n > 5 ? a + 5 * lda : a, a6 = n > 6 ? a + 6 * lda : a, a7 = n > 7 ? a + 7 * lda : a;
        for (int p = 0; p < kc; p++, b += 2 * nv)
        {
            Vector512<T> b0 = Vector512.Load(b), b1 = Vector512.Load(b + nv);
            Vector512<T> x = Vector512.Create(a0[p]);
            c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            if (n > 1) { x = Vector512.Create(a1[p]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11); }
            if (n > 2) { x = Vector512.Create(a2[p]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21); }
            if (n > 3) { x = Vector512.Create(a3[p]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31); }
            if (n > 4) { x = Vector512.Create(a4[p]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41); }
            if (n > 5) { x = Vector512.Create(a5[p]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51); }
            if (n > 6) { x = Vector512.Create(a6[p]); c60 = Fma(x, b0, c60); c61 = Fma(x, b1, c61); }
            if (n > 7) { x = Vector512.Create(a7[p]); c70 = Fma(x, b0, c70); c71 = Fma(x, b1, c71); }
        }
        Store(c, c00, c01, accumulate); c += ldc;
        if (n > 1) { Store(c, c10, c11, accumulate); c += ldc; }
        if (n > 2) { Store(c, c20, c21, accumulate); c += ldc; }
        if (n > 3) { Store(c, c30, c31, accumulate); c += ldc; }
        if (n > 4) { Store(c, c40, c41, accumulate); c += ldc; }
        if (n > 5) { Store(c, c50, c51, accumulate); c += ldc; }
        if (n > 6) { Store(c, c60, c61, accumulate); c += ldc; }
        if (n > 7) Store(c, c70, c71, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(T* c, Vector512<T> x0, Vector512<T> x1, bool accumulate)
    {
        T* c1 = c + Vector512<T>.Count;
        if (accumulate)
        {
            x0 += Vector512.Load(c);
            x1 += Vector512.Load(c1);
        }
        x0.Store(c);
        x1.Store(c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        return Vector512.FusedMultiplyAdd(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
    }
}

/// <summary>
/// Up to 6 rows × 2 registers of one width, <see cref="Width256{T}"/> or <see cref="Width128{T}"/> (12 accumulators:
/// the 16 ymm or xmm registers of x64, half of ARM64's 32); the multiply-add is the width's (fused with AVX2's FMA
/// and on ARM64, a multiply and an add on SSE-only x86 and WebAssembly).
/// </summary>
internal unsafe struct Tiles6x2<T, TW, TV> : IRecurrentTiles<T>
    where T : unmanaged, IFloatingPointIeee754<T> where TW : struct, ISimdWidth<T, TV> where TV : struct
{
    public static int MR => 6;
    public static int NR => 2 * TW.Count;
    public static int KC => 1024 / Unsafe.SizeOf<T>();

    public static void Tile(int height, int kc, T* a, nint lda, T* b, T* c, nint ldc, bool accumulate)
    {
        switch (height)
        {
            case 1: Run<Rows1>(kc, a, lda, b, c, ldc, accumulate); break;
            case 2: Run<Rows2>(kc, a, lda, b, c, ldc, accumulate); break;
            case 3: Run<Rows3>(kc, a, lda, b, c, ldc, accumulate); break;
            case 4: Run<Rows4>(kc, a, lda, b, c, ldc, accumulate); break;
            case 5: Run<Rows5>(kc, a, lda, b, c, ldc, accumulate); break;
            default: Run<Rows6>(kc, a, lda, b, c, ldc, accumulate); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<R>(int kc, T* a, nint lda, T* b, T* c, nint ldc, bool accumulate) where R : struct, IRowCount
    {
        int n = R.Value, nv = TW.Count;
        TV c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        TV c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        T* a0 = a, a1 = n > 1 ? a + lda : a, a2 = n > 2 ? a + 2 * lda : a;
        T* a3 = n > 3 ? a + 3 * lda : a, a4 = n > 4 ? a + 4 * lda : a, a5 = n > 5 ? a + 5 * lda : a;
        for (int p = 0; p < kc; p++, b += 2 * nv)
        {
            TV b0 = TW.Load(b), b1 = TW.Load(b + nv);
            TV x = TW.Splat(a0[p]);
            c00 = TW.MulAdd(x, b0, c00); c01 = TW.MulAdd(x, b1, c01);
            if (n > 1) { x = TW.Splat(a1[p]); c10 = TW.MulAdd(x, b0, c10); c11 = TW.MulAdd(x, b1, c11); }
            if (n > 2) { x = TW.Splat(a2[p]); c20 = TW.MulAdd(x, b0, c20); c21 = TW.MulAdd(x, b1, c21); }
            if (n > 3) { x = TW.Splat(a3[p]); c30 = TW.MulAdd(x, b0, c30); c31 = TW.MulAdd(x, b1, c31); }
            if (n > 4) { x = TW.Splat(a4[p]); c40 = TW.MulAdd(x, b0, c40); c41 = TW.MulAdd(x, b1, c41); }
            if (n > 5) { x = TW.Splat(a5[p]); c50 = TW.MulAdd(x, b0, c50); c51 = TW.MulAdd(x, b1, c51); }
        }
        Store(c, c00, c01, accumulate); c += ldc;
        if (n > 1) { Store(c, c10, c11, accumulate); c += ldc; }
        if (n > 2) { Store(c, c20, c21, accumulate); c += ldc; }
        if (n > 3) { Store(c, c30, c31, accumulate); c += ldc; }
        if (n > 4) { Store(c, c40, c41, accumulate); c += ldc; }
        if (n > 5) Store(c, c50, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(T* c, TV x0, TV x1, bool accumulate)
    {
        T* c1 = c + TW.Count;
        if (accumulate)
        {
            x0 = TW.Add(x0, TW.Load(c));
            x1 = TW.Add(x1, TW.Load(c1));
        }
        TW.Store(c, x0);
        TW.Store(c1, x1);
    }
}

/// <summary>Up to 4 rows × 4 columns in scalar registers: hardware without usable SIMD, and the reference.</summary>
internal unsafe struct ScalarTiles<T> : IRecurrentTiles<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 4;
    public static int NR => 4;
    public static int KC => 1024 / Unsafe.SizeOf<T>();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile(int height, int kc, T* a, nint lda, T* b, T* c, nint ldc, bool accumulate)
    {
        for (int r = 0; r < height; r++, a += lda, c += ldc)
        {
            T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
            T* bp = b;
            for (int p = 0; p < kc; p++, bp += 4)
            {
                T x = a[p];
                s0 += x * bp[0]; s1 += x * bp[1]; s2 += x * bp[2]; s3 += x * bp[3];
            }
            if (accumulate) { c[0] += s0; c[1] += s1; c[2] += s2; c[3] += s3; }
            else { c[0] = s0; c[1] = s1; c[2] = s2; c[3] = s3; }
        }
    }
}
