using System.Numerics;
using Backprop.Kernels.Reduce;
using Backprop.Threading;

namespace Backprop.Kernels.Gemm;

/// <summary>
/// The two weight-side GEMMs of a Linear backward, dx = dz·W and dW = dzᵀ·x, run side by side: with
/// several threads each product takes one thread whole instead of both products being split over all
/// threads in turn. A batch of 128 rows gives each GEMM too little work to split without losing time
/// to the hand-offs between threads. Every tile of a product is computed the same way on any number
/// of threads, so the values equal those of two separate <see cref="GemmKernel"/> calls. The bias gradient
/// db = Σ_r dz_r is summed by the thread that computes dW, after its product, with the same kernel
/// and order as a sum over dim 0, instead of on the calling thread before both. Large batches
/// (<see cref="SplitRows"/>) split each product over the threads instead.
/// </summary>
internal static unsafe class LinearGrads
{
    /// <summary>
    /// From this many rows on, the two products run one after the other, each split over all threads:
    /// they are then large enough to split well, and side by side the thread with dW (the longer product,
    /// which also sums db) left the other idle for a tenth of a transformer backward.
    /// </summary>
    internal const int SplitRows = 1024;

    /// <summary>
    /// dx [rows, inF] = dz·W, dW [outF, inF] = dzᵀ·x (both overwritten) and, when <paramref name="db"/> is
    /// not empty, db [outF] = Σ_r dz_r. Operands are row-major with row stride ld, or (trans) the transpose
    /// of one: dz is [rows, outF], w is [outF, inF], x is [rows, inF]. db needs dz stored row-major and
    /// contiguous. If the worker pool is busy (or this is a nested call) the calling thread runs both
    /// products, each on all threads.
    /// </summary>
    /// <exception cref="ArgumentException">A size is negative or a buffer is shorter than its operand.</exception>
    public static void Compute<T>(int rows, int inF, int outF,
                                  ReadOnlySpan<T> dz, bool dzTrans, int ldz,
                                  ReadOnlySpan<T> w, bool wTrans, int ldw,
                                  ReadOnlySpan<T> x, bool xTrans, int ldx,
                                  Span<T> dx, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmKernel.CheckSizes(rows, inF, outF);
        GemmKernel.CheckOperand("dz", dzTrans ? outF : rows, dzTrans ? rows : outF, ldz, dz.Length);
        GemmKernel.CheckOperand("W", wTrans ? inF : outF, wTrans ? outF : inF, ldw, w.Length);
        GemmKernel.CheckOperand("x", xTrans ? inF : rows, xTrans ? rows : inF, ldx, x.Length);
        GemmKernel.CheckOperand("dx", rows, inF, inF, dx.Length);
        GemmKernel.CheckOperand("dW", outF, inF, inF, dw.Length);
        if (!db.IsEmpty && (db.Length < outF || dzTrans || rows > 1 && outF > 0 && ldz != outF))
            throw new ArgumentException($"LinearGrads: db needs {outF} elements (got {db.Length}) and dz row-major and contiguous (got {(dzTrans ? "transposed" : "row-major")} with row stride {ldz} for {outF} columns)");
        fixed (T* pz = dz)
        fixed (T* pw = w)
        fixed (T* px = x)
        fixed (T* pdx = dx)
        fixed (T* pdw = dw)
        fixed (T* pdb = db)
        {
            var body = new Body<T>
            {
                Dz = pz, W = pw, X = px, Dx = pdx, Dw = pdw, Db = pdb,
                DzTrans = dzTrans, WTrans = wTrans, XTrans = xTrans, Ldz = ldz, Ldw = ldw, Ldx = ldx, Rows = rows, In = inF, Out = outF,
            };
            if (rows >= SplitRows)
            {
                body.Db = null;
                body.Invoke(0, 2); // each product over all threads, one after the other
                if (!db.IsEmpty && outF > 0)
                {
                    var sums = new ColumnSums<T> { Dz = pz, Db = pdb, Rows = rows, Out = outF };
                    Parallelism.ParallelFor(outF, 16, ref sums);
                }
            }
            else
                Parallelism.ParallelFor(2, 1, ref body);
        }
    }

    /// <summary>
    /// db[start..end) = Σ_r dz[r, start..end) by <see cref="SumKernel.SumRows"/>, the kernel of a sum over
    /// dim 0, so the column split changes no result.
    /// </summary>
    private struct ColumnSums<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dz, Db;
        public int Rows, Out;

        public readonly void Invoke(int start, int end)
        {
            var sum = new Span<T>(Db + start, end - start);
            if (Rows == 0) { sum.Clear(); return; }
            SumKernel.SumRows(new ReadOnlySpan<T>(Dz + start, (Rows - 1) * Out + end - start), Rows, Out, sum);
        }
    }

    private struct Body<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dz, W, X, Dx, Dw, Db; // Db null: not wanted
        public bool DzTrans, WTrans, XTrans;
        public int Ldz, Ldw, Ldx, Rows, In, Out;

        public readonly void Invoke(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                // Run on all threads when this loop got only one (the pool was busy or this is a nested call).
                bool parallel = end - start > 1;
                if (i == 0) // dx [rows, in] = dz [rows, out] · W [out, in]
                    GemmKernel.Multiply(DzTrans, WTrans, Rows, In, Out, T.One, Dz, Ldz, W, Ldw, T.Zero, Dx, In, parallel);
                else        // dW [out, in] = dzᵀ [out, rows] · x [rows, in]; db [out] = Σ_r dz [r, :] (dz row-major here)
                {
                    GemmKernel.Multiply(!DzTrans, XTrans, Out, In, Rows, T.One, Dz, Ldz, X, Ldx, T.Zero, Dw, In, parallel);
                    if (Db != null)
                        SumKernel.SumMiddle(new ReadOnlySpan<T>(Dz, Rows * Out), 1, Rows, Out, new Span<T>(Db, Out));
                }
            }
        }
    }
}
