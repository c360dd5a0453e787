using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
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

    private Conv2dBackward(Tensor x, Tensor w, Tensor? b, Tensor xc, Tensor wc, Window2d g, int groups) : base(x, w, b)
    {
        _xShape = x.Shape;
        _wShape = w.Shape;
        _g = g;
        _groups = groups;
        if (NeedsInputGrad(1)) _x = Save(xc);
        if (NeedsInputGrad(0)) _w = Save(wc);
    }

    /// <summary>x [N, C, H, W], w [outC, C/groups, KH, KW], b [outC] or null; returns [N, outC, OH, OW].</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups)
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
        var y = new Tensor(new Shape(n, outC, g.OH, g.OW), x.DType);
        if (x.DType == DType.Float32)
            RunForward<float>(xc.ReadOnlyElements<float>(), wc.ReadOnlyElements<float>(), b is null ? default : bc.ReadOnlyElements<float>(), b is not null, y.Elements<float>(), n, c, outC, groups, g);
        else
            RunForward<double>(xc.ReadOnlyElements<double>(), wc.ReadOnlyElements<double>(), b is null ? default : bc.ReadOnlyElements<double>(), b is not null, y.Elements<double>(), n, c, outC, groups, g);
        if (ElementwiseDispatch.NeedsGrad(x, w, b)) y.SetGradFn(new Conv2dBackward(x, w, b, xc, wc, g, groups));
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
    private static unsafe void RunForward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, bool hasBias, Span<T> y,
                                             int n, int c, int outC, int groups, in Window2d g)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool perImage = n > 1 && Threading.ThreadCount > 1;
        fixed (T* px = x)
        fixed (T* pw = w)
        fixed (T* pb = b)
        fixed (T* py = y)
        {
            var body = new ForwardBody<T>
            {
                X = px, W = pw, B = hasBias ? pb : null, Y = py, C = c, OutC = outC, Groups = groups, G = g,
                ParallelGemm = !perImage,
            };
            if (perImage) Threading.ParallelFor(n, 1, ref body);
            else body.Invoke(0, n);
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
        public int C, OutC, Groups;
        public Window2d G;
        public bool ParallelGemm;

        public readonly void Invoke(int start, int end)
        {
            Window2d g = G;
            int cg = C / Groups, og = OutC / Groups, k = cg * g.KH * g.KW, l = g.OH * g.OW, plane = g.H * g.W;
            bool pointwise = IsPointwise(g); // 1×1, stride 1, no padding: the input already is the column matrix
            int block = pointwise ? 1 : Math.Clamp(BlockColumns / Math.Max(l, 1), 1, end - start);
            T[]? col = pointwise ? null : ArrayPool<T>.Shared.Rent(Math.Max(k * l * block, 1));
            T[]? outBlock = block > 1 ? ArrayPool<T>.Shared.Rent(og * l * block) : null;
            try
            {
                fixed (T* pcol = col)
                fixed (T* pout = outBlock)
                    for (int img0 = start; img0 < end; img0 += block)
                    {
                        int nb = Math.Min(block, end - img0), ld = nb * l;
                        for (int grp = 0; grp < Groups; grp++)
                        {
                            T* cols = X + (nint)(img0 * C + grp * cg) * plane;
                            if (col is not null)
                            {
                                for (int i = 0; i < nb; i++)
                                    Im2Col.Unfold(new ReadOnlySpan<T>(X + (nint)((img0 + i) * C + grp * cg) * plane, cg * plane), cg, g,
                                        col.AsSpan(i * l, k * ld - i * l), ld);
                                cols = pcol;
                            }
                            T* ys = Y + (nint)(img0 * OutC + grp * og) * l;
                            if (nb == 1)
                            {
                                // The bias goes on after the product, as in the block path, so both round the same way.
                                Gemm.Multiply(false, false, og, l, k, T.One, W + (nint)grp * og * k, k, cols, l, T.Zero, ys, l, ParallelGemm);
                                if (B is not null)
                                    for (int o = 0; o < og; o++)
                                    {
                                        var row = new Span<T>(ys + (nint)o * l, l);
                                        TensorPrimitives.Add(row, B[grp * og + o], row);
                                    }
                                continue;
                            }
                            // [Og, K] · [K, nb·L] -> [Og, nb·L], then scatter each image's [Og, L] block into y (+ bias)
                            Gemm.Multiply(false, false, og, ld, k, T.One, W + (nint)grp * og * k, k, cols, ld, T.Zero, pout, ld, ParallelGemm);
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
                if (col is not null) ArrayPool<T>.Shared.Return(col);
                if (outBlock is not null) ArrayPool<T>.Shared.Return(outBlock);
            }
        }
    }

    /// <summary>Target GEMM width when images are batched side by side (measured: 4 LeNet conv2 images, 784 columns, run ~14% faster than one).</summary>
    private const int BlockColumns = 800;

    // dx_g = col2im(W_gᵀ · dy_g), dW_g = Σ_n dy_g · im2col(x_g)ᵀ, db[o] = Σ_{n, pixels} dy[n, o].
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
    /// The batch is cut into min(N, threads) contiguous chunks that run in parallel; chunk p sums its
    /// images' dW into its own buffer (chunk 0 straight into dw) and the buffers are added in chunk
    /// order, so the result depends on the thread count only, not on scheduling. dx is per image.
    /// </summary>
    private unsafe void RunBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> dx, Span<T> dw, Span<T> db,
                                       bool needX, bool needW, bool needB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Window2d g = _g;
        int n = _xShape[0], c = _xShape[1], outC = _wShape[0], groups = _groups;
        int l = g.OH * g.OW;
        if (needB)
            for (int img = 0; img < n; img++)
                for (int o = 0; o < outC; o++)
                    db[o] += TensorPrimitives.Sum(dy.Slice((img * outC + o) * l, l));
        if (!(needX || needW) || n == 0) return;
        int chunks = Math.Max(1, Math.Min(n, Threading.ThreadCount));
        int wSize = dw.Length;
        T[]? partial = needW && chunks > 1 ? ArrayPool<T>.Shared.Rent((chunks - 1) * wSize) : null;
        try
        {
            fixed (T* pdy = dy)
            fixed (T* px = x)
            fixed (T* pw = w)
            fixed (T* pdx = dx)
            fixed (T* pdw = dw)
            fixed (T* ppart = partial)
            {
                var body = new BackwardBody<T>
                {
                    Dy = pdy, X = px, W = pw, Dx = needX ? pdx : null, Dw = needW ? pdw : null, Partial = ppart, WSize = wSize,
                    N = n, C = c, OutC = outC, Groups = groups, G = g, Chunks = chunks, ParallelGemm = chunks == 1,
                };
                if (chunks > 1) Threading.ParallelFor(chunks, 1, ref body);
                else body.Invoke(0, 1);
            }
            for (int p = 1; p < chunks && partial is not null; p++)
                TensorPrimitives.Add(dw, partial.AsSpan((p - 1) * wSize, wSize), dw);
        }
        finally
        {
            if (partial is not null) ArrayPool<T>.Shared.Return(partial);
        }
    }

    /// <summary>Backward of chunks [start, end) of the batch: dW_g (+)= dy_g · im2col(x_g)ᵀ, dx_g += col2im(W_gᵀ · dy_g).</summary>
    private unsafe struct BackwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, X, W, Dx, Dw, Partial;
        public int WSize, N, C, OutC, Groups, Chunks;
        public Window2d G;
        public bool ParallelGemm;

        public readonly void Invoke(int start, int end)
        {
            Window2d g = G;
            int cg = C / Groups, og = OutC / Groups, k = cg * g.KH * g.KW, l = g.OH * g.OW, plane = g.H * g.W;
            bool pointwise = IsPointwise(g);
            T[]? col = pointwise ? null : ArrayPool<T>.Shared.Rent(Math.Max(k * l, 1));
            try
            {
                fixed (T* pcol = col)
                    for (int chunk = start; chunk < end; chunk++)
                    {
                        T* dwChunk = Dw is null ? null : chunk == 0 ? Dw : Partial + (nint)(chunk - 1) * WSize;
                        int first = (int)((long)N * chunk / Chunks), last = (int)((long)N * (chunk + 1) / Chunks);
                        for (int img = first; img < last; img++)
                            for (int grp = 0; grp < Groups; grp++)
                                Image(img, grp, cg, og, k, l, plane, g, col, pcol, dwChunk, img == first);
                    }
            }
            finally
            {
                if (col is not null) ArrayPool<T>.Shared.Return(col);
            }
        }

        private readonly void Image(int img, int grp, int cg, int og, int k, int l, int plane, in Window2d g, T[]? col, T* pcol, T* dwChunk, bool firstImage)
        {
            T* dys = Dy + (nint)(img * OutC + grp * og) * l;
            nint xOff = (nint)(img * C + grp * cg) * plane;
            if (dwChunk is not null)
            {
                T* cols = X + xOff;
                if (col is not null)
                {
                    Im2Col.Unfold(new ReadOnlySpan<T>(X + xOff, cg * plane), cg, g, col.AsSpan(0, k * l));
                    cols = pcol;
                }
                // [Og, L] · [K, L]ᵀ -> [Og, K]; the chunk's first image overwrites (dw and the partials start unset)
                Gemm.Multiply(false, true, og, k, l, T.One, dys, l, cols, l, firstImage ? T.Zero : T.One,
                    dwChunk + (nint)grp * og * k, k, ParallelGemm);
            }
            if (Dx is not null)
            {
                T* ws = W + (nint)grp * og * k;
                if (col is null)
                    Gemm.Multiply(true, false, k, l, og, T.One, ws, k, dys, l, T.One, Dx + xOff, l, ParallelGemm);
                else
                {
                    // [Og, K]ᵀ · [Og, L] -> [K, L], then fold back onto the input planes
                    Gemm.Multiply(true, false, k, l, og, T.One, ws, k, dys, l, T.Zero, pcol, l, ParallelGemm);
                    Im2Col.FoldAddDestructive(col.AsSpan(0, k * l), cg, g, new Span<T>(Dx + xOff, cg * plane));
                }
            }
        }
    }
}
