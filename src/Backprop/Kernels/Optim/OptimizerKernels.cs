using System.Numerics;

namespace Backprop.Kernels;

/// <summary>
/// Parameter-update kernels, one pass per parameter, following the operation order of
/// PyTorch's single-tensor implementations so results agree to rounding.
/// </summary>
internal static class OptimizerKernels
{
    /// <summary>SGD with optional weight decay, momentum (dampening) and Nesterov.</summary>
    public static void Sgd<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> buf, bool firstStep,
                              T lr, T momentum, T dampening, T weightDecay, bool nesterov, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool useMomentum = momentum != T.Zero;
        T oneMinusDampening = T.One - dampening;
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

    /// <summary>Adam / AdamW (decoupled weight decay) with optional AMSGrad.</summary>
    public static void Adam<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> expAvg, Span<T> expAvgSq, Span<T> maxExpAvgSq,
                               long step, double lr, double beta1, double beta2, double eps, double weightDecay,
                               bool decoupled, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double bc1 = 1 - Math.Pow(beta1, step);
        double bc2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
        T stepSize = T.CreateTruncating(lr / bc1);
        T b1Weight = T.CreateTruncating(1 - beta1), b2 = T.CreateTruncating(beta2), b2Weight = T.CreateTruncating(1 - beta2);
        T bcSqrt = T.CreateTruncating(bc2Sqrt), epsT = T.CreateTruncating(eps);
        T wd = T.CreateTruncating(weightDecay), decay = T.CreateTruncating(1 - lr * weightDecay);
        for (int i = 0; i < p.Length; i++)
        {
            T grad = maximize ? -g[i] : g[i];
            if (weightDecay != 0)
            {
                if (decoupled) p[i] *= decay;
                else grad += wd * p[i];
            }
            T m = expAvg[i] + b1Weight * (grad - expAvg[i]); // lerp toward the gradient
            T v = expAvgSq[i] * b2 + b2Weight * grad * grad;
            expAvg[i] = m;
            expAvgSq[i] = v;
            if (amsgrad)
            {
                v = T.Max(maxExpAvgSq[i], v);
                maxExpAvgSq[i] = v;
            }
            T denom = T.Sqrt(v) / bcSqrt + epsT;
            p[i] -= stepSize * (m / denom);
        }
    }

    /// <summary>RMSprop with optional weight decay, centering and momentum.</summary>
    public static void RmsProp<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> squareAvg, Span<T> gradAvg, Span<T> buf,
                                  T lr, T alpha, T eps, T weightDecay, T momentum, bool centered, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T oneMinusAlpha = T.One - alpha;
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

    /// <summary>Adagrad with learning-rate decay and weight decay.</summary>
    public static void Adagrad<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sum, T clr, T eps, T weightDecay, bool maximize)
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
