using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Backprop.Kernels;

namespace Backprop.Ops;

/// <summary>
/// 2-D cross-correlation y[n, o] = b[o] + Σ_c w[o, c] ⋆ x[n, g·Cg + c] over groups, computed per
/// (image, group) as one GEMM: y_g [Og, L] = W_g [Og, K] · im2col(x_g) [K, L], K = Cg·KH·KW, L = OH·OW.
/// </summary>
internal sealed class Conv2dBackward : Node
{
    private readonly SavedTensor? _x, _w;
    private readonly Shape _xShape, _wShape;
    private readonly Window2d _g;
    private readonly int _groups;
    private readonly SavedTensor? _codes; // fused ReLU + 2×2 max pool: per pooled output, one byte: the winning tap or Masked
    private readonly bool _fused;

    private Conv2dBackward(Tensor x, Tensor w, Tensor? b, Tensor xc, Tensor wc, Window2d g, int groups, Tensor? codes) : base(x, w, b)
    {
        _xShape = x.Shape;
        _wShape = w.Shape;
        _g = g;
        _groups = groups;
        _fused = codes is not null;
        if (codes is not null) _codes = Save(codes);
        if (NeedsInputGrad(1)) _x = Save(xc);
        if (NeedsInputGrad(0)) _w = Save(wc);
    }

    /// <summary>x [N, C, H, W], w [outC, C/groups, KH, KW], b [outC] or null; returns [N, outC, OH, OW].</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
        => Forward(x, w, b, stride, padding, dilation, groups, fusePool: false);

    /// <summary>
    /// MaxPool2d(2)(Relu(Conv2d(x))) in one op: returns [N, outC, OH/2, OW/2]. The convolution output
    /// is pooled block by block as the GEMMs produce it and never stored; values and gradients are
    /// those of the three ops run separately.
    /// </summary>
    public static Tensor ForwardReluMaxPool2(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
        => Forward(x, w, b, stride, padding, dilation, groups, fusePool: true);

    private static Tensor Forward(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups, bool fusePool)
    {
        Window2d g = Validate(x, w, b, stride, padding, dilation, groups);
        int n = x.Shape[0], c = x.Shape[1], outC = w.Shape[0];
        Tensor xc, wc, bc;
        using (GradMode.Disable())
        {
            xc = x.Contiguous();
            wc = w.Contiguous();
            bc = b?.Contiguous()!;
        }
        if (fusePool && (g.OH < 2 || g.OW < 2))
            throw new ArgumentException($"Conv2d + MaxPool2d(2): the convolution output ({g.OH}, {g.OW}) of input shape {x.Shape} is smaller than the 2×2 pooling window");
        // Every element is written (by the GEMM epilogue or the pool), so the outputs start uninitialized.
        Tensor y = fusePool ? Tensor.Uninitialized(new Shape(n, outC, g.OH / 2, g.OW / 2), x.DType) : Tensor.Uninitialized(new Shape(n, outC, g.OH, g.OW), x.DType);
        // The routes live in an int64 tensor (8 per element, at least one element so the span pins to a real address),
        // so the buffer pool takes them back with the rest of the graph.
        Tensor? codes = fusePool ? Tensor.Uninitialized(new Shape(Math.Max(1, (y.Shape.Numel + 7) / 8)), DType.Int64) : null;
        Span<byte> codeBytes = codes is null ? default : MemoryMarshal.AsBytes(codes.Elements<long>());
        if (x.DType == DType.Float32)
            RunForward<float>(xc.ReadOnlyElements<float>(), wc.ReadOnlyElements<float>(), b is null ? default : bc.ReadOnlyElements<float>(), b is not null, y.Elements<float>(), codeBytes, n, c, outC, groups, g);
        else
            RunForward<double>(xc.ReadOnlyElements<double>(), wc.ReadOnlyElements<double>(), b is null ? default : bc.ReadOnlyElements<double>(), b is not null, y.Elements<double>(), codeBytes, n, c, outC, groups, g);
        if (ElementwiseDispatch.NeedsGrad(x, w, b)) y.SetGradFn(new Conv2dBackward(x, w, b, xc, wc, g, groups, codes));
        return y;
    }

    private static Window2d Validate(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
    {
        const string op = "Conv2d";
        if (x.Rank != 4)
            throw new ArgumentException($"{op}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {x.Shape}");
        if (w.Rank != 4)
            throw new ArgumentException($"{op}: expected a 4-D weight [outC, C/groups, kH, kW], got shape {w.Shape}");
        x.CheckFloat(op);
        Tensor.CheckSameDType(x, w, op);
        if (stride.H <= 0 || stride.W <= 0)
            throw new ArgumentException($"{op}: stride must be positive, got ({stride.H}, {stride.W})");
        if (padding.H < 0 || padding.W < 0)
            throw new ArgumentException($"{op}: padding must be non-negative, got ({padding.H}, {padding.W})");
        if (dilation.H <= 0 || dilation.W <= 0)
            throw new ArgumentException($"{op}: dilation must be positive, got ({dilation.H}, {dilation.W})");
        if (groups <= 0)
            throw new ArgumentException($"{op}: groups must be positive, got {groups}");
        int c = x.Shape[1], outC = w.Shape[0];
        if (outC % groups != 0)
            throw new ArgumentException($"{op}: groups={groups} must divide the output channels, but weight of shape {w.Shape} has {outC}");
        if (c % groups != 0)
            throw new ArgumentException($"{op}: groups={groups} must divide the input channels, but input of shape {x.Shape} has {c}");
        if (w.Shape[1] * groups != c)
            throw new ArgumentException($"{op}: input of shape {x.Shape} has {c} channels, but weight of shape {w.Shape} with groups={groups} expects {w.Shape[1] * groups} (weight.Size(1) × groups)");
        if (b is not null)
        {
            Tensor.CheckSameDType(x, b, op);
            if (b.Rank != 1 || b.Shape[0] != outC)
                throw new ArgumentException($"{op}: bias must have shape [{outC}] to match weight of shape {w.Shape}, got {b.Shape}");
        }
        int h = x.Shape[2], wd = x.Shape[3], kh = w.Shape[2], kw = w.Shape[3];
        int effH = dilation.H * (kh - 1) + 1, effW = dilation.W * (kw - 1) + 1;
        int padH = h + 2 * padding.H, padW = wd + 2 * padding.W;
        if (effH > padH || effW > padW)
            throw new ArgumentException($"{op}: kernel of size ({kh}, {kw}) with dilation ({dilation.H}, {dilation.W}) spans ({effH}, {effW}), larger than the padded input ({padH}, {padW}) of input shape {x.Shape} with padding ({padding.H}, {padding.W})");
        int oh = (padH - effH) / stride.H + 1, ow = (padW - effW) / stride.W + 1;
        return new Window2d(h, wd, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, oh, ow);
    }

    private static bool IsPointwise(in Window2d g) =>
        g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.PH == 0 && g.PW == 0;

    /// <summary>
    /// Images run in parallel (each thread unfolds into its own column buffer and runs single-threaded
    /// GEMMs); a batch too small to share out runs image by image with multi-threaded GEMMs. Every
    /// output element is computed the same way in both cases.
    /// </summary>
    private static unsafe void RunForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, bool hasBias, Span<T> y, Span<byte> codes,
                                             int n, int c, int outC, int groups, in Window2d g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (n == 0) return;
        int threads = Threading.ThreadCount;
        bool perImage = n > 1 && threads > 1;
        fixed (T* px = x)
        fixed (T* pw = w)
        fixed (T* pb = b)
        fixed (T* py = y)
        fixed (byte* pcodes = codes)
        {
            var body = new ForwardBody<T>
            {
                X = px, W = pw, B = hasBias ? pb : null, Y = py, Codes = pcodes, C = c, OutC = outC, Groups = groups, G = g,
                ParallelGemm = !perImage,
            };
            if (!perImage)
            {
                body.Invoke(0, n);
                return;
            }
            // Blocks of images are claimed one by one, so a thread that starts late or is descheduled
            // takes fewer of them; each output depends on its own image only.
            int l = g.OH * g.OW;
            int block = IsPointwise(g) ? 1 : Math.Clamp(BlockColumns / Math.Max(l, 1), 1, Math.Max(1, n / threads));
            int next = 0;
            var claim = new Claiming<ForwardBody<T>> { Body = &body, Next = &next, Units = (n + block - 1) / block, Block = block, N = n };
            Threading.ParallelFor(threads, 1, ref claim);
        }
    }

    /// <summary>
    /// Runs <typeparamref name="TBody"/> over units of <see cref="Block"/> indices claimed from a shared
    /// counter: unit u covers [u·Block, min(N, (u + 1)·Block)).
    /// </summary>
    private unsafe struct Claiming<TBody> : IRangeBody where TBody : unmanaged, IRangeBody
    {
        public TBody* Body;
        public int* Next;
        public int Units, Block, N;

        public readonly void Invoke(int start, int end)
        {
            int u;
            while ((u = Interlocked.Increment(ref *Next) - 1) < Units)
                Body->Invoke(u * Block, Math.Min(N, (u + 1) * Block));
        }
    }

    /// <summary>
    /// Forward of images [start, end): y_g = W_g · im2col(x_g) (+ bias). Small images are unfolded
    /// side by side, up to <see cref="BlockColumns"/> columns, so one GEMM covers several of them
    /// (wider GEMMs waste less of their last column tile); the block result is then copied into y.
    /// </summary>
    private unsafe struct ForwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, W, B, Y;
        public byte* Codes; // non-null: Y is the ReLU + 2×2 max pool of the convolution, Codes its routes
        public int C, OutC, Groups;
        public Window2d G;
        public bool ParallelGemm;

        public readonly void Invoke(int start, int end)
        {
            Window2d g = G;
            int cg = C / Groups, og = OutC / Groups, k = cg * g.KH * g.KW, l = g.OH * g.OW, plane = g.H * g.W;
            bool pointwise = IsPointwise(g); // 1×1, stride 1, no padding: the input already is the column matrix
            int block = pointwise ? 1 : Math.Clamp(BlockColumns / Math.Max(l, 1), 1, end - start);
            // Otherwise the GEMMs read im2col(x) straight from the (padded) images: see ImplicitColumns.
            ImplicitColumns<T>? unfold = pointwise ? null : ImplicitColumns<T>.ForThread(g, cg, block);
            T[]? outBlock = block > 1 || Codes is not null ? ArrayPool<T>.Shared.Rent(og * l * block) : null;
            try
            {
                fixed (T* pout = outBlock)
                    for (int img0 = start; img0 < end; img0 += block)
                    {
                        int nb = Math.Min(block, end - img0), ld = nb * l;
                        for (int grp = 0; grp < Groups; grp++)
                        {
                            T* cols = X + (nint)(img0 * C + grp * cg) * plane;
                            GemmGatherB<T> gather = pointwise ? default : unfold!.Columns(X, C, img0, nb, grp);
                            if (Codes is not null)
                            {
                                // [Og, K] · [K, nb·L] -> [Og, nb·L], then bias + ReLU + pool each image's planes into y
                                Product(og, ld, k, W + (nint)grp * og * k, cols, gather, pout);
                                int pooled = (g.OH / 2) * (g.OW / 2);
                                for (int i = 0; i < nb; i++)
                                    for (int o = 0; o < og; o++)
                                    {
                                        nint at = (nint)((img0 + i) * OutC + grp * og + o) * pooled;
                                        ReluPoolKernels.Forward(new ReadOnlySpan<T>(pout + (nint)o * ld + i * l, l), g.OH, g.OW,
                                            B is null ? T.Zero : B[grp * og + o], B is not null, new Span<T>(Y + at, pooled), new Span<byte>(Codes + at, pooled));
                                    }
                                continue;
                            }
                            T* ys = Y + (nint)(img0 * OutC + grp * og) * l;
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
                                    var dst = new Span<T>(ys + (nint)(i * OutC + o) * l, l);
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

        /// <summary>[Og, K] · [K, n] -> c (row stride n): B is the pointwise input <paramref name="cols"/> or the gathered columns.</summary>
        private readonly void Product(int og, int n, int k, T* w, T* cols, GemmGatherB<T> gather, T* c)
        {
            if (gather.IsSet) Gemm.MultiplyGathered(false, og, n, k, T.One, w, k, gather, T.Zero, c, n, ParallelGemm);
            else Gemm.Multiply(false, false, og, n, k, T.One, w, k, cols, n, T.Zero, c, n, ParallelGemm);
        }
    }

    /// <summary>"Conv2dReluMaxPool2dBackward" when ReLU and max pooling are fused in.</summary>
    public override string Name => !_fused ? nameof(Conv2dBackward) : "Conv2dReluMaxPool2dBackward";

    /// <summary>Backward chunks per thread: enough to even out a late thread, few enough that the dW partial sums stay cheap.</summary>
    private const int ChunksPerThread = 8;

    /// <summary>Target GEMM width when images are batched side by side (measured: 4 LeNet conv2 images, 784 columns, run ~14% faster than one).</summary>
    private const int BlockColumns = 800;

    // dx_g = col2im(W_gᵀ · dy_g), dW_g = Σ_n dy_g · im2col(x_g)ᵀ, db[o] = Σ_{n, pixels} dy[n, o].
    // Fused with ReLU + max pool, the incoming gradient is the pooled one and dy (of the convolution
    // output) is rebuilt block by block: the pooled gradient at each window's winning tap, where ReLU lets it through.
    // Runs kernels directly, so the backward itself is not differentiable.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (GradMode.IsEnabled)
            throw new NotSupportedException("Conv2d: double backward is not supported yet");
        Tensor dyc = dy.Contiguous();
        Tensor? dx = NeedsInputGrad(0) ? new Tensor(_xShape, dy.DType) : null;
        Tensor? dw = NeedsInputGrad(1) ? new Tensor(_wShape, dy.DType) : null;
        Tensor? db = NeedsInputGrad(2) ? new Tensor(new Shape(_wShape[0]), dy.DType) : null;
        Tensor? x = _x?.Value, w = _w?.Value;
        if (dy.DType == DType.Float32)
            RunBackward<float>(dyc.ReadOnlyElements<float>(), x is null ? default : x.ReadOnlyElements<float>(), w is null ? default : w.ReadOnlyElements<float>(),
                dx is null ? default : dx.Elements<float>(), dw is null ? default : dw.Elements<float>(), db is null ? default : db.Elements<float>(),
                dx is not null, dw is not null, db is not null);
        else
            RunBackward<double>(dyc.ReadOnlyElements<double>(), x is null ? default : x.ReadOnlyElements<double>(), w is null ? default : w.ReadOnlyElements<double>(),
                dx is null ? default : dx.Elements<double>(), dw is null ? default : dw.Elements<double>(), db is null ? default : db.Elements<double>(),
                dx is not null, dw is not null, db is not null);
        return [dx, dw, db];
    }

    /// <summary>
    /// The batch is cut into min(N, 8·threads) contiguous chunks (one with a single thread) that the
    /// threads claim one by one; chunk p sums its images' dW into its own buffer (chunk 0 straight
    /// into dw) and the buffers are added in chunk order, so the result depends on the thread count
    /// only, not on scheduling. dx is per image.
    /// </summary>
    private unsafe void RunBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> dx, Span<T> dw, Span<T> db,
                                       bool needX, bool needW, bool needB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Window2d g = _g;
        int n = _xShape[0], c = _xShape[1], outC = _wShape[0], groups = _groups;
        int l = g.OH * g.OW;
        bool fused = _fused;
        Span<byte> codes = _codes is null ? default : MemoryMarshal.AsBytes(_codes.Value.Elements<long>());
        if (needB && !fused)
            for (int img = 0; img < n; img++)
                for (int o = 0; o < outC; o++)
                    db[o] += TensorPrimitives.Sum(dy.Slice((img * outC + o) * l, l));
        if (!(needX || needW || needB && fused) || n == 0) return;
        int threads = Threading.ThreadCount;
        int chunks = threads == 1 ? 1 : Math.Max(1, Math.Min(n, ChunksPerThread * threads));
        int wSize = dw.Length;
        T[]? partial = needW && chunks > 1 ? ArrayPool<T>.Shared.Rent((chunks - 1) * wSize) : null;
        // Fused: the per-image channel sums of the rebuilt dy, added up below in the unfused order.
        T[]? rowSums = needB && fused ? ArrayPool<T>.Shared.Rent(n * outC) : null;
        try
        {
            fixed (T* pdy = dy)
            fixed (T* px = x)
            fixed (T* pw = w)
            fixed (T* pdx = dx)
            fixed (T* pdw = dw)
            fixed (T* ppart = partial)
            fixed (byte* pcodes = codes)
            fixed (T* psums = rowSums)
            {
                var body = new BackwardBody<T>
                {
                    Dy = pdy, X = px, W = pw, Dx = needX ? pdx : null, Dw = needW ? pdw : null, Partial = ppart, WSize = wSize,
                    Codes = pcodes, RowSums = psums,
                    N = n, C = c, OutC = outC, Groups = groups, G = g, Chunks = chunks, ParallelGemm = chunks == 1,
                };
                if (chunks > 1)
                {
                    int next = 0;
                    var claim = new Claiming<BackwardBody<T>> { Body = &body, Next = &next, Units = chunks, Block = 1, N = chunks };
                    Threading.ParallelFor(threads, 1, ref claim);
                }
                else body.Invoke(0, 1);
            }
            for (int p = 1; p < chunks && partial is not null; p++)
                TensorPrimitives.Add(dw, partial.AsSpan((p - 1) * wSize, wSize), dw);
            if (rowSums is not null)
                for (int img = 0; img < n; img++)
                    for (int o = 0; o < outC; o++)
                        db[o] += rowSums[img * outC + o];
        }
        finally
        {
            if (partial is not null) ArrayPool<T>.Shared.Return(partial);
            if (rowSums is not null) ArrayPool<T>.Shared.Return(rowSums);
        }
    }

    /// <summary>
    /// Backward of chunks [start, end) of the batch: dW_g (+)= dy_g · im2col(x_g)ᵀ, dx_g += col2im(W_gᵀ · dy_g).
    /// Images are unfolded side by side in blocks of up to <see cref="BlockColumns"/> columns (as in
    /// the forward): dW still sums one image at a time (K = OH·OW per product, the column rows read
    /// with the block's stride), while dx takes one wide GEMM per block, whose [K, nb·L] result is
    /// folded back image by image. Each dx element is the same dot product whatever the block.
    /// </summary>
    private unsafe struct BackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, X, W, Dx, Dw, Partial;
        public byte* Codes;  // fused ReLU + pool: Dy is the pooled gradient [N, OutC, OH/2, OW/2]
        public T* RowSums;   // fused, with a bias: per image and channel, the sum of the rebuilt dy
        public int WSize, N, C, OutC, Groups, Chunks;
        public Window2d G;
        public bool ParallelGemm;

        public readonly void Invoke(int start, int end)
        {
            Window2d g = G;
            int cg = C / Groups, og = OutC / Groups, k = cg * g.KH * g.KW, l = g.OH * g.OW;
            bool pointwise = IsPointwise(g);
            int block = pointwise ? 1 : Math.Clamp(BlockColumns / Math.Max(l, 1), 1, Math.Max(1, (N + Chunks - 1) / Chunks));
            T[]? col = pointwise ? null : ArrayPool<T>.Shared.Rent(Math.Max(k * l * block, 1));
            T[]? dyBlock = block > 1 && Dx is not null || Codes is not null ? ArrayPool<T>.Shared.Rent(og * l * block) : null;
            try
            {
                fixed (T* pcol = col)
                fixed (T* pdy = dyBlock)
                    for (int chunk = start; chunk < end; chunk++)
                    {
                        T* dwChunk = Dw is null ? null : chunk == 0 ? Dw : Partial + (nint)(chunk - 1) * WSize;
                        int first = (int)((long)N * chunk / Chunks), last = (int)((long)N * (chunk + 1) / Chunks);
                        for (int img0 = first; img0 < last; img0 += block)
                        {
                            int nb = Math.Min(block, last - img0);
                            for (int grp = 0; grp < Groups; grp++)
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
            int plane = g.H * g.W, ld = nb * l;
            if (Codes is not null)
            {
                // Rebuild dy of the convolution output, [nb][Og, L] -> [Og, nb·L]
                int pooled = (g.OH / 2) * (g.OW / 2);
                for (int i = 0; i < nb; i++)
                    for (int o = 0; o < og; o++)
                    {
                        nint at = (nint)((img0 + i) * OutC + grp * og + o) * pooled;
                        var row = new Span<T>(pdy + (nint)o * ld + i * l, l);
                        ReluPoolKernels.Backward(new ReadOnlySpan<T>(Dy + at, pooled), new ReadOnlySpan<byte>(Codes + at, pooled), g.OH, g.OW, row);
                        if (RowSums is not null) RowSums[(img0 + i) * OutC + grp * og + o] = TensorPrimitives.Sum<T>(row);
                    }
            }
            if (Dw is null && Dx is null) return;
            if (pcol is not null)
                for (int i = 0; i < nb; i++)
                    Im2Col.Unfold(new ReadOnlySpan<T>(X + (nint)((img0 + i) * C + grp * cg) * plane, cg * plane), cg, g,
                        new Span<T>(pcol + i * l, (k - 1) * ld + l), ld);
            if (dwChunk is not null)
                for (int i = 0; i < nb; i++)
                {
                    T* dys = Codes is not null ? pdy + i * l : Dy + (nint)((img0 + i) * OutC + grp * og) * l;
                    T* cols = pcol is null ? X + (nint)((img0 + i) * C + grp * cg) * plane : pcol + i * l;
                    // [Og, L] · [K, L]ᵀ -> [Og, K]; the chunk's first image overwrites (dw and the partials start unset)
                    Gemm.Multiply(false, true, og, k, l, T.One, dys, Codes is not null ? ld : l, cols, pcol is null ? l : ld, firstBlock && i == 0 ? T.Zero : T.One,
                        dwChunk + (nint)grp * og * k, k, ParallelGemm);
                }
            if (Dx is null) return;
            T* ws = W + (nint)grp * og * k;
            T* dyb = Codes is not null ? pdy : Dy + (nint)(img0 * OutC + grp * og) * l;
            if (pcol is null)
            {
                nint xOff = (nint)(img0 * C + grp * cg) * plane;
                Gemm.Multiply(true, false, k, l, og, T.One, ws, k, dyb, l, T.One, Dx + xOff, l, ParallelGemm);
                return;
            }
            if (nb > 1 && Codes is null)
            {
                // [nb][Og, L] -> [Og, nb·L], so one GEMM covers the block
                for (int i = 0; i < nb; i++)
                    for (int o = 0; o < og; o++)
                        new ReadOnlySpan<T>(Dy + (nint)((img0 + i) * OutC + grp * og + o) * l, l).CopyTo(new Span<T>(pdy + (nint)o * ld + i * l, l));
                dyb = pdy;
            }
            // [Og, K]ᵀ · [Og, nb·L] -> [K, nb·L], then fold each image back onto its input planes
            Gemm.Multiply(true, false, k, ld, og, T.One, ws, k, dyb, ld, T.Zero, pcol, ld, ParallelGemm);
            for (int i = 0; i < nb; i++)
                Im2Col.FoldAddDestructive(new Span<T>(pcol + i * l, (k - 1) * ld + l), cg, g,
                    new Span<T>(Dx + (nint)((img0 + i) * C + grp * cg) * plane, cg * plane), ld);
        }
    }
}

/// <summary>
/// im2col without the column matrix: pads a block of images (one group's channels) into a scratch
/// buffer and describes column matrix entry (p, j) as an offset into it, so the GEMM packs its B
/// panels from the images directly. Row p = (c·KH + ki)·KW + kj, column j = i·OH·OW + oh·OW + ow of
/// image i of the block; the value is padded[i][c][oh·SH + ki·DH][ow·SW + kj·DW].
/// One per thread, kept while the geometry stays the same (every block of every step of a layer),
/// so the scratch is allocated, its borders zeroed and the offsets computed once, not per block.
/// </summary>
internal sealed unsafe class ImplicitColumns<T> where T : unmanaged
{
    [ThreadStatic] private static ImplicitColumns<T>? t_current;

    private readonly Window2d _g;
    private readonly int _cg, _block, _hp, _wp, _imageSize, _k;
    private T* _padded;    // native memory: the GEMM keeps pointers into it
    private int* _offsets; // k row offsets, then block·L column offsets
    private int _columnsFor; // images whose column offsets are in _offsets (0: none yet)

    /// <summary>This thread's scratch for the geometry, for blocks of up to <paramref name="block"/> images.</summary>
    public static ImplicitColumns<T> ForThread(in Window2d g, int channels, int block)
    {
        ImplicitColumns<T>? cur = t_current;
        if (cur is not null && cur._g == g && cur._cg == channels && cur._block >= block) return cur;
        cur?.Free();
        return t_current = new ImplicitColumns<T>(g, channels, block);
    }

    private ImplicitColumns(in Window2d g, int channels, int block)
    {
        _g = g;
        _cg = channels;
        _block = block;
        _hp = g.H + 2 * g.PH;
        _wp = g.W + 2 * g.PW;
        _imageSize = channels * _hp * _wp;
        _k = channels * g.KH * g.KW;
        _padded = (T*)NativeMemory.AllocZeroed((nuint)Math.Max(1, block * _imageSize), (nuint)sizeof(T)); // borders stay zero; interiors are overwritten per block
        _offsets = (int*)NativeMemory.Alloc((nuint)Math.Max(1, _k + block * g.OH * g.OW), sizeof(int));
        int row = 0;
        for (int c = 0; c < channels; c++)
            for (int ki = 0; ki < g.KH; ki++)
                for (int kj = 0; kj < g.KW; kj++)
                    _offsets[row++] = (c * _hp + ki * g.DH) * _wp + kj * g.DW;
    }

    /// <summary>
    /// The [K, nb·OH·OW] column matrix of images [img0, img0 + nb) of x ([N, C, H, W]), channels of
    /// group grp; valid until the next call on this thread.
    /// </summary>
    public GemmGatherB<T> Columns(T* x, int c, int img0, int nb, int grp)
    {
        Window2d g = _g;
        int l = g.OH * g.OW, plane = g.H * g.W;
        for (int i = 0; i < nb; i++)
            for (int ch = 0; ch < _cg; ch++)
            {
                T* src = x + (nint)((img0 + i) * c + grp * _cg + ch) * plane;
                T* dst = _padded + (nint)i * _imageSize + ((nint)ch * _hp + g.PH) * _wp + g.PW;
                for (int h = 0; h < g.H; h++)
                    new ReadOnlySpan<T>(src + h * g.W, g.W).CopyTo(new Span<T>(dst + (nint)h * _wp, g.W));
            }
        if (_columnsFor < nb)
        {
            int* cols = _offsets + _k;
            for (int i = _columnsFor; i < nb; i++)
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                        cols[i * l + oh * g.OW + ow] = i * _imageSize + oh * g.SH * _wp + ow * g.SW;
            _columnsFor = nb;
        }
        return new GemmGatherB<T>(_padded, _offsets, _offsets + _k);
    }

    private void Free()
    {
        NativeMemory.Free(_padded);
        NativeMemory.Free(_offsets);
        _padded = null;
        _offsets = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the scratch of a thread that has ended.</summary>
    ~ImplicitColumns()
    {
        NativeMemory.Free(_padded);
        NativeMemory.Free(_offsets);
    }
}
