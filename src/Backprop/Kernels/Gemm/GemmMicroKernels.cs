using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// A register-tiled GEMM micro-kernel and its blocking. The kernel multiplies an MR×kc panel of
/// A (packed k-major, MR values per k step, or read in place: <see cref="IPanelA{T}"/>) by a packed
/// kc×NR panel of B (NR values per k step) and writes C = alpha·(A·B) + beta·C for one MR×NR tile of C; beta = 0 means C is
/// not read. Blocking: KC is the depth of a packed panel, MC the rows of a packed A block (kept in
/// L2), NC the columns of a packed B panel (kept in L3).
/// </summary>
internal unsafe interface IGemmKernel<T> where T : unmanaged
{
    static abstract int MR { get; }
    static abstract int NR { get; }
    static abstract int KC { get; }
    static abstract int MC { get; }
    static abstract int NC { get; }

    /// <summary>Whether A is always packed as <see cref="SplatA{T}"/> (never read in place).</summary>
    static virtual bool SplatsA => false;

    /// <summary>
    /// One MR×NR tile: C = alpha·(A·B) + beta·C over depth kc, A read through <paramref name="a"/>, B packed; then,
    /// while the sums are still in registers, + bias[j] (when <paramref name="bias"/> is not null) and max(·, 0)
    /// (when <paramref name="relu"/>), rounded as the separate passes of <see cref="GemmEpilogue{T}.BiasRelu"/> would.
    /// </summary>
    static abstract void Kernel<TA>(int kc, TA a, T* b, T* c, nint ldc, T alpha, T beta, T* bias, bool relu) where TA : struct, IPanelA<T>;
}

/// <summary>8 rows × 2 zmm (8×32 float, 8×16 double): 16 accumulators, 2 B loads and 8 broadcasts per k step.</summary>
internal unsafe struct Vector512Kernel<T> : IGemmKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 8;
    public static int NR => 2 * Vector512<T>.Count;
    public static int KC => 1024 / Unsafe.SizeOf<T>(); // B micro-panel KC×NR = 32 KiB (L1)
    public static int MC => 192;                       // A block MC×KC = 192 KiB (L2)
    public static int NC => 2048;                      // B panel KC×NC = 2 MiB (L3)

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel<TA>(int kc, TA a, T* b, T* c, nint ldc, T alpha, T beta, T* bias, bool relu) where TA : struct, IPanelA<T>
    {
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<T> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<T> c60 = default, c61 = default, c70 = default, c71 = default;
        int nv = Vector512<T>.Count;
        PrefetchTile(c, ldc, 8, 2 * nv);
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b), b1 = Vector512.Load(b + nv);
            Vector512<T> x = Vector512.Create(a[0]);
            c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Fma(x, b0, c60); c61 = Fma(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Fma(x, b0, c70); c71 = Fma(x, b1, c71);
            a.Next();
            b += 2 * nv;
        }
        Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        int mode = beta == T.Zero ? 0 : beta == T.One ? 1 : 2;
        var post = new RowFinish512(bias, relu);
        StoreRow(c, c00, c01, va, vb, mode, post); c += ldc;
        StoreRow(c, c10, c11, va, vb, mode, post); c += ldc;
        StoreRow(c, c20, c21, va, vb, mode, post); c += ldc;
        StoreRow(c, c30, c31, va, vb, mode, post); c += ldc;
        StoreRow(c, c40, c41, va, vb, mode, post); c += ldc;
        StoreRow(c, c50, c51, va, vb, mode, post); c += ldc;
        StoreRow(c, c60, c61, va, vb, mode, post); c += ldc;
        StoreRow(c, c70, c71, va, vb, mode, post);
    }

    /// <summary>
    /// Starts loading the C tile while the k loop runs: for a large C the tile is out of cache,
    /// and its read (or the stores' read-for-ownership) at the end would otherwise stall.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchTile(T* c, nint ldc, int rows, int cols)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++, c += ldc)
        {
            Sse.Prefetch0(c);
            Sse.Prefetch0(c + cols / 2);
            Sse.Prefetch0(c + cols - 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, Vector512<T> x0, Vector512<T> x1, Vector512<T> va, Vector512<T> vb, int mode, in RowFinish512 post)
    {
        T* c1 = c + Vector512<T>.Count;
        if (mode == 0)
        {
            x0 *= va;
            x1 *= va;
        }
        else if (mode == 1)
        {
            x0 = Fma(x0, va, Vector512.Load(c));
            x1 = Fma(x1, va, Vector512.Load(c1));
        }
        else
        {
            x0 = Fma(x0, va, Vector512.Load(c) * vb);
            x1 = Fma(x1, va, Vector512.Load(c1) * vb);
        }
        if (post.Any)
        {
            if (post.HasBias)
            {
                x0 += post.Bias0;
                x1 += post.Bias1;
            }
            if (post.Relu)
            {
                x0 = Vector512.Max(x0, Vector512<T>.Zero);
                x1 = Vector512.Max(x1, Vector512<T>.Zero);
            }
        }
        Vector512.Store(x0, c);
        Vector512.Store(x1, c1);
    }

    /// <summary>The bias of the tile's two column vectors and the ReLU flag, read once per tile.</summary>
    private readonly struct RowFinish512(T* bias, bool relu)
    {
        public readonly bool HasBias = bias != null, Relu = relu, Any = bias != null || relu;
        public readonly Vector512<T> Bias0 = bias != null ? Vector512.Load(bias) : default;
        public readonly Vector512<T> Bias1 = bias != null ? Vector512.Load(bias + Vector512<T>.Count) : default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        return Vector512.FusedMultiplyAdd(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
    }
}

/// <summary>6 rows × 2 ymm (6×16 float, 6×8 double): 12 accumulators, fits the 16 ymm registers of AVX2.</summary>
internal unsafe struct Vector256Kernel<T> : IGemmKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;
    public static int KC => 1024 / Unsafe.SizeOf<T>();
    public static int MC => 144;
    public static int NC => 2048;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel<TA>(int kc, TA a, T* b, T* c, nint ldc, T alpha, T beta, T* bias, bool relu) where TA : struct, IPanelA<T>
    {
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int nv = Vector256<T>.Count;
        Vector512Kernel<T>.PrefetchTile(c, ldc, 6, 2 * nv);
        for (int p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b), b1 = Vector256.Load(b + nv);
            Vector256<T> x = Vector256.Create(a[0]);
            c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            a.Next();
            b += 2 * nv;
        }
        Vector256<T> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
        int mode = beta == T.Zero ? 0 : beta == T.One ? 1 : 2;
        var post = new RowFinish256(bias, relu);
        StoreRow(c, c00, c01, va, vb, mode, post); c += ldc;
        StoreRow(c, c10, c11, va, vb, mode, post); c += ldc;
        StoreRow(c, c20, c21, va, vb, mode, post); c += ldc;
        StoreRow(c, c30, c31, va, vb, mode, post); c += ldc;
        StoreRow(c, c40, c41, va, vb, mode, post); c += ldc;
        StoreRow(c, c50, c51, va, vb, mode, post);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, Vector256<T> x0, Vector256<T> x1, Vector256<T> va, Vector256<T> vb, int mode, in RowFinish256 post)
    {
        T* c1 = c + Vector256<T>.Count;
        if (mode == 0)
        {
            x0 *= va;
            x1 *= va;
        }
        else if (mode == 1)
        {
            x0 = Fma(x0, va, Vector256.Load(c));
            x1 = Fma(x1, va, Vector256.Load(c1));
        }
        else
        {
            x0 = Fma(x0, va, Vector256.Load(c) * vb);
            x1 = Fma(x1, va, Vector256.Load(c1) * vb);
        }
        if (post.Any)
        {
            if (post.HasBias)
            {
                x0 += post.Bias0;
                x1 += post.Bias1;
            }
            if (post.Relu)
            {
                x0 = Vector256.Max(x0, Vector256<T>.Zero);
                x1 = Vector256.Max(x1, Vector256<T>.Zero);
            }
        }
        Vector256.Store(x0, c);
        Vector256.Store(x1, c1);
    }

    /// <summary>The bias of the tile's two column vectors and the ReLU flag, read once per tile.</summary>
    private readonly struct RowFinish256(T* bias, bool relu)
    {
        public readonly bool HasBias = bias != null, Relu = relu, Any = bias != null || relu;
        public readonly Vector256<T> Bias0 = bias != null ? Vector256.Load(bias) : default;
        public readonly Vector256<T> Bias1 = bias != null ? Vector256.Load(bias + Vector256<T>.Count) : default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        return Vector256.FusedMultiplyAdd(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
    }
}

/// <summary>
/// 6 rows × 2 xmm/NEON registers (6×8 float, 6×4 double): 12 accumulators, 2 B loads and 6 broadcasts per k step,
/// within the 16 registers of SSE (x86 without AVX) as on ARM64 and WebAssembly. Multiply-add is
/// <c>Vector128.MultiplyAddEstimate</c>: fused where the hardware has it (ARM64, x86 with FMA), a
/// multiply and an add where it has not (SSE-only x86, where a fused one would be emulated lane by lane).
/// </summary>
internal unsafe struct Vector128Kernel<T> : IGemmKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 6;
    public static int NR => 2 * Vector128<T>.Count;
    public static int KC => 1024 / Unsafe.SizeOf<T>();
    public static int MC => 144;
    public static int NC => 2048;
    public static bool SplatsA => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel<TA>(int kc, TA a, T* b, T* c, nint ldc, T alpha, T beta, T* bias, bool relu) where TA : struct, IPanelA<T>
    {
        Vector128<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int nv = Vector128<T>.Count;
        Vector512Kernel<T>.PrefetchTile(c, ldc, 6, 2 * nv);
        // The loop ends on B's pointer (no separate counter): at 128 bits without FMA each multiply-add takes
        // three instructions, and the few around them decide the speed. The JIT keeps all 16 registers busy:
        // 12 sums, 2 of B, A's value and a product.
        for (T* bEnd = b + (nint)kc * 2 * nv; b < bEnd; b += 2 * nv)
        {
            Vector128<T> b0 = Vector128.Load(b), b1 = Vector128.Load(b + nv);
            Vector128<T> x = a.Splat128(0);
            c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = a.Splat128(1);
            c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = a.Splat128(2);
            c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = a.Splat128(3);
            c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = a.Splat128(4);
            c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = a.Splat128(5);
            c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            a.Next();
        }
        Vector128<T> va = Vector128.Create(alpha), vb = Vector128.Create(beta);
        int mode = beta == T.Zero ? 0 : beta == T.One ? 1 : 2;
        var post = new RowFinish128(bias, relu);
        StoreRow(c, c00, c01, va, vb, mode, post); c += ldc;
        StoreRow(c, c10, c11, va, vb, mode, post); c += ldc;
        StoreRow(c, c20, c21, va, vb, mode, post); c += ldc;
        StoreRow(c, c30, c31, va, vb, mode, post); c += ldc;
        StoreRow(c, c40, c41, va, vb, mode, post); c += ldc;
        StoreRow(c, c50, c51, va, vb, mode, post);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, Vector128<T> x0, Vector128<T> x1, Vector128<T> va, Vector128<T> vb, int mode, in RowFinish128 post)
    {
        T* c1 = c + Vector128<T>.Count;
        if (mode == 0)
        {
            x0 *= va;
            x1 *= va;
        }
        else if (mode == 1)
        {
            x0 = MulAdd(x0, va, Vector128.Load(c));
            x1 = MulAdd(x1, va, Vector128.Load(c1));
        }
        else
        {
            x0 = MulAdd(x0, va, Vector128.Load(c) * vb);
            x1 = MulAdd(x1, va, Vector128.Load(c1) * vb);
        }
        if (post.Any)
        {
            if (post.HasBias)
            {
                x0 += post.Bias0;
                x1 += post.Bias1;
            }
            if (post.Relu)
            {
                x0 = Vector128.Max(x0, Vector128<T>.Zero);
                x1 = Vector128.Max(x1, Vector128<T>.Zero);
            }
        }
        Vector128.Store(x0, c);
        Vector128.Store(x1, c1);
    }

    /// <summary>The bias of the tile's two column vectors and the ReLU flag, read once per tile.</summary>
    private readonly struct RowFinish128(T* bias, bool relu)
    {
        public readonly bool HasBias = bias != null, Relu = relu, Any = bias != null || relu;
        public readonly Vector128<T> Bias0 = bias != null ? Vector128.Load(bias) : default;
        public readonly Vector128<T> Bias1 = bias != null ? Vector128.Load(bias + Vector128<T>.Count) : default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> MulAdd(Vector128<T> x, Vector128<T> y, Vector128<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector128.MultiplyAddEstimate(x.As<T, float>(), y.As<T, float>(), acc.As<T, float>()).As<float, T>();
        return Vector128.MultiplyAddEstimate(x.As<T, double>(), y.As<T, double>(), acc.As<T, double>()).As<double, T>();
    }
}

/// <summary>Portable 4×4 tile in scalar registers, for hardware without usable SIMD (and the reference path).</summary>
internal unsafe struct ScalarKernel<T> : IGemmKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 4;
    public static int NR => 4;
    public static int KC => 1024 / Unsafe.SizeOf<T>();
    public static int MC => 128;
    public static int NC => 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel<TA>(int kc, TA a, T* b, T* c, nint ldc, T alpha, T beta, T* bias, bool relu) where TA : struct, IPanelA<T>
    {
        T c00 = T.Zero, c01 = T.Zero, c02 = T.Zero, c03 = T.Zero;
        T c10 = T.Zero, c11 = T.Zero, c12 = T.Zero, c13 = T.Zero;
        T c20 = T.Zero, c21 = T.Zero, c22 = T.Zero, c23 = T.Zero;
        T c30 = T.Zero, c31 = T.Zero, c32 = T.Zero, c33 = T.Zero;
        for (int p = 0; p < kc; p++)
        {
            T b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            T x = a[0];
            c00 += x * b0; c01 += x * b1; c02 += x * b2; c03 += x * b3;
            x = a[1];
            c10 += x * b0; c11 += x * b1; c12 += x * b2; c13 += x * b3;
            x = a[2];
            c20 += x * b0; c21 += x * b1; c22 += x * b2; c23 += x * b3;
            x = a[3];
            c30 += x * b0; c31 += x * b1; c32 += x * b2; c33 += x * b3;
            a.Next();
            b += 4;
        }
        StoreRow(c, c00, c01, c02, c03, alpha, beta); c += ldc;
        StoreRow(c, c10, c11, c12, c13, alpha, beta); c += ldc;
        StoreRow(c, c20, c21, c22, c23, alpha, beta); c += ldc;
        StoreRow(c, c30, c31, c32, c33, alpha, beta);
        if (bias != null || relu) GemmEpilogue<T>.BiasRelu(c - 3 * ldc, ldc, 4, 4, bias, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, T x0, T x1, T x2, T x3, T alpha, T beta)
    {
        if (beta == T.Zero)
        {
            c[0] = alpha * x0; c[1] = alpha * x1; c[2] = alpha * x2; c[3] = alpha * x3;
        }
        else
        {
            c[0] = alpha * x0 + beta * c[0]; c[1] = alpha * x1 + beta * c[1];
            c[2] = alpha * x2 + beta * c[2]; c[3] = alpha * x3 + beta * c[3];
        }
    }
}
