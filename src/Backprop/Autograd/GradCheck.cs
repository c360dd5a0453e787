using System.Text;

namespace Backprop;

/// <summary>
/// Compares autograd gradients with central finite differences in float64. Use it to test
/// ops and custom functions: f's output is projected onto a fixed random direction, so any
/// output shape works.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Checks first derivatives of f with respect to every input that requires grad.
    /// </summary>
    /// <param name="f">The function; must be deterministic.</param>
    /// <param name="inputs">Float64 inputs; those with RequiresGrad are checked.</param>
    /// <param name="eps">Finite-difference step.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance (against the numeric value).</param>
    /// <exception cref="GradCheckException">An analytic gradient differs from the numeric one.</exception>
    public static void Verify(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        string? failure = Compare(f, inputs, eps, atol, rtol, out _);
        if (failure is not null) throw new GradCheckException(failure);
    }

    /// <summary>
    /// Checks second derivatives: differentiates v·∇f (built with createGraph) against finite
    /// differences of the first-order gradient.
    /// </summary>
    /// <exception cref="GradCheckException">A second derivative differs from the numeric one.</exception>
    public static void VerifySecondOrder(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        Tensor[] diff = Differentiable(inputs);
        var directions = new Tensor[diff.Length];
        var g = new Generator(12345);
        for (int i = 0; i < diff.Length; i++) directions[i] = Tensor.Uniform(diff[i].Shape, -1, 1, DType.Float64, g);

        Tensor FirstOrder(Tensor[] xs)
        {
            Tensor y = Project(f(xs));
            Tensor[] wrt = Differentiable(xs);
            Tensor?[] grads = Autograd.Grad([y], wrt, createGraph: true, allowUnused: true);
            Tensor total = Tensor.Scalar(0, DType.Float64);
            for (int i = 0; i < grads.Length; i++)
                if (grads[i] is { } gi) total = total + (gi * directions[i]).Sum();
            return total;
        }

        string? failure = Compare(FirstOrder, inputs, eps, atol, rtol, out _);
        if (failure is not null) throw new GradCheckException("second order: " + failure);
    }

    /// <summary>The worst |analytic − numeric| / (1 + |numeric|) over all checked elements.</summary>
    public static double MaxError(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6)
    {
        Compare(f, inputs, eps, double.PositiveInfinity, 0, out double worst);
        return worst;
    }

    private static Tensor[] Differentiable(Tensor[] xs)
    {
        int n = 0;
        foreach (Tensor x in xs) if (x.RequiresGrad) n++;
        var result = new Tensor[n];
        n = 0;
        foreach (Tensor x in xs) if (x.RequiresGrad) result[n++] = x;
        return result;
    }

    // A fixed pseudo-random weighting turns any output into a scalar whose gradient exercises every output element.
    private static Tensor Project(Tensor y)
    {
        if (y.DType != DType.Float64)
            throw new ArgumentException($"GradCheck: the function must return float64, got {y.DType.Name()} (shape {y.Shape})");
        Tensor w = Tensor.Uniform(y.Shape, 0.5, 1.5, DType.Float64, new Generator(777));
        return (y * w).Sum();
    }

    private static string? Compare(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps, double atol, double rtol, out double worst)
    {
        worst = 0;
        foreach (Tensor x in inputs)
        {
            if (!x.RequiresGrad) continue;
            if (x.DType != DType.Float64 || !x.IsLeaf || !x.IsContiguous)
                throw new ArgumentException($"GradCheck: inputs that require grad must be contiguous float64 leaves, got {x.DType.Name()} shape {x.Shape}");
        }
        Tensor[] wrt = Differentiable(inputs);
        Tensor?[] analytic = Autograd.Grad([Project(f(inputs))], wrt, allowUnused: true);

        var report = new StringBuilder();
        for (int k = 0; k < wrt.Length; k++)
        {
            Tensor x = wrt[k];
            int inputIndex = Array.IndexOf(inputs, x);
            double[] a = analytic[k]?.ToDoubleArray() ?? new double[x.Numel];
            Span<double> v = x.Elements<double>();
            for (int i = 0; i < v.Length; i++)
            {
                double saved = v[i];
                v[i] = saved + eps;
                double up = Project(f(inputs)).Item();
                v[i] = saved - eps;
                double down = Project(f(inputs)).Item();
                v[i] = saved;
                double numeric = (up - down) / (2 * eps);
                double gap = Math.Abs(numeric - a[i]);
                worst = Math.Max(worst, gap / (1 + Math.Abs(numeric)));
                if (gap > atol + rtol * Math.Abs(numeric) && report.Length < 2000)
                    report.Append($"input {inputIndex} (shape {x.Shape}) element {i}: analytic {a[i]:G10}, numeric {numeric:G10}\n");
            }
        }
        return report.Length == 0 ? null : "gradient mismatch\n" + report;
    }
}

/// <summary>Thrown by <see cref="GradCheck"/> when analytic and numeric gradients disagree.</summary>
public sealed class GradCheckException(string message) : Exception(message);
