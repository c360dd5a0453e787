using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Gemm;
using Backprop.Threading;

namespace Backprop.Kernels.Conv;

/// <summary>What a Winograd convolution does with each output: store it (+ bias), add it in, or bias + ReLU + 2×2 max pool it.</summary>
internal enum WinogradOutput
{
    Store,
    Accumulate,
    ReluPool,
}

/// <summary>
/// Where a Winograd convolution's output goes: element (image i, channel o, row r, column c) at
/// Y + i·ImageStride + o·ChannelStride + r·RowLength + c, RowLength being OW, or OW/2 for the pooled output
/// (whose routes are addressed the same way). OH, OW are the convolution's output size.
/// </summary>
internal unsafe struct WinogradTarget<T> where T : unmanaged
{
    public T* Y, Bias; // Bias null: none (Store and ReluPool only)
    public byte* Routes; // ReluPool: the winning tap or ReluPoolKernels.Masked per pooled element
    public nint ImageStride, ChannelStride;
    public int OH, OW;
    public WinogradOutput Mode;
}

/// <summary>
/// 5×5 convolution (stride 1, no dilation, one group) by Winograd's minimal filtering F(2×2, 5×5): each 2×2 block
/// of outputs (a tile) comes from the 6×6 input patch d under it as Y = Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A, so per tile
/// and pair of channels 36 products replace 100. Over all tiles and channels the products are 36 GEMMs,
/// M_ξ [out, tiles] = U_ξ [out, in] · V_ξ [in, tiles], ξ the position in the transformed 6×6 patch.
/// <para>
/// Interpolation points 0, 1, −1, 2, −2 and ∞. With them Bᵀ has small integer entries (the same as
/// F(4×4, 3×3)'s); its row scales are moved into G, which is applied to the weights in double precision.
/// In float the result is within about 2e-6 of the output's magnitude (a direct product: about 1e-7).
/// </para>
/// <para>
/// The transforms run on vectors across the tiles of a tile row; the even and odd columns of each padded
/// input row are split first, so that tile t's six inputs of a row are plain loads at t, t + 1, t + 2.
/// Rows are transformed once each and shared by the two tile rows that overlap on them.
/// </para>
/// </summary>
internal static unsafe class Winograd5x5
{
    /// <summary>Positions in a transformed patch (6×6).</summary>
    public const int Positions = 36;

    /// <summary>Most columns (tiles) per block of GEMMs; whole LeNet-sized batches of a thread's images fit (4 × 49).</summary>
    private const int MaxColumns = 1024;

    /// <summary>
    /// Whether a convolution of this shape runs here (unless <see cref="ConvolutionAlgorithm.Winograd"/> is off): float or double, 5×5, stride 1, no dilation, one group,
    /// padding at most 4, the usual output size, and enough channels on both sides and output pixels for the GEMMs to pay
    /// for the transforms (measured: a 1-channel input, like a first layer's, and planes under 12×12, mostly padding for
    /// a 5×5 window, are faster as the direct product).
    /// </summary>
    public static bool Applies<T>(in Conv2dShape s)
    {
        Window2d g = s.Window;
        return ConvolutionAlgorithm.Winograd && (typeof(T) == typeof(float) || typeof(T) == typeof(double))
            && g is { KH: 5, KW: 5, SH: 1, SW: 1, DH: 1, DW: 1 } && s.Groups == 1
            && g.PH <= 4 && g.PW <= 4 && g.OH == g.H + 2 * g.PH - 4 && g.OW == g.W + 2 * g.PW - 4
            && g.OH >= 2 && g.OW >= 2 && g.OH * g.OW >= 144 && s.C >= 8 && s.OutC >= 8;
    }

    /// <summary>Elements of the transformed weights (or of their gradient), [36][OutC, C].</summary>
    public static int TransformedLength(in Conv2dShape s) => checked(Positions * s.OutC * s.C);

    /// <summary>
    /// u [36][outC, inC] = G·g·Gᵀ for every filter g. Forward: g = w[o, c] of w [outC, inC, 5, 5]. Adjoint
    /// (the convolution that takes dy back to dx): w is the forward's [inC, outC, 5, 5] and g = w[c, o] rotated
    /// by 180°. Computed in double and rounded once.
    /// </summary>
    public static void TransformWeights<T>(T* w, int outC, int inC, bool adjoint, T* u)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var body = new FilterBody<T> { W = w, U = u, OutC = outC, InC = inC, Adjoint = adjoint };
        DynamicParallel.For(outC, Math.Min(Parallelism.ThreadCount, Math.Max(1, outC * inC / 256)), ref body);
    }

    /// <summary>The filters of one output channel, forward (<see cref="TransformWeights{T}"/>) or back (<see cref="WeightsFromGradient{T}"/>).</summary>
    private struct FilterBody<T> : IUnitBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* W, U; // forward: W the filters, U the transformed; back: U the transformed gradient, W the gradient
        public int OutC, InC;
        public bool Adjoint, Back;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int o)
        {
            double* g = stackalloc double[25];
            double* half = stackalloc double[30]; // [6 rows][5 columns]: G·g, or dU·G back
            double* full = stackalloc double[Positions];
            nint plane = (nint)OutC * InC;
            for (int c = 0; c < InC; c++)
            {
                nint at = (nint)o * InC + c;
                if (Back)
                {
                    for (int p = 0; p < Positions; p++) full[p] = double.CreateTruncating(U[p * plane + at]);
                    for (int row = 0; row < 6; row++) GradientTransform(full + row * 6, 1, half + row * 5, 1);
                    for (int col = 0; col < 5; col++) GradientTransform(half + col, 5, g + col, 5);
                    T* dst = W + at * 25;
                    for (int t = 0; t < 25; t++) dst[t] = T.CreateTruncating(g[t]);
                    continue;
                }
                T* f = Adjoint ? W + ((nint)c * OutC + o) * 25 : W + at * 25;
                for (int t = 0; t < 25; t++) g[t] = double.CreateTruncating(f[Adjoint ? 24 - t : t]);
                for (int col = 0; col < 5; col++) FilterTransform(g + col, 5, half + col, 5);
                for (int row = 0; row < 6; row++) FilterTransform(half + row * 5, 1, full + row * 6, 1);
                for (int p = 0; p < Positions; p++) U[p * plane + at] = T.CreateTruncating(full[p]);
            }
        }
    }

    /// <summary>G·g for one line of 5 taps (stride apart) into 6 values (stride apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterTransform(double* g, nint gStride, double* r, nint rStride)
    {
        double g0 = g[0], g1 = g[gStride], g2 = g[2 * gStride], g3 = g[3 * gStride], g4 = g[4 * gStride];
        double even = g0 + g2 + g4, odd = g1 + g3;
        double even2 = g0 + 4 * g2 + 16 * g4, odd2 = 2 * g1 + 8 * g3;
        r[0] = g0 / 4;
        r[rStride] = -(even + odd) / 6;
        r[2 * rStride] = -(even - odd) / 6;
        r[3 * rStride] = (even2 + odd2) / 24;
        r[4 * rStride] = (even2 - odd2) / 24;
        r[5 * rStride] = g4;
    }

    /// <summary>
    /// Convolves nb images: input (image i, channel c, row h, column w) at x + i·xImage + c·xChannel + h·width + w,
    /// padded by (ph, pw) zeros, with the transformed weights u (<see cref="TransformWeights{T}"/>) into
    /// <paramref name="target"/>. The GEMMs run on the pool's threads when <paramref name="parallelGemm"/>.
    /// </summary>
    public static void Convolve<T>(T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC, int outC,
                                   T* u, in WinogradTarget<T> target, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (SimdWidths.Has256) Convolve<T, Width256<T>, Vector256<T>>(x, xImage, xChannel, height, width, ph, pw, nb, inC, outC, u, target, parallelGemm);
        else if (SimdWidths.Has128) Convolve<T, Width128<T>, Vector128<T>>(x, xImage, xChannel, height, width, ph, pw, nb, inC, outC, u, target, parallelGemm);
        else Convolve<T, WidthScalar<T>, T>(x, xImage, xChannel, height, width, ph, pw, nb, inC, outC, u, target, parallelGemm);
    }

    private static void Convolve<T, TW, TV>(T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC, int outC,
                                            T* u, in WinogradTarget<T> target, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        bool pooled = target.Mode == WinogradOutput.ReluPool;
        int tilesH = pooled ? target.OH / 2 : (target.OH + 1) / 2, tilesW = pooled ? target.OW / 2 : (target.OW + 1) / 2;
        var bands = new Bands(nb, tilesH, tilesW, TW.Count);
        nint ld = bands.Stride;
        long vLength = Positions * inC * ld, mLength = Positions * outC * ld;
        T[] scratch = ArrayPool<T>.Shared.Rent(checked((int)(vLength + mLength + bands.RowScratch + 6 * TW.Count)));
        try
        {
            fixed (T* ps = scratch)
            {
                T* v = ps, m = v + vLength, rows = m + mLength;
                for (int i0 = 0; i0 < nb; i0 += bands.Images)
                    for (int th0 = 0; th0 < tilesH; th0 += bands.TileRows)
                    {
                        int images = Math.Min(bands.Images, nb - i0), tileRows = Math.Min(bands.TileRows, tilesH - th0);
                        nint band = (nint)tileRows * tilesW; // columns per image in this band
                        int cols = (int)(images * band);
                        for (int i = 0; i < images; i++)
                            for (int c = 0; c < inC; c++)
                                TransformInput<T, TW, TV>(x + (i0 + i) * xImage + c * xChannel, height, width, ph, pw, th0, tileRows, tilesW, bands.RowTiles,
                                    v + c * ld + i * band, inC * ld, rows);
                        for (int p = 0; p < Positions; p++)
                            GemmKernel.Multiply(false, false, outC, cols, inC, T.One, u + (nint)p * outC * inC, inC, v + p * inC * ld, ld,
                                T.Zero, m + p * outC * ld, ld, parallelGemm);
                        for (int o = 0; o < outC; o++)
                            for (int i = 0; i < images; i++)
                                TransformOutput<T, TW, TV>(m + o * ld + i * band, outC * ld, i0 + i, o, th0, tileRows, tilesW, target, rows);
                    }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// How the tiles of nb images are cut into blocks of GEMM columns: whole images, as many as fit in
    /// <see cref="MaxColumns"/>, or for a larger image bands of its tile rows, so that the scratch
    /// (36 × (in + out channels) × columns) stays bounded whatever the image size.
    /// </summary>
    private readonly struct Bands
    {
        public readonly int Images, TileRows, RowTiles;
        public readonly nint Stride; // of a GEMM row: the columns plus slack for the last vector's spill
        public readonly long RowScratch; // TransformInput's split and row-transformed rows

        public Bands(int nb, int tilesH, int tilesW, int lanes)
        {
            long perImage = (long)tilesH * tilesW;
            Images = perImage <= MaxColumns ? (int)Math.Clamp(MaxColumns / Math.Max(perImage, 1), 1, Math.Max(nb, 1)) : 1;
            TileRows = perImage <= MaxColumns ? tilesH : Math.Clamp(MaxColumns / Math.Max(tilesW, 1), 1, tilesH);
            RowTiles = (tilesW + lanes - 1) / lanes * lanes;
            // A row's last vector runs up to lanes − 1 past its tiles: into the next row's tiles (written after it) or this slack.
            Stride = (nint)Images * TileRows * tilesW + lanes;
            int paddedRows = 2 * TileRows + 4;
            RowScratch = 2L * paddedRows * (RowTiles + 2) + (long)paddedRows * 6 * RowTiles;
        }
    }

    /// <summary>
    /// The weights' gradient through the same algorithm: dU_ξ [outC, inC] (+)= Σ_tiles (A·dY·Aᵀ)_ξ · (Bᵀ·d·B)_ξ over nb images,
    /// x as in <see cref="Convolve{T}"/>, dy (image i, channel o, row r, column c) at dy + i·dyImage + o·dyChannel + r·OW + c.
    /// dU is [36][outC, inC], overwritten unless <paramref name="accumulate"/>; <see cref="WeightsFromGradient{T}"/> turns it into dw.
    /// In exact arithmetic this is the convolution's dw (the forward it differentiates equals the convolution).
    /// </summary>
    public static void WeightGradient<T>(T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC,
                                         T* dy, nint dyImage, nint dyChannel, int oh, int ow, int outC, T* du, bool accumulate, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (SimdWidths.Has256) WeightGradient<T, Width256<T>, Vector256<T>>(x, xImage, xChannel, height, width, ph, pw, nb, inC, dy, dyImage, dyChannel, oh, ow, outC, du, accumulate, parallelGemm);
        else if (SimdWidths.Has128) WeightGradient<T, Width128<T>, Vector128<T>>(x, xImage, xChannel, height, width, ph, pw, nb, inC, dy, dyImage, dyChannel, oh, ow, outC, du, accumulate, parallelGemm);
        else WeightGradient<T, WidthScalar<T>, T>(x, xImage, xChannel, height, width, ph, pw, nb, inC, dy, dyImage, dyChannel, oh, ow, outC, du, accumulate, parallelGemm);
    }

    private static void WeightGradient<T, TW, TV>(T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC,
                                                  T* dy, nint dyImage, nint dyChannel, int oh, int ow, int outC, T* du, bool accumulate, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        int tilesH = (oh + 1) / 2, tilesW = (ow + 1) / 2;
        var bands = new Bands(nb, tilesH, tilesW, TW.Count);
        nint ld = bands.Stride;
        long vLength = Positions * inC * ld, mLength = Positions * outC * ld;
        T[] scratch = ArrayPool<T>.Shared.Rent(checked((int)(vLength + mLength + bands.RowScratch)));
        try
        {
            fixed (T* ps = scratch)
            {
                T* v = ps, dm = v + vLength, rows = dm + mLength;
                bool first = !accumulate;
                for (int i0 = 0; i0 < nb; i0 += bands.Images)
                    for (int th0 = 0; th0 < tilesH; th0 += bands.TileRows)
                    {
                        int images = Math.Min(bands.Images, nb - i0), tileRows = Math.Min(bands.TileRows, tilesH - th0);
                        nint band = (nint)tileRows * tilesW;
                        int cols = (int)(images * band);
                        for (int i = 0; i < images; i++)
                        {
                            for (int c = 0; c < inC; c++)
                                TransformInput<T, TW, TV>(x + (i0 + i) * xImage + c * xChannel, height, width, ph, pw, th0, tileRows, tilesW, bands.RowTiles,
                                    v + c * ld + i * band, inC * ld, rows);
                            for (int o = 0; o < outC; o++)
                                TransformGradient<T, TW, TV>(dy + (i0 + i) * dyImage + o * dyChannel, oh, ow, th0, tileRows, tilesW, bands.RowTiles,
                                    dm + o * ld + i * band, outC * ld, rows);
                        }
                        // only the tiles' columns are read: the slack past them holds the last row's spill
                        for (int p = 0; p < Positions; p++)
                            GemmKernel.Multiply(false, true, outC, inC, cols, T.One, dm + p * outC * ld, ld, v + p * inC * ld, ld,
                                first ? T.Zero : T.One, du + (nint)p * outC * inC, inC, parallelGemm);
                        first = false;
                    }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// A·dY·Aᵀ of one output channel's tiles in tile rows [th0, th0 + tileRows) (dY the 2×2 gradient block of each, 0 past
    /// the plane's edge): the 36 values of tile (th0 + t, tw) to dm + ξ·dmStride + t·tilesW + tw. Scratch: two split rows of rowTiles + 2 each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformGradient<T, TW, TV>(T* plane, int oh, int ow, int th0, int tileRows, int tilesW, int rowTiles, T* dm, nint dmStride, T* scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        int lanes = TW.Count, split = rowTiles + 2;
        T* e0 = scratch, o0 = e0 + split, e1 = o0 + split, o1 = e1 + split;
        TV two = TW.Splat(T.CreateTruncating(2));
        for (int t0 = 0; t0 < tileRows; t0++)
        {
            int th = th0 + t0;
            Split(plane + (nint)2 * th * ow, ow, 0, e0, o0, split);
            if (2 * th + 1 < oh) Split(plane + (nint)(2 * th + 1) * ow, ow, 0, e1, o1, split);
            else
            {
                new Span<T>(e1, split).Clear();
                new Span<T>(o1, split).Clear();
            }
            for (int t = 0; t < rowTiles; t += lanes)
            {
                // each row's 2 values to 6 (Aᵀ's columns: [1 0] [1 1] [1 −1] [1 2] [1 −2] [0 1]), then the same down the columns
                TV a0 = TW.Load(e0 + t), a1 = TW.Load(o0 + t), b0 = TW.Load(e1 + t), b1 = TW.Load(o1 + t);
                T* dst = dm + (nint)t0 * tilesW + t;
                GradientLine<T, TW, TV>(a0, b0, two, dst, dmStride);
                GradientLine<T, TW, TV>(TW.Add(a0, a1), TW.Add(b0, b1), two, dst + dmStride, dmStride);
                GradientLine<T, TW, TV>(TW.Sub(a0, a1), TW.Sub(b0, b1), two, dst + 2 * dmStride, dmStride);
                GradientLine<T, TW, TV>(TW.MulAdd(two, a1, a0), TW.MulAdd(two, b1, b0), two, dst + 3 * dmStride, dmStride);
                GradientLine<T, TW, TV>(TW.MulAdd(TW.Neg(two), a1, a0), TW.MulAdd(TW.Neg(two), b1, b0), two, dst + 4 * dmStride, dmStride);
                GradientLine<T, TW, TV>(a1, b1, two, dst + 5 * dmStride, dmStride);
            }
        }
    }

    /// <summary>Column b of A·dY·Aᵀ from its two rows' values r0, r1: positions a·6 + b, a = 0..5 (dst is at b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientLine<T, TW, TV>(TV r0, TV r1, TV two, T* dst, nint dmStride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TW.Store(dst, r0);
        TW.Store(dst + 6 * dmStride, TW.Add(r0, r1));
        TW.Store(dst + 12 * dmStride, TW.Sub(r0, r1));
        TW.Store(dst + 18 * dmStride, TW.MulAdd(two, r1, r0));
        TW.Store(dst + 24 * dmStride, TW.MulAdd(TW.Neg(two), r1, r0));
        TW.Store(dst + 30 * dmStride, r1);
    }

    /// <summary>dw [outC, inC, 5, 5] = Gᵀ·dU·G per filter, from du [36][outC, inC] (<see cref="WeightGradient{T}"/>); in double, rounded once.</summary>
    public static void WeightsFromGradient<T>(T* du, int outC, int inC, T* dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var body = new FilterBody<T> { W = dw, U = du, OutC = outC, InC = inC, Back = true };
        DynamicParallel.For(outC, Math.Min(Parallelism.ThreadCount, Math.Max(1, outC * inC / 256)), ref body);
    }

    /// <summary>Gᵀ·u for one line of 6 values (stride apart) into 5 taps (stride apart): the transpose of <see cref="FilterTransform"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientTransform(double* u, nint uStride, double* r, nint rStride)
    {
        double u0 = u[0], u1 = u[uStride], u2 = u[2 * uStride], u3 = u[3 * uStride], u4 = u[4 * uStride], u5 = u[5 * uStride];
        double plus = -(u1 + u2) / 6, minus = -(u1 - u2) / 6, plus2 = (u3 + u4) / 24, minus2 = (u3 - u4) / 24;
        r[0] = u0 / 4 + plus + plus2;
        r[rStride] = minus + 2 * minus2;
        r[2 * rStride] = plus + 4 * plus2;
        r[3 * rStride] = minus + 8 * minus2;
        r[4 * rStride] = plus + 16 * plus2 + u5;
    }

    /// <summary>
    /// V of one image's channel, tile rows [th0, th0 + tileRows): for tile (th0 + t, tw), the 36 values Bᵀ·d·B go to
    /// v + ξ·vStride + t·tilesW + tw.
    /// Scratch: the split rows [rows][even | odd][rowTiles + 2], then the row-transformed rows [rows][6][rowTiles].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput<T, TW, TV>(T* plane, int height, int width, int ph, int pw, int th0, int tileRows, int tilesW, int rowTiles,
                                                  T* v, nint vStride, T* scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        int lanes = TW.Count, paddedRows = 2 * tileRows + 4, split = rowTiles + 2;
        T* even = scratch, odd = scratch + (nint)paddedRows * split, rowT = odd + (nint)paddedRows * split;
        for (int r = 0; r < paddedRows; r++)
        {
            T* e = even + (nint)r * split, od = odd + (nint)r * split;
            int h = 2 * th0 + r - ph;
            if ((uint)h >= (uint)height)
            {
                new Span<T>(e, split).Clear();
                new Span<T>(od, split).Clear();
            }
            else
                Split(plane + (nint)h * width, width, pw, e, od, split);
            // d_k of tile t is column 2t + k of the padded row: even[t + k/2] or odd[t + k/2]
            T* dst = rowT + (nint)r * 6 * rowTiles;
            for (int t = 0; t < rowTiles; t += lanes)
                InputLine<T, TW, TV>(TW.Load(e + t), TW.Load(od + t), TW.Load(e + t + 1), TW.Load(od + t + 1), TW.Load(e + t + 2), TW.Load(od + t + 2),
                    dst + t, rowTiles);
        }
        for (int th = 0; th < tileRows; th++)
        {
            T* top = rowT + (nint)2 * th * 6 * rowTiles;
            nint step = 6 * rowTiles;
            for (int k = 0; k < 6; k++)
                for (int t = 0; t < rowTiles; t += lanes)
                {
                    T* s = top + k * rowTiles + t;
                    InputLine<T, TW, TV>(TW.Load(s), TW.Load(s + step), TW.Load(s + 2 * step), TW.Load(s + 3 * step), TW.Load(s + 4 * step), TW.Load(s + 5 * step),
                        v + k * vStride + (nint)th * tilesW + t, 6 * vStride);
                }
        }
    }

    /// <summary>even[j], odd[j] = columns 2j − pw and 2j + 1 − pw of a row of width values (0 outside), j &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Split<T>(T* src, int width, int pw, T* even, T* odd, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // j in [lo, hi): both columns inside the row
        int lo = Math.Min((pw + 1) / 2, count), hi = Math.Clamp((width - 2 + pw) / 2 + 1, lo, count);
        for (int j = 0; j < lo; j++)
        {
            int at = 2 * j - pw;
            even[j] = (uint)at < (uint)width ? src[at] : T.Zero;
            odd[j] = (uint)(at + 1) < (uint)width ? src[at + 1] : T.Zero;
        }
        int k = lo;
        if (typeof(T) == typeof(float) && Vector128.IsHardwareAccelerated)
            for (; k + 4 <= hi; k += 4)
            {
                float* p = (float*)src + 2 * k - pw;
                Vector128<float> a = Vector128.Load(p), b = Vector128.Load(p + 4);
                LaneShuffles.Even(a, b).Store((float*)even + k);
                LaneShuffles.Odd(a, b).Store((float*)odd + k);
            }
        for (; k < hi; k++)
        {
            even[k] = src[2 * k - pw];
            odd[k] = src[2 * k + 1 - pw];
        }
        for (int j = hi; j < count; j++)
        {
            int at = 2 * j - pw;
            even[j] = (uint)at < (uint)width ? src[at] : T.Zero;
            odd[j] = (uint)(at + 1) < (uint)width ? src[at + 1] : T.Zero;
        }
    }

    /// <summary>Bᵀ·d for six lines d0..d5 (lanes are tiles), stored stride apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputLine<T, TW, TV>(TV d0, TV d1, TV d2, TV d3, TV d4, TV d5, T* r, nint stride)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TV four = TW.Splat(T.CreateTruncating(4)), minusFour = TW.Splat(T.CreateTruncating(-4)), minusFive = TW.Splat(T.CreateTruncating(-5));
        TV two = TW.Splat(T.CreateTruncating(2)), minusTwo = TW.Splat(T.CreateTruncating(-2));
        TV d42 = TW.Sub(d4, d2), d31 = TW.Sub(d3, d1);
        TW.Store(r, TW.MulAdd(four, d0, TW.MulAdd(minusFive, d2, d4)));
        TW.Store(r + stride, TW.MulAdd(minusFour, TW.Add(d1, d2), TW.Add(d3, d4)));
        TW.Store(r + 2 * stride, TW.MulAdd(four, TW.Sub(d1, d2), TW.Sub(d4, d3)));
        TW.Store(r + 3 * stride, TW.MulAdd(two, d31, d42));
        TW.Store(r + 4 * stride, TW.MulAdd(minusTwo, d31, d42));
        TW.Store(r + 5 * stride, TW.MulAdd(four, d1, TW.MulAdd(minusFive, d3, d5)));
    }

    /// <summary>
    /// Y = Aᵀ·M·A for the tiles of image i, channel o, tile rows [th0, th0 + tileRows): M_ξ of tile (th0 + t, tw) at
    /// m + ξ·mStride + t·tilesW + tw;
    /// the 2×2 results go to the target. tmp holds 6 vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput<T, TW, TV>(T* m, nint mStride, int i, int o, int th0, int tileRows, int tilesW, in WinogradTarget<T> target, T* tmp)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        int lanes = TW.Count;
        TV two = TW.Splat(T.CreateTruncating(2));
        for (int th = 0; th < tileRows; th++)
            for (int t = 0; t < tilesW; t += lanes)
            {
                T* s = m + (nint)th * tilesW + t;
                // Aᵀ·M column by column (z0, z1: its two rows), each folded into the outputs by Aᵀ's rows [1 1 1 1 1 0] and [0 1 −1 2 −2 1]
                Column<T, TW, TV>(s, mStride, out TV z0, out TV z1);
                TV y00 = z0, y10 = z1;
                Column<T, TW, TV>(s + mStride, mStride, out z0, out z1);
                y00 = TW.Add(y00, z0); y10 = TW.Add(y10, z1);
                TV y01 = z0, y11 = z1;
                Column<T, TW, TV>(s + 2 * mStride, mStride, out z0, out z1);
                y00 = TW.Add(y00, z0); y10 = TW.Add(y10, z1);
                y01 = TW.Sub(y01, z0); y11 = TW.Sub(y11, z1);
                Column<T, TW, TV>(s + 3 * mStride, mStride, out TV w0, out TV w1);
                Column<T, TW, TV>(s + 4 * mStride, mStride, out z0, out z1);
                y00 = TW.Add(y00, TW.Add(w0, z0)); y10 = TW.Add(y10, TW.Add(w1, z1));
                y01 = TW.MulAdd(two, TW.Sub(w0, z0), y01); y11 = TW.MulAdd(two, TW.Sub(w1, z1), y11);
                Column<T, TW, TV>(s + 5 * mStride, mStride, out z0, out z1);
                y01 = TW.Add(y01, z0); y11 = TW.Add(y11, z1);
                TW.Store(tmp, y00);
                TW.Store(tmp + lanes, y01);
                TW.Store(tmp + 2 * lanes, y10);
                TW.Store(tmp + 3 * lanes, y11);
                Emit(target, i, o, th0 + th, t, Math.Min(lanes, tilesW - t), tmp, lanes);
            }
    }

    /// <summary>Rows 0 and 1 of Aᵀ·M for column b of the patches (m: M_b; the rows a are 6 positions apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column<T, TW, TV>(T* m, nint mStride, out TV z0, out TV z1)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        TV m0 = TW.Load(m), m1 = TW.Load(m + 6 * mStride), m2 = TW.Load(m + 12 * mStride);
        TV m3 = TW.Load(m + 18 * mStride), m4 = TW.Load(m + 24 * mStride), m5 = TW.Load(m + 30 * mStride);
        z0 = TW.Add(TW.Add(m0, TW.Add(m1, m2)), TW.Add(m3, m4));
        z1 = TW.MulAdd(TW.Splat(T.CreateTruncating(2)), TW.Sub(m3, m4), TW.Add(TW.Sub(m1, m2), m5));
    }

    /// <summary>Writes n tiles' outputs (tmp: lanes of y00, y01, y10, y11) of tile row th from tile t0 on.</summary>
    private static void Emit<T>(in WinogradTarget<T> target, int i, int o, int th, int t0, int n, T* tmp, int lanes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint plane = i * target.ImageStride + o * target.ChannelStride;
        // without a bias 0 is added: ReLU's result is the same (it turns −0 into +0 either way)
        T bias = target.Bias is null ? T.Zero : target.Bias[o];
        bool hasBias = target.Bias is not null;
        if (target.Mode == WinogradOutput.ReluPool)
        {
            nint at = plane + (nint)th * (target.OW / 2) + t0;
            T* y = target.Y + at;
            byte* routes = target.Routes + at;
            if (Vector128.IsHardwareAccelerated)
            {
                // all lanes at once (lanes is a multiple of a Vector128's), the winners and codes staged after the four taps
                T* best = tmp + 4 * lanes, codes = best + lanes;
                for (int l = 0; l < lanes; l += Vector128<T>.Count)
                    PoolLanes(tmp + l, lanes, bias, best + l, codes + l);
                for (int l = 0; l < n; l++)
                {
                    y[l] = best[l];
                    routes[l] = (byte)int.CreateTruncating(codes[l]);
                }
                return;
            }
            for (int l = 0; l < n; l++)
            {
                T a = Relu(tmp[l] + bias), b = Relu(tmp[lanes + l] + bias);
                T c = Relu(tmp[2 * lanes + l] + bias), d = Relu(tmp[3 * lanes + l] + bias);
                int ia = 0, ic = 2;
                if (b > a || T.IsNaN(b)) { a = b; ia = 1; }
                if (d > c || T.IsNaN(d)) { c = d; ic = 3; }
                if (c > a || T.IsNaN(c)) { a = c; ia = ic; }
                y[l] = a;
                routes[l] = a > T.Zero ? (byte)ia : ReluPoolKernels.Masked;
            }
            return;
        }
        int r0 = 2 * th;
        bool second = r0 + 1 < target.OH, accumulate = target.Mode == WinogradOutput.Accumulate;
        T* top = target.Y + plane + (nint)r0 * target.OW, bottom = top + target.OW;
        for (int l = 0; l < n; l++)
        {
            int col = 2 * (t0 + l);
            bool right = col + 1 < target.OW;
            Put(top + col, tmp[l], accumulate, hasBias, bias);
            if (right) Put(top + col + 1, tmp[lanes + l], accumulate, hasBias, bias);
            if (!second) continue;
            Put(bottom + col, tmp[2 * lanes + l], accumulate, hasBias, bias);
            if (right) Put(bottom + col + 1, tmp[3 * lanes + l], accumulate, hasBias, bias);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<T>(T* p, T value, bool accumulate, bool hasBias, T bias) where T : unmanaged, IFloatingPointIeee754<T>
        => *p = accumulate ? *p + value : hasBias ? value + bias : value;

    /// <summary>max(v, 0) as <see cref="ReluPoolKernels"/> computes it (NaN stays NaN, −0 becomes +0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Relu<T>(T v) where T : unmanaged, IFloatingPointIeee754<T>
        => v > T.Zero || T.IsNaN(v) ? v : T.Zero;

    /// <summary>
    /// Bias + ReLU + the 2×2 max of one Vector128 of tiles: taps at y00, y00 + stride, + 2·stride, + 3·stride (a b / c d);
    /// the winner to best, its code (tap or <see cref="ReluPoolKernels.Masked"/>, as a number) to codes. The same
    /// comparisons as <see cref="ReluPoolKernels.Forward{T}"/>: the first maximum, a NaN taking over.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PoolLanes<T>(T* y00, int stride, T bias, T* best, T* codes) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector128<T> vb = Vector128.Create(bias);
        Vector128<T> a = Relu(Vector128.Load(y00) + vb), b = Relu(Vector128.Load(y00 + stride) + vb);
        Vector128<T> c = Relu(Vector128.Load(y00 + 2 * stride) + vb), d = Relu(Vector128.Load(y00 + 3 * stride) + vb);
        Vector128<T> m = Takes(b, a);
        a = Vector128.ConditionalSelect(m, b, a);
        Vector128<T> ia = Vector128.ConditionalSelect(m, Vector128<T>.One, Vector128<T>.Zero);
        m = Takes(d, c);
        c = Vector128.ConditionalSelect(m, d, c);
        Vector128<T> ic = Vector128.ConditionalSelect(m, Vector128.Create(T.CreateTruncating(3)), Vector128.Create(T.CreateTruncating(2)));
        m = Takes(c, a);
        Vector128<T> winner = Vector128.ConditionalSelect(m, c, a);
        Vector128<T> code = Vector128.ConditionalSelect(m, ic, ia);
        code = Vector128.ConditionalSelect(Vector128.GreaterThan(winner, Vector128<T>.Zero), code, Vector128.Create(T.CreateTruncating(ReluPoolKernels.Masked)));
        winner.Store(best);
        code.Store(codes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Relu<T>(Vector128<T> v) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector128.ConditionalSelect(Vector128.GreaterThan(v, Vector128<T>.Zero) | ~Vector128.Equals(v, v), v, Vector128<T>.Zero);

    /// <summary>Lanes where v replaces the running best (v &gt; best, or v is NaN) are all ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Takes<T>(Vector128<T> v, Vector128<T> best) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v);
}
