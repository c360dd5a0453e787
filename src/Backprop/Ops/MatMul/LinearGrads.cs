using System.Numerics;
using Backprop.Kernels;

namespace Backprop.Ops;

/// <summary>
/// The two weight-side GEMMs of a Linear backward outside the graph, dx = dz·W and dW = dzᵀ·x,
/// run side by side: with several threads each product takes one thread whole instead of both
/// products being split over all threads in turn. A batch of 128 rows gives each GEMM too little
/// work to split without losing time to the hand-offs between threads. Every tile of a product is
/// computed the same way on any number of threads, so the values equal those of two MatMul calls.
/// The bias gradient db = Σ_r dz_r is summed by the thread that computes dW, after its product,
/// with the same kernel and order as dz2.Sum(0), instead of on the calling thread before both.
/// </summary>
internal static class LinearGrads
{
    /// <summary>Whether <see cref="Compute"/> applies: both gradients wanted, no graph to record, and a second thread.</summary>
    public static bool Applies(Tensor dz, bool wantDx, bool wantDw)
        => wantDx && wantDw && Threading.ThreadCount > 1 && !ElementwiseMap.RecordsGraph(dz);

    /// <summary>
    /// dx = dz2·W ([rows, in], shaped like dz with in features), dW = dz2ᵀ·x2 ([out, in]) and, when
    /// <paramref name="wantDb"/>, db = Σ_r dz2_r ([out]).
    /// </summary>
    /// <param name="dz">Output gradient [..., out].</param>
    /// <param name="w">Weight [out, in].</param>
    /// <param name="x2">Input flattened to [rows, in].</param>
    /// <param name="rows">Product of dz's leading dims.</param>
    /// <param name="wantDb">Whether to sum the bias gradient as well.</param>
    public static (Tensor Dx, Tensor Dw, Tensor? Db) Compute(Tensor dz, Tensor w, Tensor x2, int rows, bool wantDb)
    {
        int outF = w.Shape[0], inF = w.Shape[1];
        Tensor dz2 = dz.Reshape(rows, outF);                                  // [..., out] -> [rows, out]
        if (!MatrixLayout.TryGet(rows, outF, dz2.Strides[0], dz2.Strides[1], out _)) dz2 = dz2.Contiguous();
        int[] dxDims = dz.Shape.ToArray();
        dxDims[^1] = inF;
        var dx = Tensor.Uninitialized(new Shape(dxDims), dz.DType);
        var dw = Tensor.Uninitialized(new Shape(outF, inF), dz.DType);
        // The dW thread sums db straight from dz2's row-major storage; any other layout is summed here.
        bool fusedDb = wantDb && dz2.IsContiguous;
        Tensor? db = !wantDb ? null : fusedDb ? Tensor.Uninitialized(new Shape(outF), dz.DType) : dz2.Sum(0);
        if (dz.DType == DType.Float32) Run<float>(dz2, w, x2, dx, dw, fusedDb ? db : null, rows, inF, outF);
        else Run<double>(dz2, w, x2, dx, dw, fusedDb ? db : null, rows, inF, outF);
        return (dx, dw, db);
    }

    private static unsafe void Run<T>(Tensor dz2, Tensor w, Tensor x2, Tensor dx, Tensor dw, Tensor? db, int rows, int inF, int outF)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        MatrixLayout lz = MatrixLayout.Of(ref dz2), lw = MatrixLayout.Of(ref w), lx = MatrixLayout.Of(ref x2);
        fixed (T* pz = dz2.Data<T>())
        fixed (T* pw = w.Data<T>())
        fixed (T* px = x2.Data<T>())
        fixed (T* pdx = dx.Data<T>())
        fixed (T* pdw = dw.Data<T>())
        fixed (T* pdb = db is null ? null : db.Data<T>())
        {
            var body = new Body<T>
            {
                Dz = pz + dz2.Offset, W = pw + w.Offset, X = px + x2.Offset, Dx = pdx, Dw = pdw, Db = db is null ? null : pdb + db.Offset,
                Lz = lz, Lw = lw, Lx = lx, Rows = rows, In = inF, Out = outF,
            };
            Threading.ParallelFor(2, 1, ref body);
        }
    }

    private unsafe struct Body<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dz, W, X, Dx, Dw, Db; // Db null: not wanted or summed by the caller
        public MatrixLayout Lz, Lw, Lx;
        public int Rows, In, Out;

        public readonly void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                // Run on all threads when this loop got only one (the pool was busy or this is a nested call).
                bool parallel = end - start > 1;
                if (i == 0) // dx [rows, in] = dz [rows, out] · W [out, in]
                    Gemm.Multiply(Lz.Trans, Lw.Trans, Rows, In, Out, T.One, Dz, Lz.Ld, W, Lw.Ld, T.Zero, Dx, In, parallel);
                else        // dW [out, in] = dzᵀ [out, rows] · x [rows, in]; db [out] = Σ_r dz [r, :] (dz row-major here)
                {
                    Gemm.Multiply(!Lz.Trans, Lx.Trans, Out, In, Rows, T.One, Dz, Lz.Ld, X, Lx.Ld, T.Zero, Dw, In, parallel);
                    if (Db != null)
                        SumKernel.SumMiddle(new ReadOnlySpan<T>(Dz, Rows * Out), 1, Rows, Out, new Span<T>(Db, Out));
                }
            }
        }
    }
}
