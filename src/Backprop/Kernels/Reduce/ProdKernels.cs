using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Kernels.Reduce;

/// <summary>
/// Products along the middle axis of a contiguous [outer, n, inner] block: the product itself, the running
/// product, and their gradients. The gradients never divide by x: they multiply the products of the
/// elements before and after each position, so zeros in the input get the exact gradient (as PyTorch's
/// zero-safe formulas).
/// </summary>
internal static class ProdKernels
{
    /// <summary>y[o, i] = Π_r x[o, r, i] (1 for n = 0); y has outer·inner elements.</summary>
    public static void Prod<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> y) where T : unmanaged, INumber<T>
    {
        for (int o = 0; o < outer; o++)
        {
            if (inner == 1)
            {
                y[o] = n == 0 ? T.One : TensorPrimitives.Product(x.Slice(o * n, n));
                continue;
            }
            Span<T> yr = y.Slice(o * inner, inner);
            if (n == 0) { yr.Fill(T.One); continue; }
            ReadOnlySpan<T> xb = x.Slice(o * n * inner, n * inner);
            xb[..inner].CopyTo(yr);
            for (int r = 1; r < n; r++) TensorPrimitives.Multiply(yr, xb.Slice(r * inner, inner), yr);
        }
    }

    /// <summary>
    /// dx[o, r, i] = dy[o, i] · Π_{s &lt; r} x[o, s, i] · Π_{s &gt; r} x[o, s, i]: one pass forward for the
    /// products before r, one backward for those after (started from dy, so the multiply by dy is free).
    /// </summary>
    public static void ProdBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int outer, int n, int inner, Span<T> dx) where T : unmanaged, INumber<T>
    {
        if (n == 0 || inner == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> xr = x.Slice(o * n, n);
                Span<T> dr = dx.Slice(o * n, n);
                T before = T.One, after = dy[o];
                for (int r = 0; r < n; r++) { dr[r] = before; before *= xr[r]; }
                for (int r = n - 1; r >= 0; r--) { dr[r] *= after; after *= xr[r]; }
            }
            return;
        }
        T[] run = ArrayPool<T>.Shared.Rent(inner);
        try
        {
            Span<T> p = run.AsSpan(0, inner);
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> xb = x.Slice(o * n * inner, n * inner);
                Span<T> db = dx.Slice(o * n * inner, n * inner);
                p.Fill(T.One);
                for (int r = 0; r < n; r++)
                {
                    p.CopyTo(db.Slice(r * inner, inner));
                    TensorPrimitives.Multiply(p, xb.Slice(r * inner, inner), p);
                }
                dy.Slice(o * inner, inner).CopyTo(p);
                for (int r = n - 1; r >= 0; r--)
                {
                    Span<T> dr = db.Slice(r * inner, inner);
                    TensorPrimitives.Multiply(dr, p, dr);
                    TensorPrimitives.Multiply(p, xb.Slice(r * inner, inner), p);
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(run);
        }
    }

    /// <summary>y[o, r, i] = Π_{s ≤ r} x[o, s, i]; float32 multiplies in double, as PyTorch's CPU kernel.</summary>
    public static void CumProd<T>(ReadOnlySpan<T> x, int outer, int n, int inner, Span<T> y) where T : unmanaged, INumber<T>
    {
        if (n == 0 || inner == 0) return;
        if (inner == 1 && typeof(T) != typeof(float))
        {
            for (int o = 0; o < outer; o++)
            {
                T run = T.One;
                for (int r = o * n; r < (o + 1) * n; r++) { run *= x[r]; y[r] = run; }
            }
            return;
        }
        if (typeof(T) == typeof(float))
        {
            double[] acc = ArrayPool<double>.Shared.Rent(inner);
            try
            {
                for (int o = 0; o < outer; o++)
                {
                    Span<double> a = acc.AsSpan(0, inner);
                    a.Fill(1);
                    for (int r = 0; r < n; r++)
                    {
                        int at = (o * n + r) * inner;
                        for (int i = 0; i < inner; i++)
                        {
                            a[i] *= double.CreateTruncating(x[at + i]);
                            y[at + i] = T.CreateTruncating(a[i]);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(acc);
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<T> xb = x.Slice(o * n * inner, n * inner);
            Span<T> yb = y.Slice(o * n * inner, n * inner);
            xb[..inner].CopyTo(yb);
            for (int r = 1; r < n; r++)
                TensorPrimitives.Multiply(yb.Slice((r - 1) * inner, inner), xb.Slice(r * inner, inner), yb.Slice(r * inner, inner));
        }
    }

    /// <summary>
    /// Gradient of the running product: dx_r = E_r · S_r with E_r = Π_{s &lt; r} x_s and
    /// S_r = Σ_{j ≥ r} dy_j Π_{r &lt; s ≤ j} x_s, the latter by the recurrence S_r = dy_r + x_{r+1}·S_{r+1}
    /// (run from the end). No division, so zeros in x are exact.
    /// </summary>
    public static void CumProdBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, int outer, int n, int inner, Span<T> dx) where T : unmanaged, INumber<T>
    {
        if (n == 0 || inner == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<T> xr = x.Slice(o * n, n), dr = dy.Slice(o * n, n);
                Span<T> gr = dx.Slice(o * n, n);
                T s = dr[n - 1];
                gr[n - 1] = s;
                for (int r = n - 2; r >= 0; r--) { s = dr[r] + xr[r + 1] * s; gr[r] = s; }
                T e = T.One;
                for (int r = 0; r < n; r++) { gr[r] *= e; e *= xr[r]; }
            }
            return;
        }
        T[] run = ArrayPool<T>.Shared.Rent(inner);
        try
        {
            Span<T> e = run.AsSpan(0, inner);
            for (int o = 0; o < outer; o++)
            {
                int block = o * n * inner;
                ReadOnlySpan<T> xb = x.Slice(block, n * inner), db = dy.Slice(block, n * inner);
                Span<T> gb = dx.Slice(block, n * inner);
                db.Slice((n - 1) * inner, inner).CopyTo(gb.Slice((n - 1) * inner, inner));
                for (int r = n - 2; r >= 0; r--)
                    TensorPrimitives.MultiplyAdd(xb.Slice((r + 1) * inner, inner), gb.Slice((r + 1) * inner, inner), db.Slice(r * inner, inner), gb.Slice(r * inner, inner));
                e.Fill(T.One);
                for (int r = 0; r < n; r++)
                {
                    Span<T> gr = gb.Slice(r * inner, inner);
                    TensorPrimitives.Multiply(gr, e, gr);
                    TensorPrimitives.Multiply(e, xb.Slice(r * inner, inner), e);
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(run);
        }
    }
}
