using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Gemm;
using Backprop.Tensors;
using Backprop.Threading;

namespace Backprop.Ops.MatMul;

/// <summary>y = x·Wᵀ + b for x [..., in], W [out, in], b [out]: one GEMM (transB) onto rows pre-filled with the bias.</summary>
internal sealed class LinearNode : Node
{
    private readonly SavedTensor? _x, _w;
    private readonly int _rows;

    private LinearNode(Tensor x, Tensor w, Tensor? bias, int rows) : base(x, w, bias)
    {
        _rows = rows;
        if (NeedsInputGrad(0)) _w = Save(w);
        if (NeedsInputGrad(1)) _x = Save(x);
    }

    public static Tensor Forward(Tensor x, Tensor w, Tensor? bias)
    {
        Tensor y = Compute(x, w, bias, out int rows);
        if (GradMode.Records(x, w, bias)) y.SetGradFn(new LinearNode(x, w, bias, rows));
        return y;
    }

    /// <summary>
    /// x·Wᵀ + b (then max(·, 0) when <paramref name="relu"/>) without recording; <paramref name="rows"/>
    /// is the product of x's leading dims.
    /// </summary>
    internal static Tensor Compute(Tensor x, Tensor w, Tensor? bias, out int rows, bool relu = false)
    {
        Check(x, w, bias);
        int inF = w.Shape[1], outF = w.Shape[0];
        rows = 1;
        for (int d = 0; d < x.Rank - 1; d++) rows *= x.Shape[d];
        int[] dims = x.Shape.ToArray();
        dims[^1] = outF;
        var y = Tensor.Uninitialized(new Shape(dims), x.DType); // the GEMM writes every element, also for inF = 0
        if (y.Numel > 0)
        {
            DTypeSwitch.Float(x.DType, new ForwardKernel(x, w, bias, y, rows, inF, outF, relu));
        }
        return y;
    }

    // y = x·Wᵀ + b over rows r of the flattened input:
    // dx = dy·W, dW = Σ_r dy_rᵀ·x_r = dy2ᵀ·x2, db = Σ_r dy_r.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        var (dx, dw, db) = Grads(this, dy, _w, _x, _rows, NeedsInputGrad(2));
        return [dx, dw, db];
    }

    /// <summary>
    /// dx = dz·W and dW = dz2ᵀ·x2 for the saved W and x (null when not saved), and db = Σ_r dz2_r when
    /// <paramref name="wantDb"/>; side by side when dx and dW are both wanted.
    /// </summary>
    internal static (Tensor? Dx, Tensor? Dw, Tensor? Db) Grads(Node node, Tensor dz, SavedTensor? w, SavedTensor? x, int rows, bool wantDb)
    {
        Tensor? x2 = null;
        if (x is not null)
        {
            Tensor xv = x.Value;
            x2 = xv.Reshape(rows, xv.Shape[xv.Rank - 1]);                          // [..., in] -> [rows, in]
        }
        // Both weight-side products with a second thread and no graph to record: side by side (LinearGrads).
        if (w is not null && x2 is not null && Parallelism.ThreadCount > 1 && !GradMode.Records(dz))
            return SideBySide(node, dz, w.Value, x2, rows, wantDb);
        int outF = dz.Shape[dz.Rank - 1];
        Tensor? db = wantDb ? dz.Reshape(rows, outF).Sum(0) : null;              // [rows, out] -> [out]
        Tensor? dx = w is null ? null : dz.MatMul(w.Value);                       // [..., out]·[out, in] -> [..., in]
        Tensor? dw = x2 is null ? null
            : GradMode.IsEnabled ? dz.Reshape(rows, outF).T().MatMul(x2)          // [out, rows]·[rows, in], recorded
            : WeightGrad(node, dz.Reshape(rows, outF).T(), x2);
        return (dx, dw, db);
    }

    /// <summary>
    /// dW [out, in] = dz2ᵀ [out, rows] · x2 [rows, in], the GEMM <see cref="Tensor.MatMul"/> runs for these
    /// operands, written into the buffer the weight's ZeroGrad released when there is one.
    /// </summary>
    private static Tensor WeightGrad(Node node, Tensor dzT, Tensor x2)
    {
        Tensor dw = node.NewInputGradient(1, new Shape(dzT.Shape[0], x2.Shape[1]), dzT.DType, clear: false);
        if (dw.Numel > 0) DTypeSwitch.Float(dzT.DType, new WeightGradKernel(dzT, x2, dw));
        return dw;
    }

    private readonly struct WeightGradKernel(Tensor dzT, Tensor x2, Tensor dw) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Tensor a = dzT, b = x2;
            MatrixLayout la = MatrixLayout.Of(ref a), lb = MatrixLayout.Of(ref b);
            int m = dw.Shape[0], n = dw.Shape[1], k = a.Shape[1];
            GemmKernel.Multiply(la.Trans, lb.Trans, m, n, k, T.One, a.Data<T>().AsSpan(a.Offset), la.Ld,
                                b.Data<T>().AsSpan(b.Offset), lb.Ld, T.Zero, dw.Elements<T>(), n);
        }
    }

    /// <summary>
    /// dx = dz2·W ([..., in], shaped like dz with in features), dW = dz2ᵀ·x2 ([out, in]) and, when
    /// <paramref name="wantDb"/>, db = Σ_r dz2_r ([out]), with dz2 = dz as [rows, out], by <see cref="LinearGrads"/>.
    /// </summary>
    private static (Tensor Dx, Tensor Dw, Tensor? Db) SideBySide(Node node, Tensor dz, Tensor w, Tensor x2, int rows, bool wantDb)
    {
        int outF = w.Shape[0], inF = w.Shape[1];
        Tensor dz2 = dz.Reshape(rows, outF);                                  // [..., out] -> [rows, out]
        if (!MatrixLayout.TryGet(rows, outF, dz2.Strides[0], dz2.Strides[1], out _)) dz2 = dz2.Contiguous();
        int[] dxDims = dz.Shape.ToArray();
        dxDims[^1] = inF;
        var dx = Tensor.Uninitialized(new Shape(dxDims), dz.DType);
        Tensor dw = node.NewInputGradient(1, new Shape(outF, inF), dz.DType, clear: false);
        // The dW thread sums db straight from dz2's row-major storage; any other layout is summed here.
        bool fusedDb = wantDb && dz2.IsContiguous;
        Tensor? db = !wantDb ? null : fusedDb ? node.NewInputGradient(2, new Shape(outF), dz.DType, clear: false) : dz2.Sum(0);
        DTypeSwitch.Float(dz.DType, new GradsKernel(dz2, w, x2, dx, dw, fusedDb ? db : null, rows, inF, outF));
        return (dx, dw, db);
    }

    private readonly struct GradsKernel(Tensor dz2, Tensor w, Tensor x2, Tensor dx, Tensor dw, Tensor? db, int rows, int inF, int outF) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => RunGrads<T>(dz2, w, x2, dx, dw, db, rows, inF, outF);
    }

    private static void RunGrads<T>(Tensor dz2, Tensor w, Tensor x2, Tensor dx, Tensor dw, Tensor? db, int rows, int inF, int outF)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MatrixLayout lz = MatrixLayout.Of(ref dz2), lw = MatrixLayout.Of(ref w), lx = MatrixLayout.Of(ref x2);
        LinearGrads.Compute(rows, inF, outF,
            dz2.Data<T>().AsSpan(dz2.Offset), lz.Trans, lz.Ld, w.Data<T>().AsSpan(w.Offset), lw.Trans, lw.Ld, x2.Data<T>().AsSpan(x2.Offset), lx.Trans, lx.Ld,
            dx.Elements<T>(), dw.Elements<T>(), db is null ? default : db.Elements<T>());
    }

    private readonly struct ForwardKernel(Tensor x, Tensor w, Tensor? bias, Tensor y, int rows, int inF, int outF, bool relu) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => Forward<T>(x, w, bias, y, rows, inF, outF, relu);
    }

    private static void Forward<T>(Tensor x, Tensor w, Tensor? bias, Tensor y, int rows, int inF, int outF, bool relu)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> dst = y.Elements<T>();
        // The bias and ReLU run inside the GEMM, on each tile of y as it is finished.
        ReadOnlySpan<T> bv = bias is null ? default : bias.Contiguous().ReadOnlyElements<T>();
        // op(A) = x as [rows, in]; op(B) = Wᵀ: a row-major W [out, in] is B transposed, a transposed view of a [in, out] matrix is B itself.
        bool transA = false;
        int lda = Math.Max(inF, 1);
        if (x.Rank == 2 && MatrixLayout.TryGet(rows, inF, x.Strides[0], x.Strides[1], out MatrixLayout lx))
            (transA, lda) = (lx.Trans, lx.Ld);
        else
            x = x.Detach().Contiguous();
        MatrixLayout lw = MatrixLayout.Of(ref w);
        GemmKernel.Multiply(transA, !lw.Trans, rows, outF, inF, T.One, x.Data<T>().AsSpan(x.Offset), lda,
                      w.Data<T>().AsSpan(w.Offset), lw.Ld, T.Zero, dst, outF, bv, relu);
    }

    internal static void Check(Tensor x, Tensor w, Tensor? bias)
    {
        if (w.Rank != 2)
            throw new ArgumentException($"Linear: weight must be 2-D [out, in], got {w.Shape}");
        if (x.Rank == 0)
            throw new ArgumentException($"Linear: input must have at least one dimension [..., in], got {x.Shape}");
        Tensor.CheckSameDType(x, w, "Linear");
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"Linear: {x.DType.Name()} tensors are not supported (input {x.Shape}, weight {w.Shape}); convert them with To(DType.Float32)");
        if (x.Shape[x.Rank - 1] != w.Shape[1])
            throw new ArgumentException($"Linear: input {x.Shape} has {x.Shape[x.Rank - 1]} features but weight {w.Shape} expects {w.Shape[1]}");
        if (bias is null) return;
        Tensor.CheckSameDType(x, bias, "Linear");
        if (bias.Rank != 1 || bias.Shape[0] != w.Shape[0])
            throw new ArgumentException($"Linear: bias must have shape [{w.Shape[0]}] to match weight {w.Shape}, got {bias.Shape}");
    }
}
