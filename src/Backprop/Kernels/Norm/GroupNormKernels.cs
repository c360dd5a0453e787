using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Threading;

namespace Backprop.Kernels.Norm;

/// <summary>
/// Group normalisation over x laid out as [n, c, s] (s = the spatial size): the c channels form
/// <c>groups</c> groups of c/groups, and each (sample, group) row of d = (c/groups)·s contiguous elements
/// is normalised by its own mean and biased variance, then scaled and shifted per channel.
/// Rows (and in the backward, channel planes) are independent and split over the threads; the
/// per-channel parameter gradients are then summed over the samples in order, so no result depends
/// on the thread count.
/// </summary>
internal static unsafe class GroupNormKernels
{
    /// <summary>Below this many elements the work stays on the calling thread.</summary>
    private const int ParallelMinElements = 1 << 15;

    /// <summary>
    /// y = (x − mean)·rstd·w[ch] + b[ch] per row (sample, group), rstd = 1/√(var + eps); mean and rstd
    /// get one value per row ([n, groups]). w and b may be empty (no affine). Every element of y is written.
    /// </summary>
    /// <exception cref="ArgumentException">The buffers do not fit the sizes.</exception>
    public static void Forward<T>(ReadOnlySpan<T> x, int n, int c, int s, int groups, ReadOnlySpan<T> w, ReadOnlySpan<T> b, T eps,
                                  Span<T> y, Span<T> mean, Span<T> rstd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long total = (long)n * c * s;
        if (groups <= 0 || c % groups != 0 || x.Length < total || y.Length < total || mean.Length < n * groups || rstd.Length < n * groups
            || !w.IsEmpty && w.Length < c || !b.IsEmpty && b.Length < c)
            throw new ArgumentException($"GroupNorm: buffers do not fit [{n}, {c}, {s}] in {groups} groups");
        fixed (T* px = x, pw = w, pb = b, py = y, pm = mean, pr = rstd)
        {
            var body = new ForwardBody<T>
            {
                X = px, W = pw, B = pb, Y = py, Mean = pm, Rstd = pr, Cg = c / groups, S = s, Groups = groups, Eps = eps,
                HasW = !w.IsEmpty, HasB = !b.IsEmpty,
            };
            if (total < ParallelMinElements) body.Invoke(0, n * groups);
            else Parallelism.ParallelFor(n * groups, 1, ref body);
        }
    }

    private struct ForwardBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* X, W, B, Y, Mean, Rstd;
        public int Cg, S, Groups;
        public T Eps;
        public bool HasW, HasB;

        public readonly void Invoke(int start, int end)
        {
            int d = Cg * S;
            T count = T.CreateTruncating(d);
            for (int r = start; r < end; r++)
            {
                var xr = new ReadOnlySpan<T>(X + (nint)r * d, d);
                var yr = new Span<T>(Y + (nint)r * d, d);
                T m = TensorPrimitives.Sum(xr) / count;
                TensorPrimitives.Subtract(xr, m, yr); // two passes: the variance of x − mean
                T rs = T.One / T.Sqrt(TensorPrimitives.SumOfSquares<T>(yr) / count + Eps);
                Mean[r] = m;
                Rstd[r] = rs;
                int ch0 = r % Groups * Cg;
                for (int j = 0; j < Cg; j++)
                {
                    Span<T> plane = yr.Slice(j * S, S);
                    TensorPrimitives.Multiply(plane, HasW ? rs * W[ch0 + j] : rs, plane);
                    if (HasB) TensorPrimitives.Add(plane, B[ch0 + j], plane);
                }
            }
        }
    }

    /// <summary>
    /// Gradients of <see cref="Forward{T}"/> for dy [n, c, s], with x̂ = (x − mean)·rstd and g = dy·w
    /// (w empty: 1), per row of d elements: dx = rstd·(g − Σg/d − x̂·Σ(g·x̂)/d); per channel
    /// dw = Σ dy·x̂ and db = Σ dy over samples and positions. All outputs are written (empty ones skipped).
    /// </summary>
    /// <exception cref="ArgumentException">The buffers do not fit the sizes.</exception>
    public static void Backward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int n, int c, int s, int groups, ReadOnlySpan<T> w,
                                   ReadOnlySpan<T> mean, ReadOnlySpan<T> rstd, Span<T> dx, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long total = (long)n * c * s;
        if (groups <= 0 || c % groups != 0 || dy.Length < total || x.Length < total || mean.Length < n * groups || rstd.Length < n * groups
            || !w.IsEmpty && w.Length < c || !dx.IsEmpty && dx.Length < total || !dw.IsEmpty && dw.Length < c || !db.IsEmpty && db.Length < c)
            throw new ArgumentException($"GroupNorm backward: buffers do not fit [{n}, {c}, {s}] in {groups} groups");
        // Per (sample, channel): Σ_s dy·x and Σ_s dy, from which every gradient follows.
        T[] sums = ArrayPool<T>.Shared.Rent(Math.Max(2 * n * c, 1));
        try
        {
            bool parallel = total >= ParallelMinElements;
            fixed (T* pdy = dy, px = x, pw = w, pm = mean, pr = rstd, pdx = dx, psums = sums)
            {
                var planes = new PlaneSumsBody<T> { Dy = pdy, X = px, DyX = psums, SumDy = psums + (nint)n * c, S = s };
                if (parallel) Parallelism.ParallelFor(n * c, 1, ref planes);
                else planes.Invoke(0, n * c);
                if (!dx.IsEmpty)
                {
                    var rows = new InputGradBody<T>
                    {
                        Dy = pdy, X = px, W = pw, Mean = pm, Rstd = pr, Dx = pdx, DyX = planes.DyX, SumDy = planes.SumDy,
                        C = c, Cg = c / groups, S = s, Groups = groups, HasW = !w.IsEmpty,
                    };
                    if (parallel) Parallelism.ParallelFor(n * groups, 1, ref rows);
                    else rows.Invoke(0, n * groups);
                }
            }
            Span<T> dyx = sums.AsSpan(0, n * c), sumDy = sums.AsSpan(n * c, n * c);
            dw.Clear();
            db.Clear();
            int cg = c / groups;
            for (int i = 0; i < n; i++)
                for (int ch = 0; ch < c; ch++)
                {
                    int row = i * groups + ch / cg, at = i * c + ch;
                    if (!dw.IsEmpty) dw[ch] += rstd[row] * (dyx[at] - mean[row] * sumDy[at]); // Σ dy·x̂
                    if (!db.IsEmpty) db[ch] += sumDy[at];
                }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(sums);
        }
    }

    private struct PlaneSumsBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, X, DyX, SumDy;
        public int S;

        public readonly void Invoke(int start, int end)
        {
            for (int p = start; p < end; p++)
            {
                var dyp = new ReadOnlySpan<T>(Dy + (nint)p * S, S);
                DyX[p] = TensorPrimitives.Dot(dyp, new ReadOnlySpan<T>(X + (nint)p * S, S));
                SumDy[p] = TensorPrimitives.Sum(dyp);
            }
        }
    }

    /// <summary>dx of rows [start, end) as dx = a_ch·dy + k·x + k0 per channel plane.</summary>
    private struct InputGradBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Dy, X, W, Mean, Rstd, Dx, DyX, SumDy;
        public int C, Cg, S, Groups;
        public bool HasW;

        public readonly void Invoke(int start, int end)
        {
            T d = T.CreateTruncating(Cg * S);
            for (int r = start; r < end; r++)
            {
                int i = r / Groups, ch0 = r % Groups * Cg;
                T m = Mean[r], rs = Rstd[r];
                T sumG = T.Zero, sumGx = T.Zero; // Σ g and Σ g·x over the row, g = dy·w
                for (int j = 0; j < Cg; j++)
                {
                    T wj = HasW ? W[ch0 + j] : T.One;
                    sumG += wj * SumDy[i * C + ch0 + j];
                    sumGx += wj * DyX[i * C + ch0 + j];
                }
                T sumGxhat = rs * (sumGx - m * sumG);             // Σ g·x̂
                T k = -rs * rs * sumGxhat / d;                     // coefficient of x
                T k0 = rs * rs * m * sumGxhat / d - rs * sumG / d; // constant
                for (int j = 0; j < Cg; j++)
                {
                    nint at = ((nint)i * C + ch0 + j) * S;
                    var dxp = new Span<T>(Dx + at, S);
                    TensorPrimitives.Multiply(new ReadOnlySpan<T>(Dy + at, S), rs * (HasW ? W[ch0 + j] : T.One), dxp);
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<T>(X + at, S), k, dxp, dxp);
                    TensorPrimitives.Add(dxp, k0, dxp);
                }
            }
        }
    }
}
