using System.Numerics;

namespace Backprop.Tests.Support;

/// <summary>Plain per-element optimizer updates in PyTorch's operation order, the references of the SIMD kernels.</summary>
internal static class OptimizerReference
{
    public static void Sgd<T>(T[] p, T[] g, T[] buf, bool first, T lr, T momentum, T dampening, T weightDecay, bool nesterov, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T oneMinusDampening = T.One - dampening;
        for (int i = 0; i < p.Length; i++)
        {
            T d = maximize ? -g[i] : g[i];
            if (weightDecay != T.Zero) d += weightDecay * p[i];
            if (momentum != T.Zero)
            {
                T b = first ? d : buf[i] * momentum + oneMinusDampening * d;
                buf[i] = b;
                d = nesterov ? d + momentum * b : b;
            }
            p[i] -= lr * d;
        }
    }

    public static void Adam<T>(T[] p, T[] g, T[] m, T[] v, T[] vMax, long step, double lr, double beta1, double beta2, double eps,
                               double weightDecay, bool decoupled, bool amsgrad, bool maximize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T stepSize = T.CreateTruncating(lr / (1 - Math.Pow(beta1, step)));
        T bcSqrt = T.CreateTruncating(Math.Sqrt(1 - Math.Pow(beta2, step)));
        T b1w = T.CreateTruncating(1 - beta1), b2 = T.CreateTruncating(beta2), b2w = T.CreateTruncating(1 - beta2);
        T epsT = T.CreateTruncating(eps), wd = T.CreateTruncating(weightDecay), decay = T.CreateTruncating(1 - lr * weightDecay);
        for (int i = 0; i < p.Length; i++)
        {
            T grad = maximize ? -g[i] : g[i];
            if (weightDecay != 0)
            {
                if (decoupled) p[i] *= decay;
                else grad += wd * p[i];
            }
            m[i] = m[i] + b1w * (grad - m[i]);
            v[i] = v[i] * b2 + b2w * grad * grad;
            T vv = v[i];
            if (amsgrad) vMax[i] = vv = T.Max(vMax[i], vv);
            p[i] -= stepSize * (m[i] / (T.Sqrt(vv) / bcSqrt + epsT));
        }
    }
}
