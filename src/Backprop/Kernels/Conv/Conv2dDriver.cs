using System.Buffers;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Kernels.Elementwise;
using Backprop.Kernels.Gemm;
using Backprop.Threading;

namespace Backprop.Kernels.Conv;

/// <summary>
/// 2-D convolution over contiguous buffers, y[n, o] = b[o] + Σ_c w[o, c] ⋆ x[n, g·Cg + c] per group,
/// computed per (block of images, group) as one GEMM: y_g [Og, L] = W_g [Og, K] · im2col(x_g) [K, L],
/// K = Cg·KH·KW, L = OH·OW; and its backward. Optionally fused with ReLU and a 2×2 max pool, which
/// pool each block of the convolution output as the GEMMs produce it (forward) and rebuild its
/// gradient block by block (backward), so that output is never stored. Shapes <see cref="Winograd.Applies{T}"/>
/// accepts (3×3 and 5×5, stride 1) run the same blocks through <see cref="Winograd"/> instead of im2col: forward,
/// fused pool, dx and dW.
/// <para>
/// Threads: the forward runs blocks of images in parallel (each thread unfolds into its own
/// <see cref="ImplicitColumns{T}"/> and runs single-threaded GEMMs); a batch too small to share out runs
/// image by image with multi-threaded GEMMs. The backward cuts the batch into min(N, max(16, 8·threads))
/// contiguous chunks; chunk p sums its images' dW into its own buffer and the buffers are added in chunk
/// order. Blocks and chunks are claimed from <see cref="DynamicParallel"/>, so a late thread takes fewer.
/// Every output element is computed the same way whoever computes it: results never depend on scheduling,
/// and on the thread count only through the dW chunking above 2 threads for batches of more than 16 images.
/// </para>
/// </summary>
internal static unsafe class Conv2dDriver
{
    /// <summary>Target GEMM width when images are batched side by side (measured: 4 LeNet conv2 images, 784 columns, run ~14% faster than one).</summary>
    private const int BlockColumns = 800;

    /// <summary>
    /// Output pixels per block of the backward when it runs by Winograd: the scratch of a call (n² × (in + out channels)
    /// × tiles) for two LeNet conv2 images is 1.4 MiB and stays in a 2 MiB L2, for four it is 2.7 MiB. On a Xeon, conv2's
    /// backward on 2 threads took 19.4–19.5 ms with two against 20.6–21.1 with four; its forward was 2–5% faster with four.
    /// </summary>
    private const int WinogradBlockColumns = 400;

    /// <summary>
    /// Backward chunks per thread: enough to even out a late thread, few enough that the dW partial sums stay cheap.
    /// At least <see cref="MinChunks"/> whatever the thread count, so that up to 2 threads (and for batches of up to
    /// 16 images, any number) dW is summed in the same blocks, and its bits do not depend on the thread count.
    /// </summary>
    private const int ChunksPerThread = 8, MinChunks = 16;

    /// <summary>y [N, OutC, OH, OW] = conv(x [N, C, H, W], w [OutC, C/Groups, KH, KW]) + b [OutC] (empty: no bias); every element of y is written.</summary>
    /// <exception cref="ArgumentException">A buffer is shorter than <paramref name="s"/> needs.</exception>
    public static void Forward<T>(in Conv2dShape s, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(s, x, w, b);
        if (y.Length < s.OutputLength) throw new ArgumentException($"Conv2d: y has {y.Length} elements, {s} needs {s.OutputLength}");
        RunForward(s, x, w, b, y, default);
    }

    /// <summary>
    /// y [N, OutC, OH/2, OW/2] = MaxPool2d(2)(ReLU(conv(x, w) + b)), and per element of y one byte in
    /// <paramref name="routes"/>: the winning tap of its window or "masked" (for <see cref="BackwardReluMaxPool2"/>).
    /// Values equal those of the three ops run separately. Needs OH, OW ≥ 2.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is shorter than <paramref name="s"/> needs, or the output is smaller than 2×2.</exception>
    public static void ForwardReluMaxPool2<T>(in Conv2dShape s, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y, Span<byte> routes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(s, x, w, b);
        if (s.Window.OH < 2 || s.Window.OW < 2) throw new ArgumentException($"Conv2d + MaxPool2d(2): the output ({s.Window.OH}, {s.Window.OW}) is smaller than 2×2");
        if (y.Length < s.PooledLength || routes.Length < s.PooledLength)
            throw new ArgumentException($"Conv2d + MaxPool2d(2): y has {y.Length} and routes {routes.Length} elements, {s} needs {s.PooledLength}");
        if (routes.IsEmpty) return; // empty output; the routes span would pin to null
        RunForward(s, x, w, b, y, routes);
    }

    /// <summary>
    /// Gradients of <see cref="Forward{T}"/> for dy [N, OutC, OH, OW]: dx += col2im(W_gᵀ·dy_g), dw = Σ_n dy_g·im2col(x_g)ᵀ
    /// (overwritten), db += Σ dy per channel. An empty dx, dw or db is not computed; x is needed for dw, w for dx.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is shorter than <paramref name="s"/> needs.</exception>
    public static void Backward<T>(in Conv2dShape s, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> dx, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckBackward(s, x, w, dx, dw, db);
        if (dy.Length < s.OutputLength) throw new ArgumentException($"Conv2d backward: dy has {dy.Length} elements, {s} needs {s.OutputLength}");
        RunBackward(s, dy, default, x, w, dx, dw, db);
    }

    /// <summary>
    /// Gradients of <see cref="ForwardReluMaxPool2{T}"/> for the pooled dy [N, OutC, OH/2, OW/2] and its
    /// routes: the convolution's dy is the pooled gradient at each window's winning tap where ReLU let it
    /// through, rebuilt block by block; then as <see cref="Backward{T}"/> (dx +=, dw =, db +=; empty: not computed).
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is shorter than <paramref name="s"/> needs.</exception>
    public static void BackwardReluMaxPool2<T>(in Conv2dShape s, ReadOnlySpan<T> dy, ReadOnlySpan<byte> routes, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
                                               Span<T> dx, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckBackward(s, x, w, dx, dw, db);
        if (dy.Length < s.PooledLength || routes.Length < s.PooledLength)
            throw new ArgumentException($"Conv2d + MaxPool2d(2) backward: dy has {dy.Length} and routes {routes.Length} elements, {s} needs {s.PooledLength}");
        if (routes.IsEmpty) // empty output: nothing flows back
        {
            dw.Clear();
            return;
        }
        RunBackward(s, dy, routes, x, w, dx, dw, db);
    }

    private static void Check<T>(in Conv2dShape s, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b)
    {
        if (x.Length < s.InputLength || w.Length < s.WeightLength || !b.IsEmpty && b.Length < s.OutC)
            throw new ArgumentException($"Conv2d: x has {x.Length}, w {w.Length}, b {b.Length} elements; {s} needs {s.InputLength}, {s.WeightLength} and {s.OutC} (or no bias)");
    }

    private static void CheckBackward<T>(in Conv2dShape s, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> dx, Span<T> dw, Span<T> db)
    {
        if (!dx.IsEmpty && (dx.Length < s.InputLength || w.Length < s.WeightLength)
            || !dw.IsEmpty && (dw.Length < s.WeightLength || x.Length < s.InputLength)
            || !db.IsEmpty && db.Length < s.OutC)
            throw new ArgumentException($"Conv2d backward: x has {x.Length}, w {w.Length}, dx {dx.Length}, dw {dw.Length}, db {db.Length} elements; {s} needs {s.InputLength} (x, dx), {s.WeightLength} (w, dw) and {s.OutC} (db)");
    }

    /// <summary>Forward; <paramref name="routes"/> non-empty: fused with ReLU and the 2×2 max pool.</summary>
    private static void RunForward<T>(in Conv2dShape s, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y, Span<byte> routes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N;
        if (n == 0) return;
        int threads = Parallelism.ThreadCount;
        bool perImage = n > 1 && threads > 1;
        int l = s.Window.OH * s.Window.OW;
        // Blocks of images are claimed one by one, so a thread that starts late or is descheduled
        // takes fewer of them; each output depends on its own image only.
        int block = !perImage ? n : s.IsPointwise ? 1 : Math.Clamp(BlockColumns / Math.Max(l, 1), 1, Math.Max(1, n / threads));
        T[]? transformed = Winograd.Applies<T>(s) ? ArrayPool<T>.Shared.Rent(Winograd.TransformedLength(s)) : null;
        try
        {
            fixed (T* px = x)
            fixed (T* pw = w)
            fixed (T* pb = b)
            fixed (T* py = y)
            fixed (byte* proutes = routes)
            fixed (T* pu = transformed)
            {
                if (pu is not null) Winograd.TransformWeights(pw, s.Window.KH, s.OutC, s.C, false, pu);
                var body = new ForwardBody<T>
                {
                    X = px, W = pw, B = pb, Y = py, Routes = proutes, U = pu, S = s, Block = block, ParallelGemm = !perImage,
                };
                DynamicParallel.For((n + block - 1) / block, threads, ref body);
            }
        }
        finally
        {
            if (transformed is not null) ArrayPool<T>.Shared.Return(transformed);
        }
    }

    /// <summary>
    /// Forward of one unit: images [u·Block, min(N, (u + 1)·Block)), y_g = W_g · im2col(x_g) (+ bias).
    /// Small images are unfolded side by side, up to <see cref="BlockColumns"/> columns, so one GEMM
    /// covers several of them (wider GEMMs waste less of their last column tile); the block result is
    /// then copied into y.
    /// </summary>
    private struct ForwardBody<T> : IUnitBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, W, B, Y; // B null: no bias
        public byte* Routes;  // non-null: Y is the ReLU + 2×2 max pool of the convolution, Routes its winners
        public T* U;          // non-null: the Winograd-transformed weights, used instead of W
        public Conv2dShape S;
        public int Block;
        public bool ParallelGemm;

        public readonly void Invoke(int unit)
        {
            int start = unit * Block, end = Math.Min(S.N, start + Block);
            Window2d g = S.Window;
            if (U is not null)
            {
                RunWinograd(start, end);
                return;
            }
            int c = S.C, outC = S.OutC, groups = S.Groups;
            int cg = c / groups, og = outC / groups, k = cg * g.KH * g.KW, l = g.OH * g.OW, plane = g.H * g.W;
            bool pointwise = S.IsPointwise;
            int block = pointwise ? 1 : Math.Clamp(BlockColumns / Math.Max(l, 1), 1, end - start);
            // Otherwise the GEMMs read im2col(x) straight from the (padded) images: see ImplicitColumns.
            ImplicitColumns<T>? unfold = pointwise ? null : ImplicitColumns<T>.ForThread(g, cg, block);
            T[]? outBlock = block > 1 || Routes is not null ? ArrayPool<T>.Shared.Rent(og * l * block) : null;
            try
            {
                fixed (T* pout = outBlock)
                    for (int img0 = start; img0 < end; img0 += block)
                    {
                        int nb = Math.Min(block, end - img0), ld = nb * l;
                        for (int grp = 0; grp < groups; grp++)
                        {
                            T* cols = X + (nint)(img0 * c + grp * cg) * plane;
                            GemmGatherB<T> gather = pointwise ? default : unfold!.Columns(X, c, img0, nb, grp);
                            if (Routes is not null)
                            {
                                // [Og, K] · [K, nb·L] -> [Og, nb·L], then bias + ReLU + pool each image's planes into y
                                Product(og, ld, k, W + (nint)grp * og * k, cols, gather, pout);
                                int pooled = (g.OH / 2) * (g.OW / 2);
                                for (int i = 0; i < nb; i++)
                                    for (int o = 0; o < og; o++)
                                    {
                                        nint at = (nint)((img0 + i) * outC + grp * og + o) * pooled;
                                        ReluPoolKernels.Forward(new ReadOnlySpan<T>(pout + (nint)o * ld + i * l, l), g.OH, g.OW,
                                            B is null ? T.Zero : B[grp * og + o], B is not null, new Span<T>(Y + at, pooled), new Span<byte>(Routes + at, pooled));
                                    }
                                continue;
                            }
                            T* ys = Y + (nint)(img0 * outC + grp * og) * l;
                            if (nb == 1)
                            {
                                // The bias goes on after the product, as in the block path, so both round the same way.
                                Product(og, l, k, W + (nint)grp * og * k, cols, gather, ys);
                                if (B is not null)
                                    for (int o = 0; o < og; o++)
                                    {
                                        var row = new Span<T>(ys + (nint)o * l, l);
                                        TensorPrimitives.Add(row, B[grp * og + o], row);
                                    }
                                continue;
                            }
                            // [Og, K] · [K, nb·L] -> [Og, nb·L], then scatter each image's [Og, L] block into y (+ bias)
                            Product(og, ld, k, W + (nint)grp * og * k, cols, gather, pout);
                            for (int i = 0; i < nb; i++)
                                for (int o = 0; o < og; o++)
                                {
                                    var src = new ReadOnlySpan<T>(pout + (nint)o * ld + i * l, l);
                                    var dst = new Span<T>(ys + (nint)(i * outC + o) * l, l);
                                    if (B is null) src.CopyTo(dst);
                                    else TensorPrimitives.Add(src, B[grp * og + o], dst);
                                }
                        }
                    }
            }
            finally
            {
                if (outBlock is not null) ArrayPool<T>.Shared.Return(outBlock);
            }
        }

        /// <summary>Images [start, end) by <see cref="Winograd"/>, up to <see cref="BlockColumns"/> output pixels at a time.</summary>
        private readonly void RunWinograd(int start, int end)
        {
            Window2d g = S.Window;
            int c = S.C, outC = S.OutC, plane = g.H * g.W, l = g.OH * g.OW;
            bool pooled = Routes is not null;
            int outPlane = pooled ? (g.OH / 2) * (g.OW / 2) : l;
            int block = Math.Clamp(BlockColumns / Math.Max(l, 1), 1, end - start);
            for (int img0 = start; img0 < end; img0 += block)
            {
                int nb = Math.Min(block, end - img0);
                var target = new WinogradTarget<T>
                {
                    Y = Y + (nint)img0 * outC * outPlane, Bias = B, Routes = pooled ? Routes + (nint)img0 * outC * outPlane : null,
                    ImageStride = (nint)outC * outPlane, ChannelStride = outPlane, OH = g.OH, OW = g.OW,
                    Mode = pooled ? WinogradOutput.ReluPool : WinogradOutput.Store,
                };
                Winograd.Convolve(g.KH, X + (nint)img0 * c * plane, (nint)c * plane, plane, g.H, g.W, g.PH, g.PW, nb, c, outC, U, target, ParallelGemm);
            }
        }

        /// <summary>[Og, K] · [K, n] -> c (row stride n): B is the pointwise input <paramref name="cols"/> or the gathered columns.</summary>
        private readonly void Product(int og, int n, int k, T* w, T* cols, GemmGatherB<T> gather, T* c)
        {
            if (gather.IsSet) GemmKernel.MultiplyGathered(false, og, n, k, T.One, w, k, gather, T.Zero, c, n, ParallelGemm);
            else GemmKernel.Multiply(false, false, og, n, k, T.One, w, k, cols, n, T.Zero, c, n, ParallelGemm);
        }
    }

    /// <summary>Backward; <paramref name="routes"/> non-empty: dy is the pooled gradient of the fused op.</summary>
    private static void RunBackward<T>(in Conv2dShape s, ReadOnlySpan<T> dy, ReadOnlySpan<byte> routes, ReadOnlySpan<T> x, ReadOnlySpan<T> w,
                                       Span<T> dx, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, outC = s.OutC;
        int l = s.Window.OH * s.Window.OW;
        bool fused = !routes.IsEmpty, needX = !dx.IsEmpty, needW = !dw.IsEmpty, needB = !db.IsEmpty;
        if (needB && !fused)
            for (int img = 0; img < n; img++)
                for (int o = 0; o < outC; o++)
                    db[o] += TensorPrimitives.Sum(dy.Slice((img * outC + o) * l, l));
        if (n == 0) dw.Clear(); // no image to overwrite it
        if (!(needX || needW || needB && fused) || n == 0) return;
        int threads = Parallelism.ThreadCount;
        int chunks = Math.Max(1, Math.Min(n, Math.Max(MinChunks, ChunksPerThread * threads)));
        bool winograd = Winograd.Applies<T>(s);
        // Winograd: the chunks sum dW in its transformed form, [36][OutC, C]
        int wSize = winograd ? Winograd.TransformedLength(s) : dw.Length;
        // Every chunk sums its dW, transposed ([Groups][K, Og]), into its own slice; see BackwardBody.
        T[]? partial = needW ? ArrayPool<T>.Shared.Rent(chunks * wSize) : null;
        // Fused: the per-image channel sums of the rebuilt dy, added up below in the unfused order.
        T[]? rowSums = needB && fused ? ArrayPool<T>.Shared.Rent(n * outC) : null;
        // dx by Winograd: the adjoint convolution's transformed weights
        T[]? transformed = needX && winograd ? ArrayPool<T>.Shared.Rent(Winograd.TransformedLength(s)) : null;
        try
        {
            fixed (T* pdy = dy)
            fixed (T* px = x)
            fixed (T* pw = w)
            fixed (T* pdx = dx)
            fixed (T* pdw = dw)
            fixed (T* ppart = partial)
            fixed (byte* proutes = routes)
            fixed (T* psums = rowSums)
            fixed (T* pu = transformed)
            {
                if (pu is not null) Winograd.TransformWeights(pw, s.Window.KH, s.C, outC, true, pu);
                var body = new BackwardBody<T>
                {
                    Dy = pdy, X = px, W = pw, U = pu, Dx = needX ? pdx : null, Dw = needW ? pdw : null, Partial = ppart, WSize = wSize, WinogradW = winograd,
                    Routes = proutes, RowSums = psums, S = s, Chunks = chunks, ParallelGemm = chunks == 1,
                };
                DynamicParallel.For(chunks, threads, ref body);
            }
            if (partial is not null)
            {
                Span<T> sum = partial.AsSpan(0, wSize);
                for (int p = 1; p < chunks; p++)
                    TensorPrimitives.Add(sum, partial.AsSpan(p * wSize, wSize), sum);
                int og = outC / s.Groups, k = s.C / s.Groups * s.Window.KH * s.Window.KW;
                fixed (T* ps = sum)
                fixed (T* pd = dw)
                    if (winograd) Winograd.WeightsFromGradient(ps, s.Window.KH, outC, s.C, pd);
                    else
                        for (int grp = 0; grp < s.Groups; grp++)
                            TransposeKernel.Transpose(ps + (nint)grp * og * k, og, 1, k, og, pd + (nint)grp * og * k);
            }
            if (rowSums is not null)
                for (int img = 0; img < n; img++)
                    for (int o = 0; o < outC; o++)
                        db[o] += rowSums[img * outC + o];
        }
        finally
        {
            if (partial is not null) ArrayPool<T>.Shared.Return(partial);
            if (rowSums is not null) ArrayPool<T>.Shared.Return(rowSums);
            if (transformed is not null) ArrayPool<T>.Shared.Return(transformed);
        }
    }

    /// <summary>
    /// Backward of one chunk of the batch: dW_gᵀ (+)= im2col(x_g) · dy_gᵀ, dx_g += col2im(W_gᵀ · dy_g).
    /// Images are unfolded side by side in blocks of up to <see cref="BlockColumns"/> columns (as in
    /// the forward), and their dy gathered as [Og, nb·L]: dW takes one GEMM per block (depth nb·OH·OW:
    /// a quarter of the calls and of the passes over dW that one product per image made for LeNet's conv2),
    /// and so does dx, whose [K, nb·L] result is folded back image by image. Each dx element is the same
    /// dot product whatever the block.
    /// dW is computed transposed, [K, Og] per group: the columns are then the GEMM's A, read in place, and only
    /// the small dy is packed (as [Og, K], B would be the columns, packed and transposed for every block: with
    /// only Og = 64 rows to share that packing, it took a sixth of the product's time). Chunk p sums into its slice
    /// of the partial buffer; the slices are added in chunk order and transposed into dw once.
    /// Each dW element is the same dot product, in the same order, as in the [Og, K] form.
    /// </summary>
    private struct BackwardBody<T> : IUnitBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, X, W, Dx, Dw, Partial; // Dx, Dw null: not wanted
        public T* U;         // non-null: dx by Winograd, with the adjoint's transformed weights
        public byte* Routes; // fused ReLU + pool: Dy is the pooled gradient [N, OutC, OH/2, OW/2]
        public T* RowSums;   // fused, with a bias: per image and channel, the sum of the rebuilt dy
        public int WSize, Chunks;
        public bool WinogradW; // dW by Winograd, into [36][OutC, C] partials (and dx too, whenever U is set)
        public Conv2dShape S;
        public bool ParallelGemm;

        public readonly void Invoke(int chunk)
        {
            Window2d g = S.Window;
            int n = S.N, cg = S.C / S.Groups, og = S.OutC / S.Groups, k = cg * g.KH * g.KW, l = g.OH * g.OW;
            bool pointwise = S.IsPointwise;
            int columns = WinogradW || U is not null && Dw is null ? WinogradBlockColumns : BlockColumns;
            int block = pointwise ? 1 : Math.Clamp(columns / Math.Max(l, 1), 1, Math.Max(1, (n + Chunks - 1) / Chunks));
            T[]? col = pointwise || WinogradW ? null : ArrayPool<T>.Shared.Rent(Math.Max(k * l * block, 1));
            T[]? dyBlock = block > 1 || Routes is not null ? ArrayPool<T>.Shared.Rent(og * l * block) : null;
            try
            {
                fixed (T* pcol = col)
                fixed (T* pdy = dyBlock)
                {
                    T* dwChunk = Dw is null ? null : Partial + (nint)chunk * WSize;
                    int first = (int)((long)n * chunk / Chunks), last = (int)((long)n * (chunk + 1) / Chunks);
                    for (int img0 = first; img0 < last; img0 += block)
                    {
                        int nb = Math.Min(block, last - img0);
                        for (int grp = 0; grp < S.Groups; grp++)
                            Block(img0, nb, grp, cg, og, k, l, g, pcol, pdy, dwChunk, img0 == first);
                    }
                }
            }
            finally
            {
                if (col is not null) ArrayPool<T>.Shared.Return(col);
                if (dyBlock is not null) ArrayPool<T>.Shared.Return(dyBlock);
            }
        }

        /// <summary>Images [img0, img0 + nb) of group grp; pcol is null for pointwise windows, pdy null unless nb &gt; 1 and dx is wanted.</summary>
        private readonly void Block(int img0, int nb, int grp, int cg, int og, int k, int l, in Window2d g, T* pcol, T* pdy, T* dwChunk, bool firstBlock)
        {
            int c = S.C, outC = S.OutC;
            int plane = g.H * g.W, ld = nb * l;
            if (Routes is not null)
            {
                // Rebuild dy of the convolution output, [nb][Og, L] -> [Og, nb·L]
                int pooled = (g.OH / 2) * (g.OW / 2);
                for (int i = 0; i < nb; i++)
                    for (int o = 0; o < og; o++)
                    {
                        nint at = (nint)((img0 + i) * outC + grp * og + o) * pooled;
                        var row = new Span<T>(pdy + (nint)o * ld + i * l, l);
                        ReluPoolKernels.Backward(new ReadOnlySpan<T>(Dy + at, pooled), new ReadOnlySpan<byte>(Routes + at, pooled), g.OH, g.OW, row);
                        if (RowSums is not null) RowSums[(img0 + i) * outC + grp * og + o] = TensorPrimitives.Sum<T>(row);
                    }
            }
            if (Dw is null && Dx is null) return;
            // dy of the block as [Og, nb·L] (row stride ld): rebuilt above, gathered from its images, or one image's planes.
            T* dyb = Routes is not null ? pdy : Dy + (nint)(img0 * outC + grp * og) * l;
            if (nb > 1 && Routes is null)
            {
                for (int i = 0; i < nb; i++)
                    for (int o = 0; o < og; o++)
                        new ReadOnlySpan<T>(Dy + (nint)((img0 + i) * outC + grp * og + o) * l, l).CopyTo(new Span<T>(pdy + (nint)o * ld + i * l, l));
                dyb = pdy;
            }
            if (pcol is not null && dwChunk is not null) // only dW reads the columns (x is absent without it)
                for (int i = 0; i < nb; i++)
                    Im2Col.Unfold(new ReadOnlySpan<T>(X + (nint)((img0 + i) * c + grp * cg) * plane, cg * plane), cg, g,
                        new Span<T>(pcol + i * l, (k - 1) * ld + l), ld);
            if (dwChunk is not null && WinogradW)
                Winograd.WeightGradient(g.KH, X + (nint)img0 * c * plane, (nint)c * plane, plane, g.H, g.W, g.PH, g.PW, nb, cg,
                    dyb, l, ld, g.OH, g.OW, og, dwChunk, !firstBlock, ParallelGemm);
            else if (dwChunk is not null)
            {
                // [K, nb·L] · [Og, nb·L]ᵀ -> [K, Og]; the chunk's first block overwrites (the partials start unset)
                T* cols = pcol is null ? X + (nint)(img0 * c + grp * cg) * plane : pcol; // pointwise windows come one image at a time
                GemmKernel.Multiply(false, true, k, og, ld, T.One, cols, ld, dyb, ld, firstBlock ? T.Zero : T.One, dwChunk + (nint)grp * og * k, og, ParallelGemm);
            }
            if (Dx is null) return;
            if (U is not null)
            {
                // the adjoint convolution of dy [Og, nb·L] (one group), added into dx
                var target = new WinogradTarget<T>
                {
                    Y = Dx + (nint)img0 * c * plane, ImageStride = (nint)c * plane, ChannelStride = plane, OH = g.H, OW = g.W,
                    Mode = WinogradOutput.Accumulate,
                };
                Winograd.Convolve(g.KH, dyb, l, ld, g.OH, g.OW, g.KH - 1 - g.PH, g.KW - 1 - g.PW, nb, og, c, U, target, ParallelGemm);
                return;
            }
            T* ws = W + (nint)grp * og * k;
            if (pcol is null)
            {
                nint xOff = (nint)(img0 * c + grp * cg) * plane;
                GemmKernel.Multiply(true, false, k, l, og, T.One, ws, k, dyb, l, T.One, Dx + xOff, l, ParallelGemm);
                return;
            }
            // [Og, K]ᵀ · [Og, nb·L] -> [K, nb·L], then fold each image back onto its input planes
            GemmKernel.Multiply(true, false, k, ld, og, T.One, ws, k, dyb, ld, T.Zero, pcol, ld, ParallelGemm);
            for (int i = 0; i < nb; i++)
                Im2Col.FoldAddDestructive(new Span<T>(pcol + i * l, (k - 1) * ld + l), cg, g,
                    new Span<T>(Dx + (nint)((img0 + i) * c + grp * cg) * plane, cg * plane), ld);
        }
    }
}
