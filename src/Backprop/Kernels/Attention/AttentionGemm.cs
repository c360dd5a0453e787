using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Attention;

/// <summary>
/// The small products of one attention slice (64×64×32 in the transformer benchmark), without packing:
/// C[i, j] = alpha·Σ_p A(i, p)·B[p, j] (+ C[i, j] when accumulating), where A(i, p) = a[i·ras + p·cas]
/// is read one scalar at a time (broadcast into a register), so A may be stored either way round
/// (ras = row stride, cas = 1 for A; ras = 1, cas = row stride for Aᵀ), and B is row-major with row
/// stride ldb (each row contiguous along j). A slice's operands sit in L1, where packing (as
/// <see cref="Gemm.GemmKernel"/> does for large products) costs more than it saves; register tiles
/// of 4 rows × 2 vectors run at the widest width the CPU has, then narrower widths and scalars
/// take the remaining columns. k = 0 writes alpha·0 (or leaves C as it is when accumulating).
/// </summary>
internal static unsafe class AttentionGemm
{
    /// <summary>C (m×n, row stride ldc) = alpha·A·B (+ C when <paramref name="accumulate"/>).</summary>
    public static void Multiply<T>(int m, int n, int k, T alpha, T* a, nint ras, nint cas, T* b, nint ldb, T* c, nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0) return;
        int j = 0;
        if (SimdWidths.Has512 && n >= Vector512<T>.Count)
            j = Columns<T, Width512<T>, Vector512<T>>(j, n, m, k, alpha, a, ras, cas, b, ldb, c, ldc, accumulate);
        if (SimdWidths.Has256 && n - j >= Vector256<T>.Count)
            j = Columns<T, Width256<T>, Vector256<T>>(j, n, m, k, alpha, a, ras, cas, b, ldb, c, ldc, accumulate);
        if (SimdWidths.Has128 && n - j >= Vector128<T>.Count)
            j = Columns<T, Width128<T>, Vector128<T>>(j, n, m, k, alpha, a, ras, cas, b, ldb, c, ldc, accumulate);
        if (j < n)
            Columns<T, WidthScalar<T>, T>(j, n, m, k, alpha, a, ras, cas, b, ldb, c, ldc, accumulate);
    }

    /// <summary>The reference: the same product with scalar registers only (tests hold the SIMD paths to it).</summary>
    internal static void MultiplyScalar<T>(int m, int n, int k, T alpha, T* a, nint ras, nint cas, T* b, nint ldb, T* c, nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0) return;
        Columns<T, WidthScalar<T>, T>(0, n, m, k, alpha, a, ras, cas, b, ldb, c, ldc, accumulate);
    }

    /// <summary>Columns [j0, end) of C, end = j0 + a whole number of registers; returns end.</summary>
    private static int Columns<T, W, TV>(int j0, int n, int m, int k, T alpha, T* a, nint ras, nint cas, T* b, nint ldb, T* c, nint ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
    {
        int w = W.Count, end = j0 + (n - j0) / w * w;
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            T* ai = a + i * ras;
            T* ci = c + i * ldc;
            int j = j0;
            for (; j + 2 * w <= end; j += 2 * w)
                Tile4x2<T, W, TV>(k, ai, ras, cas, b + j, ldb, ci + j, ldc, alpha, accumulate);
            for (; j < end; j += w)
                Tile4x1<T, W, TV>(k, ai, ras, cas, b + j, ldb, ci + j, ldc, alpha, accumulate);
        }
        for (; i < m; i++)
        {
            T* ai = a + i * ras;
            T* ci = c + i * ldc;
            int j = j0;
            for (; j + 2 * w <= end; j += 2 * w)
                Tile1x2<T, W, TV>(k, ai, cas, b + j, ldb, ci + j, alpha, accumulate);
            for (; j < end; j += w)
                Tile1x1<T, W, TV>(k, ai, cas, b + j, ldb, ci + j, alpha, accumulate);
        }
        return end;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2<T, W, TV>(int k, T* a, nint ras, nint cas, T* b, nint ldb, T* c, nint ldc, T alpha, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
    {
        TV c00 = W.Zero, c01 = W.Zero, c10 = W.Zero, c11 = W.Zero, c20 = W.Zero, c21 = W.Zero, c30 = W.Zero, c31 = W.Zero;
        int w = W.Count;
        nint r2 = 2 * ras, r3 = 3 * ras;
        for (int p = 0; p < k; p++)
        {
            TV b0 = W.Load(b), b1 = W.Load(b + w);
            TV x = W.Splat(a[0]);
            c00 = W.MulAdd(x, b0, c00); c01 = W.MulAdd(x, b1, c01);
            x = W.Splat(a[ras]);
            c10 = W.MulAdd(x, b0, c10); c11 = W.MulAdd(x, b1, c11);
            x = W.Splat(a[r2]);
            c20 = W.MulAdd(x, b0, c20); c21 = W.MulAdd(x, b1, c21);
            x = W.Splat(a[r3]);
            c30 = W.MulAdd(x, b0, c30); c31 = W.MulAdd(x, b1, c31);
            a += cas;
            b += ldb;
        }
        TV va = W.Splat(alpha);
        Store2<T, W, TV>(c, c00, c01, va, accumulate); c += ldc;
        Store2<T, W, TV>(c, c10, c11, va, accumulate); c += ldc;
        Store2<T, W, TV>(c, c20, c21, va, accumulate); c += ldc;
        Store2<T, W, TV>(c, c30, c31, va, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1<T, W, TV>(int k, T* a, nint ras, nint cas, T* b, nint ldb, T* c, nint ldc, T alpha, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
    {
        TV c0 = W.Zero, c1 = W.Zero, c2 = W.Zero, c3 = W.Zero;
        nint r2 = 2 * ras, r3 = 3 * ras;
        for (int p = 0; p < k; p++)
        {
            TV b0 = W.Load(b);
            c0 = W.MulAdd(W.Splat(a[0]), b0, c0);
            c1 = W.MulAdd(W.Splat(a[ras]), b0, c1);
            c2 = W.MulAdd(W.Splat(a[r2]), b0, c2);
            c3 = W.MulAdd(W.Splat(a[r3]), b0, c3);
            a += cas;
            b += ldb;
        }
        TV va = W.Splat(alpha);
        Store1<T, W, TV>(c, c0, va, accumulate); c += ldc;
        Store1<T, W, TV>(c, c1, va, accumulate); c += ldc;
        Store1<T, W, TV>(c, c2, va, accumulate); c += ldc;
        Store1<T, W, TV>(c, c3, va, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x2<T, W, TV>(int k, T* a, nint cas, T* b, nint ldb, T* c, T alpha, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
    {
        TV c0 = W.Zero, c1 = W.Zero;
        int w = W.Count;
        for (int p = 0; p < k; p++)
        {
            TV x = W.Splat(*a);
            c0 = W.MulAdd(x, W.Load(b), c0);
            c1 = W.MulAdd(x, W.Load(b + w), c1);
            a += cas;
            b += ldb;
        }
        Store2<T, W, TV>(c, c0, c1, W.Splat(alpha), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile1x1<T, W, TV>(int k, T* a, nint cas, T* b, nint ldb, T* c, T alpha, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
    {
        TV c0 = W.Zero;
        for (int p = 0; p < k; p++)
        {
            c0 = W.MulAdd(W.Splat(*a), W.Load(b), c0);
            a += cas;
            b += ldb;
        }
        Store1<T, W, TV>(c, c0, W.Splat(alpha), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2<T, W, TV>(T* c, TV x0, TV x1, TV alpha, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
    {
        Store1<T, W, TV>(c, x0, alpha, accumulate);
        Store1<T, W, TV>(c + W.Count, x1, alpha, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store1<T, W, TV>(T* c, TV x, TV alpha, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> where W : struct, ISimdWidth<T, TV> where TV : struct
        => W.Store(c, accumulate ? W.MulAdd(x, alpha, W.Load(c)) : W.Mul(x, alpha));
}
