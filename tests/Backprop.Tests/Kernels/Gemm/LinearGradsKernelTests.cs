using System.Numerics;
using Backprop.Kernels.Gemm;
using Backprop.Tensors;
using Backprop.Threading;
using Backprop.Tests.Support;

namespace Backprop.Tests.Kernels.Gemm;

/// <summary>
/// The Linear gradient driver alone (side by side, and one product after the other from SplitRows rows):
/// dx = dz·W, dW = dzᵀ·x and db = Σ_r dz_r against two separate GEMM calls (bit for bit) and a
/// double-precision triple loop, for every operand layout.
/// </summary>
[Trait("Category", "Kernels")]
[Collection(ThreadsCollection.Name)]
public class LinearGradsKernelTests
{
    public static TheoryData<int, int, int> Sizes => new()
    {
        { 128, 78, 51 }, { LinearGrads.SplitRows + 37, 40, 35 }, { 1, 5, 3 }, { 7, 1, 9 }, { 33, 17, 1 }, { 30, 7, 9 }, { 0, 5, 3 }, { 4, 0, 3 }, { 4, 6, 0 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void EqualsSeparateGemms_EveryLayout(int rows, int inF, int outF)
    {
        int saved = Parallelism.ThreadCount;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.ThreadCount = threads;
                for (int layout = 0; layout < 8; layout++)
                {
                    Check<float>(rows, inF, outF, (layout & 1) != 0, (layout & 2) != 0, (layout & 4) != 0, 1e-4);
                    Check<double>(rows, inF, outF, (layout & 1) != 0, (layout & 2) != 0, (layout & 4) != 0, 1e-12);
                }
            }
        }
        finally
        {
            Parallelism.ThreadCount = saved;
        }
    }

    /// <summary>A logical [r, c] matrix stored row-major (ld = c + pad) or as the transpose of one (ld = r + 1).</summary>
    private static (T[] Data, int Ld) Store<T>(double[] m, int r, int c, bool trans, int pad = 2) where T : INumberBase<T>
    {
        int ld = trans ? r + 1 : c + pad;
        var data = new T[Math.Max(1, (trans ? c : r) * ld)];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                data[trans ? j * ld + i : i * ld + j] = T.CreateTruncating(m[i * c + j]);
        return (data, ld);
    }

    private static double[] Normal(int n, ulong seed)
    {
        var g = new Generator(seed);
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = g.NextNormal();
        return v;
    }

    private static void Check<T>(int rows, int inF, int outF, bool dzTrans, bool wTrans, bool xTrans, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string what = $"{typeof(T).Name} rows {rows} in {inF} out {outF} dzTrans {dzTrans} wTrans {wTrans} xTrans {xTrans} threads {Parallelism.ThreadCount}";
        double[] dzv = Normal(rows * outF, 1), wv = Normal(outF * inF, 2), xv = Normal(rows * inF, 3);
        var (dz, ldz) = Store<T>(dzv, rows, outF, dzTrans, pad: 0); // row-major dz is contiguous, as db needs
        var (w, ldw) = Store<T>(wv, outF, inF, wTrans);
        var (x, ldx) = Store<T>(xv, rows, inF, xTrans);
        T[] dx = new T[rows * inF], dw = new T[outF * inF];
        dx.AsSpan().Fill(T.NaN); // both are overwritten
        dw.AsSpan().Fill(T.NaN);
        T[] db = dzTrans ? [] : new T[outF]; // db needs dz row-major and contiguous
        LinearGrads.Compute<T>(rows, inF, outF, dz, dzTrans, ldz, w, wTrans, ldw, x, xTrans, ldx, dx, dw, db);

        T[] dxExpected = new T[dx.Length], dwExpected = new T[dw.Length];
        GemmKernel.Multiply(dzTrans, wTrans, rows, inF, outF, T.One, dz, ldz, w, ldw, T.Zero, dxExpected, inF);
        GemmKernel.Multiply(!dzTrans, xTrans, outF, inF, rows, T.One, dz, ldz, x, ldx, T.Zero, dwExpected, inF);
        Assert.True(dxExpected.AsSpan().SequenceEqual(dx), $"dx differs from one GEMM: {what}");
        Assert.True(dwExpected.AsSpan().SequenceEqual(dw), $"dW differs from one GEMM: {what}");

        var (dxRef, _) = ReferenceGemm.Multiply(false, false, rows, inF, outF, 1, dzv, outF, wv, inF, 0, new double[rows * inF], inF);
        var (dwRef, _) = ReferenceGemm.Multiply(true, false, outF, inF, rows, 1, dzv, outF, xv, inF, 0, new double[outF * inF], inF);
        Support.T.Close(dxRef, Array.ConvertAll(dx, double.CreateTruncating), tol * Math.Max(1, outF));
        Support.T.Close(dwRef, Array.ConvertAll(dw, double.CreateTruncating), tol * Math.Max(1, rows));
        if (db.Length == 0) return;
        var dbExpected = new T[outF];
        Backprop.Kernels.Reduce.SumKernel.SumMiddle<T>(dz.AsSpan(0, rows * outF), 1, rows, outF, dbExpected);
        Assert.True(dbExpected.AsSpan().SequenceEqual(db), $"db differs from a sum over dim 0: {what}");
        var dbRef = new double[outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++) dbRef[o] += double.CreateTruncating(dz[r * ldz + o]);
        Support.T.Close(dbRef, Array.ConvertAll(db, double.CreateTruncating), tol * Math.Max(1, rows));
    }

    [Fact]
    public void ShortBuffers_AndTransposedDzWithDb_Throw()
    {
        float[] dz = new float[12], w = new float[15], x = new float[20], dx = new float[20], dw = new float[15], db = new float[3];
        Assert.Throws<ArgumentException>(() => LinearGrads.Compute<float>(4, 5, 3, dz.AsSpan(1), false, 3, w, false, 5, x, false, 5, dx, dw, db));
        Assert.Throws<ArgumentException>(() => LinearGrads.Compute<float>(4, 5, 3, dz, false, 3, w.AsSpan(1), false, 5, x, false, 5, dx, dw, db));
        Assert.Throws<ArgumentException>(() => LinearGrads.Compute<float>(4, 5, 3, dz, false, 3, w, false, 5, x, false, 5, dx.AsSpan(1), dw, db));
        Assert.Throws<ArgumentException>(() => LinearGrads.Compute<float>(4, 5, 3, dz, false, 3, w, false, 5, x, false, 5, dx, dw, new float[2]));
        Assert.Throws<ArgumentException>(() => LinearGrads.Compute<float>(4, 5, 3, dz, true, 4, w, false, 5, x, false, 5, dx, dw, db));
        Assert.Throws<ArgumentException>(() => LinearGrads.Compute<float>(3, 5, 3, dz, false, 4, w, false, 5, x, false, 5, dx, dw, db)); // rows 4 apart
        Assert.Throws<ArgumentException>(() => LinearGrads.Compute<float>(-1, 5, 3, dz, false, 3, w, false, 5, x, false, 5, dx, dw, db));
    }
}
