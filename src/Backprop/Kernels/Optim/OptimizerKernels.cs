using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Kernels.Elementwise;
using Backprop.Threading;

namespace Backprop.Kernels.Optim;

/// <summary>
/// Parameter-update kernels, one pass per parameter, following the operation order of
/// PyTorch's single-tensor implementations so results agree to rounding.
/// </summary>
internal static class OptimizerKernels
{
    /// <summary>Arrays at least this long are updated on all <see cref="Parallelism.ThreadCount"/> threads.</summary>
    private const int ParallelMin = 1 << 16;

    /// <summary>Elements per parallel work unit (a multiple of every vector width).</summary>
    private const int Grain = 1 << 13;

    /// <summary>
    /// SGD with optional weight decay, momentum (dampening) and Nesterov. Vectorised with the
    /// scalar loop's operation order and no fused multiply-add, so every element is bit-identical
    /// to <see cref="SgdScalar{T}"/>; large arrays are split over the threads (element-wise, so
    /// the result does not depend on the split).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Sgd<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> buf, bool firstStep,
                                     T lr, T momentum, T dampening, T weightDecay, bool nesterov, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool useMomentum = momentum != T.Zero;
        if (g.Length != p.Length || useMomentum && buf.Length != p.Length)
            throw new ArgumentException($"Sgd: parameter has {p.Length} elements, gradient {g.Length}, momentum buffer {buf.Length}");
        fixed (T* pp = p)
        fixed (T* pg = g)
        fixed (T* pb = buf)
        {
            var body = new SgdBody<T>
            {
                P = pp, G = pg, Buf = pb, FirstStep = firstStep, UseMomentum = useMomentum, Nesterov = nesterov, Maximize = maximize,
                Lr = lr, Momentum = momentum, OneMinusDampening = T.One - dampening, WeightDecay = weightDecay,
            };
            if (p.Length >= ParallelMin) Parallelism.ParallelFor(p.Length, Grain, ref body, Parallelism.BalancedChunks);
            else body.Invoke(0, p.Length);
        }
    }

    private unsafe struct SgdBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* P, G, Buf;
        public bool FirstStep, UseMomentum, Nesterov, Maximize;
        public T Lr, Momentum, OneMinusDampening, WeightDecay;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int start, int end)
        {
            int i = start;
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported) i = Vectors<Width512<T>, Vector512<T>>(i, end);
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported) i = Vectors<Width256<T>, Vector256<T>>(i, end);
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported) i = Vectors<Width128<T>, Vector128<T>>(i, end);
            T* p = P, g = G, buf = Buf;
            int n = end - i;
            if (n > 0)
                SgdRange(new Span<T>(p + i, n), new ReadOnlySpan<T>(g + i, n), UseMomentum ? new Span<T>(buf + i, n) : default,
                         FirstStep, Lr, Momentum, OneMinusDampening, WeightDecay, Nesterov, Maximize);
        }

        /// <summary>Whole vectors of <typeparamref name="TW"/> from <paramref name="i"/> on; returns where they stop.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly int Vectors<TW, TV>(int i, int end) where TW : ISimdWidth<T, TV> where TV : struct
        {
            T* p = P, g = G, buf = Buf;
            bool decay = WeightDecay != T.Zero;
            TV lr = TW.Splat(Lr), mom = TW.Splat(Momentum), omd = TW.Splat(OneMinusDampening), wd = TW.Splat(WeightDecay);
            for (; i <= end - TW.Count; i += TW.Count)
            {
                TV d = TW.Load(g + i);
                if (Maximize) d = TW.Neg(d);
                TV w = TW.Load(p + i);
                if (decay) d = TW.Add(d, TW.Mul(wd, w));
                if (UseMomentum)
                {
                    TV b = FirstStep ? d : TW.Add(TW.Mul(TW.Load(buf + i), mom), TW.Mul(omd, d));
                    TW.Store(buf + i, b);
                    d = Nesterov ? TW.Add(d, TW.Mul(mom, b)) : b;
                }
                TW.Store(p + i, TW.Sub(w, TW.Mul(lr, d)));
            }
            return i;
        }
    }

    /// <summary>The scalar SGD loop: the reference of <see cref="Sgd{T}"/> and its tail.</summary>
    internal static void SgdScalar<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> buf, bool firstStep,
                                      T lr, T momentum, T dampening, T weightDecay, bool nesterov, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
        => SgdRange(p, g, buf, firstStep, lr, momentum, T.One - dampening, weightDecay, nesterov, maximize);

    private static void SgdRange<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> buf, bool firstStep,
                                    T lr, T momentum, T oneMinusDampening, T weightDecay, bool nesterov, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool useMomentum = momentum != T.Zero;
        for (int i = 0; i < p.Length; i++)
        {
            T d = maximize ? -g[i] : g[i];
            if (weightDecay != T.Zero) d += weightDecay * p[i];
            if (useMomentum)
            {
                T b = firstStep ? d : buf[i] * momentum + oneMinusDampening * d;
                buf[i] = b;
                d = nesterov ? d + momentum * b : b;
            }
            p[i] -= lr * d;
        }
    }

    /// <summary>
    /// Adam / AdamW (decoupled weight decay) with optional AMSGrad. Vectorised like
    /// <see cref="Sgd{T}"/>: same operation order as <see cref="AdamScalar{T}"/>, bit-identical results.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Adam<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> expAvg, Span<T> expAvgSq, Span<T> maxExpAvgSq,
                                      long step, double lr, double beta1, double beta2, double eps, double weightDecay,
                                      bool decoupled, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.Length != p.Length || expAvg.Length != p.Length || expAvgSq.Length != p.Length || amsgrad && maxExpAvgSq.Length != p.Length)
            throw new ArgumentException($"Adam: parameter has {p.Length} elements, gradient {g.Length}, state {expAvg.Length}/{expAvgSq.Length}/{maxExpAvgSq.Length}");
        AdamCoefficients<T> c = AdamCoefficients<T>.Create(step, lr, beta1, beta2, eps, weightDecay);
        fixed (T* pp = p)
        fixed (T* pg = g)
        fixed (T* pm = expAvg)
        fixed (T* pv = expAvgSq)
        fixed (T* pvm = maxExpAvgSq)
        {
            var body = new AdamBody<T>
            {
                P = pp, G = pg, M = pm, V = pv, VMax = pvm, C = c,
                Decay = weightDecay != 0, Decoupled = decoupled, Amsgrad = amsgrad, Maximize = maximize,
            };
            if (p.Length >= ParallelMin) Parallelism.ParallelFor(p.Length, Grain, ref body, Parallelism.BalancedChunks);
            else body.Invoke(0, p.Length);
        }
    }

    /// <summary>The per-step scalars of Adam, rounded to T once.</summary>
    private readonly struct AdamCoefficients<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly T StepSize, B1Weight, B2, B2Weight, BcSqrt, Eps, Wd, Decay;

        private AdamCoefficients(T stepSize, T b1Weight, T b2, T b2Weight, T bcSqrt, T eps, T wd, T decay)
            => (StepSize, B1Weight, B2, B2Weight, BcSqrt, Eps, Wd, Decay) = (stepSize, b1Weight, b2, b2Weight, bcSqrt, eps, wd, decay);

        public static AdamCoefficients<T> Create(long step, double lr, double beta1, double beta2, double eps, double weightDecay)
        {
            double bc1 = 1 - Math.Pow(beta1, step);
            double bc2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
            return new(T.CreateTruncating(lr / bc1), T.CreateTruncating(1 - beta1), T.CreateTruncating(beta2), T.CreateTruncating(1 - beta2),
                       T.CreateTruncating(bc2Sqrt), T.CreateTruncating(eps), T.CreateTruncating(weightDecay), T.CreateTruncating(1 - lr * weightDecay));
        }
    }

    private unsafe struct AdamBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* P, G, M, V, VMax;
        public AdamCoefficients<T> C;
        public bool Decay, Decoupled, Amsgrad, Maximize;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int start, int end)
        {
            int i = start;
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported) i = Vectors<Width512<T>, Vector512<T>>(i, end);
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported) i = Vectors<Width256<T>, Vector256<T>>(i, end);
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported) i = Vectors<Width128<T>, Vector128<T>>(i, end);
            T* p = P, g = G, mp = M, vp = V, vmax = VMax;
            int n = end - i;
            if (n > 0)
                AdamRange(new Span<T>(p + i, n), new ReadOnlySpan<T>(g + i, n), new Span<T>(mp + i, n), new Span<T>(vp + i, n),
                          Amsgrad ? new Span<T>(vmax + i, n) : default, C, Decay, Decoupled, Amsgrad, Maximize);
        }

        /// <summary>Whole vectors of <typeparamref name="TW"/> from <paramref name="i"/> on; returns where they stop.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly int Vectors<TW, TV>(int i, int end) where TW : ISimdWidth<T, TV> where TV : struct
        {
            T* p = P, g = G, mp = M, vp = V, vmax = VMax;
            TV stepSize = TW.Splat(C.StepSize), b1w = TW.Splat(C.B1Weight), b2 = TW.Splat(C.B2), b2w = TW.Splat(C.B2Weight),
                bcSqrt = TW.Splat(C.BcSqrt), eps = TW.Splat(C.Eps), wd = TW.Splat(C.Wd), decay = TW.Splat(C.Decay);
            for (; i <= end - TW.Count; i += TW.Count)
            {
                TV grad = TW.Load(g + i);
                if (Maximize) grad = TW.Neg(grad);
                TV w = TW.Load(p + i);
                if (Decay)
                {
                    if (Decoupled) w = TW.Mul(w, decay);
                    else grad = TW.Add(grad, TW.Mul(wd, w));
                }
                TV ea = TW.Load(mp + i);
                TV m = TW.Add(ea, TW.Mul(b1w, TW.Sub(grad, ea)));
                TV v = TW.Add(TW.Mul(TW.Load(vp + i), b2), TW.Mul(TW.Mul(b2w, grad), grad));
                TW.Store(mp + i, m);
                TW.Store(vp + i, v);
                if (Amsgrad)
                {
                    v = TW.Max(TW.Load(vmax + i), v);
                    TW.Store(vmax + i, v);
                }
                TV denom = TW.Add(TW.Div(TW.Sqrt(v), bcSqrt), eps);
                TW.Store(p + i, TW.Sub(w, TW.Mul(stepSize, TW.Div(m, denom))));
            }
            return i;
        }
    }

    /// <summary>The scalar Adam loop: the reference of <see cref="Adam{T}"/>.</summary>
    internal static void AdamScalar<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> expAvg, Span<T> expAvgSq, Span<T> maxExpAvgSq,
                                       long step, double lr, double beta1, double beta2, double eps, double weightDecay,
                                       bool decoupled, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
        => AdamRange(p, g, expAvg, expAvgSq, maxExpAvgSq, AdamCoefficients<T>.Create(step, lr, beta1, beta2, eps, weightDecay),
                     weightDecay != 0, decoupled, amsgrad, maximize);

    private static void AdamRange<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> expAvg, Span<T> expAvgSq, Span<T> maxExpAvgSq,
                                     AdamCoefficients<T> c, bool decay, bool decoupled, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < p.Length; i++)
        {
            T grad = maximize ? -g[i] : g[i];
            if (decay)
            {
                if (decoupled) p[i] *= c.Decay;
                else grad += c.Wd * p[i];
            }
            T m = expAvg[i] + c.B1Weight * (grad - expAvg[i]); // lerp toward the gradient
            T v = expAvgSq[i] * c.B2 + c.B2Weight * grad * grad;
            expAvg[i] = m;
            expAvgSq[i] = v;
            if (amsgrad)
            {
                v = T.Max(maxExpAvgSq[i], v);
                maxExpAvgSq[i] = v;
            }
            T denom = T.Sqrt(v) / c.BcSqrt + c.Eps;
            p[i] -= c.StepSize * (m / denom);
        }
    }

    /// <summary>
    /// RMSprop with optional weight decay, centering and momentum. Vectorised like <see cref="Sgd{T}"/>: the scalar
    /// loop's operation order (<see cref="RmsPropScalar{T}"/>), bit-identical; large arrays on all threads.
    /// <paramref name="gradAvg"/> is read only when <paramref name="centered"/>, <paramref name="buf"/> only with momentum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void RmsProp<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> squareAvg, Span<T> gradAvg, Span<T> buf,
                                         T lr, T alpha, T eps, T weightDecay, T momentum, bool centered, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool useMomentum = momentum > T.Zero;
        if (g.Length != p.Length || squareAvg.Length != p.Length || centered && gradAvg.Length != p.Length || useMomentum && buf.Length != p.Length)
            throw new ArgumentException($"RmsProp: parameter has {p.Length} elements, gradient {g.Length}, state {squareAvg.Length}/{gradAvg.Length}/{buf.Length}");
        fixed (T* pp = p)
        fixed (T* pg = g)
        fixed (T* psq = squareAvg)
        fixed (T* pga = gradAvg)
        fixed (T* pb = buf)
        {
            var body = new RmsPropBody<T>
            {
                P = pp, G = pg, Sq = psq, Ga = pga, Buf = pb, Centered = centered, UseMomentum = useMomentum, Maximize = maximize,
                Lr = lr, Alpha = alpha, OneMinusAlpha = T.One - alpha, Eps = eps, WeightDecay = weightDecay, Momentum = momentum,
            };
            if (p.Length >= ParallelMin) Parallelism.ParallelFor(p.Length, Grain, ref body, Parallelism.BalancedChunks);
            else body.Invoke(0, p.Length);
        }
    }

    private unsafe struct RmsPropBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* P, G, Sq, Ga, Buf;
        public bool Centered, UseMomentum, Maximize;
        public T Lr, Alpha, OneMinusAlpha, Eps, WeightDecay, Momentum;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int start, int end)
        {
            int i = start;
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported) i = Vectors<Width512<T>, Vector512<T>>(i, end);
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported) i = Vectors<Width256<T>, Vector256<T>>(i, end);
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported) i = Vectors<Width128<T>, Vector128<T>>(i, end);
            int n = end - i;
            if (n > 0)
                RmsPropRange(new Span<T>(P + i, n), new ReadOnlySpan<T>(G + i, n), new Span<T>(Sq + i, n),
                             Centered ? new Span<T>(Ga + i, n) : default, UseMomentum ? new Span<T>(Buf + i, n) : default,
                             Lr, Alpha, OneMinusAlpha, Eps, WeightDecay, Momentum, Centered, Maximize);
        }

        /// <summary>Whole vectors of <typeparamref name="TW"/> from <paramref name="i"/> on; returns where they stop.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly int Vectors<TW, TV>(int i, int end) where TW : ISimdWidth<T, TV> where TV : struct
        {
            T* p = P, g = G, sqp = Sq, gap = Ga, buf = Buf;
            bool decay = WeightDecay != T.Zero;
            TV lr = TW.Splat(Lr), alpha = TW.Splat(Alpha), oma = TW.Splat(OneMinusAlpha), eps = TW.Splat(Eps);
            TV wd = TW.Splat(WeightDecay), mom = TW.Splat(Momentum);
            for (; i <= end - TW.Count; i += TW.Count)
            {
                TV grad = TW.Load(g + i);
                if (Maximize) grad = TW.Neg(grad);
                TV w = TW.Load(p + i);
                if (decay) grad = TW.Add(grad, TW.Mul(wd, w));
                TV sq = TW.Add(TW.Mul(TW.Load(sqp + i), alpha), TW.Mul(TW.Mul(oma, grad), grad));
                TW.Store(sqp + i, sq);
                TV avg;
                if (Centered)
                {
                    TV ga0 = TW.Load(gap + i);
                    TV ga = TW.Add(ga0, TW.Mul(oma, TW.Sub(grad, ga0)));
                    TW.Store(gap + i, ga);
                    avg = TW.Add(TW.Sqrt(TW.Sub(sq, TW.Mul(ga, ga))), eps);
                }
                else
                    avg = TW.Add(TW.Sqrt(sq), eps);
                if (UseMomentum)
                {
                    TV b = TW.Add(TW.Mul(TW.Load(buf + i), mom), TW.Div(grad, avg));
                    TW.Store(buf + i, b);
                    TW.Store(p + i, TW.Sub(w, TW.Mul(lr, b)));
                }
                else
                    TW.Store(p + i, TW.Sub(w, TW.Mul(lr, TW.Div(grad, avg))));
            }
            return i;
        }
    }

    /// <summary>The scalar RMSprop loop: the reference of <see cref="RmsProp{T}"/>.</summary>
    internal static void RmsPropScalar<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> squareAvg, Span<T> gradAvg, Span<T> buf,
                                          T lr, T alpha, T eps, T weightDecay, T momentum, bool centered, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
        => RmsPropRange(p, g, squareAvg, gradAvg, buf, lr, alpha, T.One - alpha, eps, weightDecay, momentum, centered, maximize);

    private static void RmsPropRange<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> squareAvg, Span<T> gradAvg, Span<T> buf,
                                        T lr, T alpha, T oneMinusAlpha, T eps, T weightDecay, T momentum, bool centered, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < p.Length; i++)
        {
            T grad = maximize ? -g[i] : g[i];
            if (weightDecay != T.Zero) grad += weightDecay * p[i];
            T sq = squareAvg[i] * alpha + oneMinusAlpha * grad * grad;
            squareAvg[i] = sq;
            T avg;
            if (centered)
            {
                T ga = gradAvg[i] + oneMinusAlpha * (grad - gradAvg[i]);
                gradAvg[i] = ga;
                avg = T.Sqrt(sq - ga * ga) + eps;
            }
            else
                avg = T.Sqrt(sq) + eps;
            if (momentum > T.Zero)
            {
                T b = buf[i] * momentum + grad / avg;
                buf[i] = b;
                p[i] -= lr * b;
            }
            else
                p[i] -= lr * (grad / avg);
        }
    }

    /// <summary>
    /// Adagrad with learning-rate decay (<paramref name="clr"/>, the decayed rate) and weight decay. Vectorised like
    /// <see cref="Sgd{T}"/>: bit-identical to <see cref="AdagradScalar{T}"/>; large arrays on all threads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Adagrad<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sum, T clr, T eps, T weightDecay, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (g.Length != p.Length || sum.Length != p.Length)
            throw new ArgumentException($"Adagrad: parameter has {p.Length} elements, gradient {g.Length}, sum {sum.Length}");
        fixed (T* pp = p)
        fixed (T* pg = g)
        fixed (T* ps = sum)
        {
            var body = new AdagradBody<T> { P = pp, G = pg, Sum = ps, Clr = clr, Eps = eps, WeightDecay = weightDecay, Maximize = maximize };
            if (p.Length >= ParallelMin) Parallelism.ParallelFor(p.Length, Grain, ref body, Parallelism.BalancedChunks);
            else body.Invoke(0, p.Length);
        }
    }

    private unsafe struct AdagradBody<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* P, G, Sum;
        public T Clr, Eps, WeightDecay;
        public bool Maximize;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Invoke(int start, int end)
        {
            int i = start;
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported) i = Vectors<Width512<T>, Vector512<T>>(i, end);
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported) i = Vectors<Width256<T>, Vector256<T>>(i, end);
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported) i = Vectors<Width128<T>, Vector128<T>>(i, end);
            int n = end - i;
            if (n > 0)
                AdagradScalar(new Span<T>(P + i, n), new ReadOnlySpan<T>(G + i, n), new Span<T>(Sum + i, n), Clr, Eps, WeightDecay, Maximize);
        }

        /// <summary>Whole vectors of <typeparamref name="TW"/> from <paramref name="i"/> on; returns where they stop.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly int Vectors<TW, TV>(int i, int end) where TW : ISimdWidth<T, TV> where TV : struct
        {
            T* p = P, g = G, sump = Sum;
            bool decay = WeightDecay != T.Zero;
            TV clr = TW.Splat(Clr), eps = TW.Splat(Eps), wd = TW.Splat(WeightDecay);
            for (; i <= end - TW.Count; i += TW.Count)
            {
                TV grad = TW.Load(g + i);
                if (Maximize) grad = TW.Neg(grad);
                TV w = TW.Load(p + i);
                if (decay) grad = TW.Add(grad, TW.Mul(wd, w));
                TV s = TW.Add(TW.Load(sump + i), TW.Mul(grad, grad));
                TW.Store(sump + i, s);
                TW.Store(p + i, TW.Sub(w, TW.Mul(clr, TW.Div(grad, TW.Add(TW.Sqrt(s), eps)))));
            }
            return i;
        }
    }

    /// <summary>The scalar Adagrad loop: the reference of <see cref="Adagrad{T}"/> and its tail.</summary>
    internal static void AdagradScalar<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sum, T clr, T eps, T weightDecay, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < p.Length; i++)
        {
            T grad = maximize ? -g[i] : g[i];
            if (weightDecay != T.Zero) grad += weightDecay * p[i];
            T s = sum[i] + grad * grad;
            sum[i] = s;
            p[i] -= clr * (grad / (T.Sqrt(s) + eps));
        }
    }
}
