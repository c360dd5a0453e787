using System.Numerics;
using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Optim;

/// <summary>Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients together so that their global p-norm is at most <paramref name="maxNorm"/>
    /// (scale = maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before clipping.
    /// </summary>
    /// <exception cref="ArgumentException">The norm is not finite and <paramref name="errorIfNonfinite"/> is set.</exception>
    public static double ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        var grads = new List<Tensor>();
        foreach (Parameter p in parameters) if (p.Grad is { } g) grads.Add(g);
        if (grads.Count == 0) return 0;
        double total = 0;
        foreach (Tensor g in grads)
        {
            double[] v = g.ToDoubleArray();
            if (double.IsPositiveInfinity(normType))
                foreach (double x in v) total = Math.Max(total, Math.Abs(x));
            else
                foreach (double x in v) total += Math.Pow(Math.Abs(x), normType);
        }
        if (!double.IsPositiveInfinity(normType)) total = Math.Pow(total, 1 / normType);
        if (errorIfNonfinite && !double.IsFinite(total))
            throw new ArgumentException($"ClipGradNorm: the total gradient norm is {total}; the gradients cannot be clipped");
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1)
            using (GradMode.Disable())
                foreach (Tensor g in grads) g.MulInPlace(coef);
        return total;
    }

    /// <summary>Clamps every gradient element into [−clipValue, clipValue].</summary>
    public static void ClipGradValue(IEnumerable<Parameter> parameters, double clipValue)
    {
        if (!(clipValue >= 0)) throw new ArgumentException($"ClipGradValue: clip value must be non-negative, got {clipValue}");
        foreach (Parameter p in parameters)
        {
            if (p.Grad is not Tensor g) continue;
            Tensor c = g.Contiguous();
            DTypeSwitch.Float(c.DType, new ClampKernel(c, clipValue));
            if (!ReferenceEquals(c, g)) using (GradMode.Disable()) g.CopyFrom(c);
            g.BumpVersion();
        }
    }

    private readonly struct ClampKernel(Tensor x, double bound) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Span<T> s = x.Elements<T>();
            T lo = T.CreateTruncating(-bound), hi = T.CreateTruncating(bound);
            for (int i = 0; i < s.Length; i++) s[i] = T.Clamp(s[i], lo, hi);
        }
    }
}
