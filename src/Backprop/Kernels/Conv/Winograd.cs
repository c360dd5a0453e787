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
/// 3×3 and 5×5 convolutions (stride 1, no dilation, one group) by Winograd's minimal filtering F(2×2, r×r): each
/// 2×2 block of outputs (a tile) comes from the n×n input patch d under it (n = r + 1) as
/// Y = Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A, so per tile and pair of channels n² products replace 4r² (36 for 100 at 5×5,
/// 16 for 36 at 3×3). Over all tiles and channels the products are n² GEMMs,
/// M_ξ [out, tiles] = U_ξ [out, in] · V_ξ [in, tiles], ξ the position in the transformed patch. The transforms
/// are in <see cref="Tile5x5"/> and <see cref="Tile3x3"/>; the weights' is done in double precision.
/// <para>
/// The transforms run on vectors across the tiles of a tile row; the even and odd columns of each padded
/// input row are split first, so that tile t's inputs of a row are plain loads at t, t + 1, (t + 2).
/// Rows are transformed once each and shared by the tile rows that overlap on them.
/// </para>
/// </summary>
internal static unsafe class Winograd
{
    /// <summary>Most columns (tiles) per block of GEMMs; whole LeNet-sized batches of a thread's images fit (4 × 49).</summary>
    private const int MaxColumns = 1024;

    /// <summary>
    /// Whether a convolution of this shape runs here, as <see cref="ConvolutionAlgorithm.Winograd"/> says: it can when it is
    /// float or double, 5×5 or 3×3, stride 1, no dilation, one group, padding below the kernel size and of the usual output
    /// size; by default only where the GEMMs pay for the transforms. Measured: a 1-channel input (a first layer's), planes
    /// under 12×12 (mostly padding for the window), 3×3 with 16 channels (0.8–1.2×; 32: 1.1–1.25×, 64+: 1.35–1.5×), and
    /// small batches were faster as the direct product: one 14×14 LeNet conv2 image 0.5×, 8 of them 0.84–0.99× forward
    /// (the weights' transform is a fixed cost per call), a single image on 2 threads slower still (each small GEMM split).
    /// </summary>
    public static bool Applies<T>(in Conv2dShape s)
    {
        Window2d g = s.Window;
        int r = g.KH;
        WinogradPolicy policy = ConvolutionAlgorithm.Winograd;
        bool can = policy != WinogradPolicy.Off && (typeof(T) == typeof(float) || typeof(T) == typeof(double))
            && (r == 5 || r == 3) && g is { SH: 1, SW: 1, DH: 1, DW: 1 } && g.KW == r && s.Groups == 1
            && g.PH < r && g.PW < r && g.OH == g.H + 2 * g.PH - (r - 1) && g.OW == g.W + 2 * g.PW - (r - 1)
            && g.OH >= 2 && g.OW >= 2;
        if (!can || policy == WinogradPolicy.Always) return can;
        int minChannels = r == 3 ? 32 : 8;
        return s.N >= 2 && (long)s.N * g.OH * g.OW >= 3072 && g.OH * g.OW >= 144 && s.C >= minChannels && s.OutC >= minChannels;
    }

    /// <summary>Elements of the transformed weights (or of their gradient), [n²][OutC, C].</summary>
    public static int TransformedLength(in Conv2dShape s) => checked((s.Window.KH + 1) * (s.Window.KH + 1) * s.OutC * s.C);

    /// <summary>
    /// u [n²][outC, inC] = G·g·Gᵀ for every filter g (kernel × kernel). Forward: g = w[o, c] of w [outC, inC, r, r].
    /// Adjoint (the convolution that takes dy back to dx): w is the forward's [inC, outC, r, r] and g = w[c, o] rotated
    /// by 180°. Computed in double and rounded once.
    /// </summary>
    public static void TransformWeights<T>(T* w, int kernel, int outC, int inC, bool adjoint, T* u)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (kernel == 5) Filters<T, Tile5x5>(w, outC, inC, adjoint, false, u);
        else Filters<T, Tile3x3>(w, outC, inC, adjoint, false, u);
    }

    /// <summary>dw [outC, inC, r, r] = Gᵀ·dU·G per filter, from du [n²][outC, inC] (<see cref="WeightGradient{T}"/>); in double, rounded once.</summary>
    public static void WeightsFromGradient<T>(T* du, int kernel, int outC, int inC, T* dw)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (kernel == 5) Filters<T, Tile5x5>(dw, outC, inC, false, true, du);
        else Filters<T, Tile3x3>(dw, outC, inC, false, true, du);
    }

    private static void Filters<T, TTile>(T* w, int outC, int inC, bool adjoint, bool back, T* u)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
    {
        int threads = Math.Min(Parallelism.ThreadCount, Math.Max(1, outC * inC / 256));
        if (SimdWidths.Has256)
        {
            var body = new FilterBody<T, TTile, Width256<double>, Vector256<double>> { W = w, U = u, OutC = outC, InC = inC, Adjoint = adjoint, Back = back };
            DynamicParallel.For(outC, threads, ref body);
        }
        else if (SimdWidths.Has128)
        {
            var body = new FilterBody<T, TTile, Width128<double>, Vector128<double>> { W = w, U = u, OutC = outC, InC = inC, Adjoint = adjoint, Back = back };
            DynamicParallel.For(outC, threads, ref body);
        }
        else
        {
            var body = new FilterBody<T, TTile, WidthScalar<double>, double> { W = w, U = u, OutC = outC, InC = inC, Adjoint = adjoint, Back = back };
            DynamicParallel.For(outC, threads, ref body);
        }
    }

    /// <summary>
    /// The filters of one output channel, forward (<see cref="TransformWeights{T}"/>) or back (<see cref="WeightsFromGradient{T}"/>),
    /// a register's worth of input channels at a time: element k of the lanes' filters sits at k·lanes, one per lane.
    /// </summary>
    private struct FilterBody<T, TTile, TW, TV> : IUnitBody
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
        where TW : ISimdWidth<double, TV>
        where TV : struct
    {
        public T* W, U; // forward: W the filters, U the transformed; back: U the transformed gradient, W the gradient
        public int OutC, InC;
        public bool Adjoint, Back;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int o)
        {
            int r = TTile.Kernel, n = TTile.Patch, taps = r * r, positions = n * n, lanes = TW.Count;
            double* g = stackalloc double[taps * lanes];
            double* half = stackalloc double[n * r * lanes]; // [n rows][r columns]: G·g, or dU·G back
            double* full = stackalloc double[positions * lanes];
            nint plane = (nint)OutC * InC;
            for (int c0 = 0; c0 < InC; c0 += lanes)
            {
                int count = Math.Min(lanes, InC - c0); // lanes past the last channel compute on zeros, unread
                nint at = (nint)o * InC + c0;
                if (Back)
                {
                    for (int p = 0; p < positions; p++)
                        for (int l = 0; l < lanes; l++) full[p * lanes + l] = l < count ? double.CreateTruncating(U[p * plane + at + l]) : 0;
                    for (int row = 0; row < n; row++) TTile.FilterBack<TW, TV>(full + row * n * lanes, lanes, half + row * r * lanes, lanes);
                    for (int col = 0; col < r; col++) TTile.FilterBack<TW, TV>(half + col * lanes, r * lanes, g + col * lanes, r * lanes);
                    for (int l = 0; l < count; l++)
                    {
                        T* dst = W + (at + l) * taps;
                        for (int t = 0; t < taps; t++) dst[t] = T.CreateTruncating(g[t * lanes + l]);
                    }
                    continue;
                }
                for (int l = 0; l < lanes; l++)
                {
                    T* f = Adjoint ? W + ((nint)(c0 + l) * OutC + o) * taps : W + (at + l) * taps;
                    for (int t = 0; t < taps; t++) g[t * lanes + l] = l < count ? double.CreateTruncating(f[Adjoint ? taps - 1 - t : t]) : 0;
                }
                for (int col = 0; col < r; col++) TTile.Filter<TW, TV>(g + col * lanes, r * lanes, half + col * lanes, r * lanes);
                for (int row = 0; row < n; row++) TTile.Filter<TW, TV>(half + row * r * lanes, lanes, full + row * n * lanes, lanes);
                for (int p = 0; p < positions; p++)
                    for (int l = 0; l < count; l++) U[p * plane + at + l] = T.CreateTruncating(full[p * lanes + l]);
            }
        }
    }

    /// <summary>
    /// Convolves nb images: input (image i, channel c, row h, column w) at x + i·xImage + c·xChannel + h·width + w,
    /// padded by (ph, pw) zeros, with the transformed weights u (<see cref="TransformWeights{T}"/>) into
    /// <paramref name="target"/>. The GEMMs run on the pool's threads when <paramref name="parallelGemm"/>.
    /// </summary>
    public static void Convolve<T>(int kernel, T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC, int outC,
                                   T* u, in WinogradTarget<T> target, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (kernel == 5) Convolve<T, Tile5x5>(x, xImage, xChannel, height, width, ph, pw, nb, inC, outC, u, target, parallelGemm);
        else Convolve<T, Tile3x3>(x, xImage, xChannel, height, width, ph, pw, nb, inC, outC, u, target, parallelGemm);
    }

    private static void Convolve<T, TTile>(T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC, int outC,
                                           T* u, in WinogradTarget<T> target, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
    {
        if (SimdWidths.Has256) Convolve<T, TTile, Width256<T>, Vector256<T>>(x, xImage, xChannel, height, width, ph, pw, nb, inC, outC, u, target, parallelGemm);
        else if (SimdWidths.Has128) Convolve<T, TTile, Width128<T>, Vector128<T>>(x, xImage, xChannel, height, width, ph, pw, nb, inC, outC, u, target, parallelGemm);
        else Convolve<T, TTile, WidthScalar<T>, T>(x, xImage, xChannel, height, width, ph, pw, nb, inC, outC, u, target, parallelGemm);
    }

    private static void Convolve<T, TTile, TW, TV>(T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC, int outC,
                                                   T* u, in WinogradTarget<T> target, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        bool pooled = target.Mode == WinogradOutput.ReluPool;
        int tilesH = pooled ? target.OH / 2 : (target.OH + 1) / 2, tilesW = pooled ? target.OW / 2 : (target.OW + 1) / 2;
        var bands = new Bands(nb, tilesH, tilesW, TW.Count, TTile.Patch);
        nint ld = bands.Stride;
        int positions = TTile.Patch * TTile.Patch;
        long vLength = positions * inC * ld, mLength = positions * outC * ld;
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
                                TransformInput<T, TTile, TW, TV>(x + (i0 + i) * xImage + c * xChannel, height, width, ph, pw, th0, tileRows, tilesW, bands.RowTiles,
                                    v + c * ld + i * band, inC * ld, rows);
                        for (int p = 0; p < positions; p++)
                            GemmKernel.Multiply(false, false, outC, cols, inC, T.One, u + (nint)p * outC * inC, inC, v + p * inC * ld, ld,
                                T.Zero, m + p * outC * ld, ld, parallelGemm);
                        for (int o = 0; o < outC; o++)
                            for (int i = 0; i < images; i++)
                                TransformOutput<T, TTile, TW, TV>(m + o * ld + i * band, outC * ld, i0 + i, o, th0, tileRows, tilesW, target, rows);
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
    /// (n² × (in + out channels) × columns) stays bounded whatever the image size.
    /// </summary>
    private readonly struct Bands
    {
        public readonly int Images, TileRows, RowTiles;
        public readonly nint Stride; // of a GEMM row: the columns plus slack for the last vector's spill
        public readonly long RowScratch; // TransformInput's split and row-transformed rows

        public Bands(int nb, int tilesH, int tilesW, int lanes, int patch)
        {
            long perImage = (long)tilesH * tilesW;
            Images = perImage <= MaxColumns ? (int)Math.Clamp(MaxColumns / Math.Max(perImage, 1), 1, Math.Max(nb, 1)) : 1;
            TileRows = perImage <= MaxColumns ? tilesH : Math.Clamp(MaxColumns / Math.Max(tilesW, 1), 1, tilesH);
            RowTiles = (tilesW + lanes - 1) / lanes * lanes;
            // A row's last vector runs up to lanes − 1 past its tiles: into the next row's tiles (written after it) or this slack.
            Stride = (nint)Images * TileRows * tilesW + lanes;
            int paddedRows = 2 * TileRows + patch - 2;
            RowScratch = 2L * paddedRows * (RowTiles + 2) + (long)paddedRows * patch * RowTiles;
        }
    }

    /// <summary>
    /// The weights' gradient through the same algorithm: dU_ξ [outC, inC] (+)= Σ_tiles (A·dY·Aᵀ)_ξ · (Bᵀ·d·B)_ξ over nb images,
    /// x as in <see cref="Convolve{T}"/>, dy (image i, channel o, row r, column c) at dy + i·dyImage + o·dyChannel + r·OW + c.
    /// dU is [n²][outC, inC], overwritten unless <paramref name="accumulate"/>; <see cref="WeightsFromGradient{T}"/> turns it into dw.
    /// In exact arithmetic this is the convolution's dw (the forward it differentiates equals the convolution).
    /// </summary>
    public static void WeightGradient<T>(int kernel, T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC,
                                         T* dy, nint dyImage, nint dyChannel, int oh, int ow, int outC, T* du, bool accumulate, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (kernel == 5) WeightGradient<T, Tile5x5>(x, xImage, xChannel, height, width, ph, pw, nb, inC, dy, dyImage, dyChannel, oh, ow, outC, du, accumulate, parallelGemm);
        else WeightGradient<T, Tile3x3>(x, xImage, xChannel, height, width, ph, pw, nb, inC, dy, dyImage, dyChannel, oh, ow, outC, du, accumulate, parallelGemm);
    }

    private static void WeightGradient<T, TTile>(T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC,
                                                 T* dy, nint dyImage, nint dyChannel, int oh, int ow, int outC, T* du, bool accumulate, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
    {
        if (SimdWidths.Has256) WeightGradient<T, TTile, Width256<T>, Vector256<T>>(x, xImage, xChannel, height, width, ph, pw, nb, inC, dy, dyImage, dyChannel, oh, ow, outC, du, accumulate, parallelGemm);
        else if (SimdWidths.Has128) WeightGradient<T, TTile, Width128<T>, Vector128<T>>(x, xImage, xChannel, height, width, ph, pw, nb, inC, dy, dyImage, dyChannel, oh, ow, outC, du, accumulate, parallelGemm);
        else WeightGradient<T, TTile, WidthScalar<T>, T>(x, xImage, xChannel, height, width, ph, pw, nb, inC, dy, dyImage, dyChannel, oh, ow, outC, du, accumulate, parallelGemm);
    }

    private static void WeightGradient<T, TTile, TW, TV>(T* x, nint xImage, nint xChannel, int height, int width, int ph, int pw, int nb, int inC,
                                                         T* dy, nint dyImage, nint dyChannel, int oh, int ow, int outC, T* du, bool accumulate, bool parallelGemm)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        int tilesH = (oh + 1) / 2, tilesW = (ow + 1) / 2;
        var bands = new Bands(nb, tilesH, tilesW, TW.Count, TTile.Patch);
        nint ld = bands.Stride;
        int positions = TTile.Patch * TTile.Patch;
        long vLength = positions * inC * ld, mLength = positions * outC * ld;
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
                                TransformInput<T, TTile, TW, TV>(x + (i0 + i) * xImage + c * xChannel, height, width, ph, pw, th0, tileRows, tilesW, bands.RowTiles,
                                    v + c * ld + i * band, inC * ld, rows);
                            for (int o = 0; o < outC; o++)
                                TransformGradient<T, TTile, TW, TV>(dy + (i0 + i) * dyImage + o * dyChannel, oh, ow, th0, tileRows, tilesW, bands.RowTiles,
                                    dm + o * ld + i * band, outC * ld, rows);
                        }
                        // only the tiles' columns are read: the slack past them holds the last row's spill
                        for (int p = 0; p < positions; p++)
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
    /// the plane's edge): the n² values of tile (th0 + t, tw) to dm + ξ·dmStride + t·tilesW + tw. Scratch: two split rows of rowTiles + 2 each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformGradient<T, TTile, TW, TV>(T* plane, int oh, int ow, int th0, int tileRows, int tilesW, int rowTiles, T* dm, nint dmStride, T* scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        int lanes = TW.Count, split = rowTiles + 2, rows = 2 * tileRows;
        T* even = scratch, odd = scratch + (nint)rows * split;
        // All rows are split before any is read back: a vector load right after the split's narrower stores
        // to the same bytes cannot be forwarded from them and stalls until they retire.
        for (int r = 0; r < rows; r++)
        {
            int h = 2 * th0 + r;
            if (h < oh) Split(plane + (nint)h * ow, ow, 0, even + (nint)r * split, odd + (nint)r * split, split);
            else
            {
                new Span<T>(even + (nint)r * split, split).Clear();
                new Span<T>(odd + (nint)r * split, split).Clear();
            }
        }
        for (int t0 = 0; t0 < tileRows; t0++)
        {
            T* e0 = even + (nint)2 * t0 * split, o0 = odd + (nint)2 * t0 * split;
            for (int t = 0; t < rowTiles; t += lanes)
                TTile.Gradient<T, TW, TV>(TW.Load(e0 + t), TW.Load(o0 + t), TW.Load(e0 + split + t), TW.Load(o0 + split + t), dm + (nint)t0 * tilesW + t, dmStride);
        }
    }

    /// <summary>
    /// V of one image's channel, tile rows [th0, th0 + tileRows): for tile (th0 + t, tw), the n² values Bᵀ·d·B go to
    /// v + ξ·vStride + t·tilesW + tw.
    /// Scratch: the split rows [rows][even | odd][rowTiles + 2], then the row-transformed rows [rows][n][rowTiles].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput<T, TTile, TW, TV>(T* plane, int height, int width, int ph, int pw, int th0, int tileRows, int tilesW, int rowTiles,
                                                         T* v, nint vStride, T* scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        int lanes = TW.Count, n = TTile.Patch, paddedRows = 2 * tileRows + n - 2, split = rowTiles + 2;
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
        }
        // A separate pass, so the split's stores have retired before their bytes are loaded as vectors (see TransformGradient).
        for (int r = 0; r < paddedRows; r++)
        {
            T* e = even + (nint)r * split, od = odd + (nint)r * split;
            // d_k of tile t is column 2t + k of the padded row: even[t + k/2] or odd[t + k/2]
            T* dst = rowT + (nint)r * n * rowTiles;
            for (int t = 0; t < rowTiles; t += lanes)
                TTile.Input<T, TW, TV>(e + t, od + t, 1, dst + t, rowTiles);
        }
        for (int th = 0; th < tileRows; th++)
        {
            T* top = rowT + (nint)2 * th * n * rowTiles;
            nint step = n * rowTiles; // from one padded row to the next
            for (int k = 0; k < n; k++)
                for (int t = 0; t < rowTiles; t += lanes)
                {
                    T* s = top + k * rowTiles + t;
                    TTile.Input<T, TW, TV>(s, s + step, 2 * step, v + k * vStride + (nint)th * tilesW + t, n * vStride);
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

    /// <summary>
    /// Y = Aᵀ·M·A for the tiles of image i, channel o, tile rows [th0, th0 + tileRows): M_ξ of tile (th0 + t, tw) at
    /// m + ξ·mStride + t·tilesW + tw;
    /// the 2×2 results go to the target. tmp holds 6 vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput<T, TTile, TW, TV>(T* m, nint mStride, int i, int o, int th0, int tileRows, int tilesW, in WinogradTarget<T> target, T* tmp)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TTile : struct, IWinogradTile
        where TW : ISimdWidth<T, TV>
        where TV : struct
    {
        int lanes = TW.Count;
        for (int th = 0; th < tileRows; th++)
            for (int t = 0; t < tilesW; t += lanes)
            {
                T* s = m + (nint)th * tilesW + t;
                TTile.Output<T, TW, TV>(s, mStride, out TV y00, out TV y01, out TV y10, out TV y11);
                TW.Store(tmp, y00);
                TW.Store(tmp + lanes, y01);
                TW.Store(tmp + 2 * lanes, y10);
                TW.Store(tmp + 3 * lanes, y11);
                Emit(target, i, o, th0 + th, t, Math.Min(lanes, tilesW - t), tmp, lanes);
            }
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
