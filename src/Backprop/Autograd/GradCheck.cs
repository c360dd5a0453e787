using System.Text;
using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>
/// Compares autograd gradients with central finite differences in float64. Use it to test
/// ops and custom functions: f's output is projected onto a fixed random direction, so any
/// output shape works.
/// </summary>
/// <remarks>
/// First-order checks run the analytic gradient through both paths of the engine and hold each
/// to the numbers: <see cref="Gradients.Grad(Tensor[], Tensor[], Tensor?[], bool?, bool, bool)"/>
/// (which captures gradients and so turns the engine's buffer-ownership and in-place shortcuts
/// off), and <see cref="Tensor.Backward"/> on fresh leaf copies of the inputs, the path a training
/// step takes (gradients accumulated into .Grad, shortcuts on, no hooks). The two must also agree
/// to rounding (relative 1e-12), and the .Backward() result must repeat bit for bit after a
/// ZeroGrad that drops the gradients and after one that zeroes them in place, which catches
/// buffers that are reused wrongly. The inputs' own .Grad, and that of other leaves f uses (a
/// module's parameters), are left as they were.
/// </remarks>
public static class GradCheck
{
    /// <summary>
    /// Checks first derivatives of f with respect to every input that requires grad, through both
    /// <see cref="Gradients.Grad(Tensor[], Tensor[], Tensor?[], bool?, bool, bool)"/> and
    /// <see cref="Tensor.Backward"/> (see the remarks on <see cref="GradCheck"/>).
    /// </summary>
    /// <param name="f">The function; must be deterministic and compute from the tensors it is given (it also runs on copies of them).</param>
    /// <param name="inputs">Float64 inputs; those with RequiresGrad are checked.</param>
    /// <param name="eps">Finite-difference step.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance (against the numeric value).</param>
    /// <exception cref="GradCheckException">An analytic gradient differs from the numeric one, the two
    /// analytic paths differ, or a repeated .Backward() gives a different result.</exception>
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
            Tensor?[] grads = Gradients.Grad([y], wrt, createGraph: true, allowUnused: true);
            Tensor total = Tensor.Scalar(0, DType.Float64);
            for (int i = 0; i < grads.Length; i++)
                if (grads[i] is { } gi) total = total + (gi * directions[i]).Sum();
            return total;
        }

        string? failure = Compare(FirstOrder, inputs, eps, atol, rtol, out _);
        if (failure is not null) throw new GradCheckException("second order: " + failure);
    }

    /// <summary>
    /// The worst |analytic − numeric| / (1 + |numeric|) over all checked elements and both analytic
    /// paths (Gradients.Grad and .Backward()); never throws for a mismatch.
    /// </summary>
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
        Tensor?[] analytic = Gradients.Grad([Project(f(inputs))], wrt, allowUnused: true);
        var report = new StringBuilder();
        double[][] trained = ViaBackward(f, inputs, report);

        for (int k = 0; k < wrt.Length; k++)
        {
            Tensor x = wrt[k];
            int inputIndex = Array.IndexOf(inputs, x);
            double[] a = analytic[k]?.ToDoubleArray() ?? new double[x.Numel];
            double[] b = trained[k];
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
                double tolerance = atol + rtol * Math.Abs(numeric);
                double gap = Math.Abs(numeric - a[i]), gapBackward = Math.Abs(numeric - b[i]);
                worst = Math.Max(worst, Math.Max(gap, gapBackward) / (1 + Math.Abs(numeric)));
                if (report.Length >= 2000) continue;
                if (gap > tolerance)
                    report.Append($"Gradients.Grad: input {inputIndex} (shape {x.Shape}) element {i}: analytic {a[i]:G10}, numeric {numeric:G10}\n");
                if (gapBackward > tolerance)
                    report.Append($".Backward(): input {inputIndex} (shape {x.Shape}) element {i}: analytic {b[i]:G10}, numeric {numeric:G10}\n");
                // Both paths run the same backward formulas; only the engine's buffer handling differs.
                if (!(Math.Abs(a[i] - b[i]) <= PathTolerance * (1 + Math.Abs(a[i]))) && !(double.IsNaN(a[i]) && double.IsNaN(b[i])))
                    report.Append($".Backward() vs Gradients.Grad: input {inputIndex} (shape {x.Shape}) element {i}: {b[i]:G17} vs {a[i]:G17}\n");
            }
        }
        return report.Length == 0 ? null : "gradient mismatch\n" + report;
    }

    // Relative gap allowed between the two analytic paths: rounding only, not a formula.
    private const double PathTolerance = 1e-12;

    /// <summary>
    /// The gradients a training step would see: f runs on fresh leaf copies of the inputs and
    /// <see cref="Tensor.Backward"/> accumulates into their .Grad with the engine's ownership and
    /// in-place shortcuts on (no capture, no hooks). The backward then runs twice more, after a
    /// ZeroGrad that drops the gradients (their buffers go back to the pool) and after one that
    /// zeroes them in place (the next backward adds into them); both must repeat the first result
    /// bit for bit. Leaves of the graph that are not inputs (e.g. module parameters captured by f)
    /// get their .Grad back as it was.
    /// </summary>
    private static double[][] ViaBackward(Func<Tensor[], Tensor> f, Tensor[] inputs, StringBuilder report)
    {
        var copies = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            copies[i] = inputs[i].RequiresGrad ? inputs[i].Detach().Clone().RequireGrad() : inputs[i];
        Tensor[] leaves = Differentiable(copies);

        double[][] first = BackwardOnce(f, copies, leaves);
        foreach (Tensor leaf in leaves) leaf.DropGrad(); // ZeroGrad(setToNone: true)
        CheckRepeat(first, BackwardOnce(f, copies, leaves), "after ZeroGrad(setToNone: true)", copies, report);
        using (GradMode.Disable())
            foreach (Tensor leaf in leaves) leaf.Grad?.ZeroInPlace(); // ZeroGrad(setToNone: false)
        CheckRepeat(first, BackwardOnce(f, copies, leaves), "after ZeroGrad(setToNone: false)", copies, report);
        foreach (Tensor leaf in leaves) leaf.DropGrad();
        return first;
    }

    private static double[][] BackwardOnce(Func<Tensor[], Tensor> f, Tensor[] copies, Tensor[] leaves)
    {
        Tensor y = Project(f(copies));
        List<(Tensor Leaf, Tensor? Grad)> others = OtherLeaves(y, leaves);
        foreach (var (leaf, _) in others) leaf.Grad = null;
        try
        {
            y.Backward();
        }
        finally
        {
            foreach (var (leaf, grad) in others)
            {
                leaf.DropGrad();
                if (grad is not null) leaf.Grad = grad; // the caller's gradient, as it was
            }
        }
        var result = new double[leaves.Length][];
        for (int k = 0; k < leaves.Length; k++)
            result[k] = leaves[k].Grad?.ToDoubleArray() ?? new double[leaves[k].Numel];
        return result;
    }

    /// <summary>Leaves of y's graph other than <paramref name="leaves"/>, with their current .Grad.</summary>
    private static List<(Tensor Leaf, Tensor? Grad)> OtherLeaves(Tensor y, Tensor[] leaves)
    {
        var result = new List<(Tensor, Tensor?)>();
        if (y.GradFn is not { } root) return result;
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance) { root };
        var stack = new Stack<Node>();
        stack.Push(root);
        while (stack.Count > 0)
            foreach (Edge e in stack.Pop().Edges)
            {
                if (e.Node is { } next)
                {
                    if (seen.Add(next)) stack.Push(next);
                }
                else if (e.Leaf is { } leaf && Array.IndexOf(leaves, leaf) < 0 && seen.Add(leaf))
                    result.Add((leaf, leaf.Grad));
            }
        return result;
    }

    private static void CheckRepeat(double[][] first, double[][] again, string when, Tensor[] copies, StringBuilder report)
    {
        int k = 0;
        for (int c = 0; c < copies.Length; c++)
        {
            if (!copies[c].RequiresGrad) continue;
            for (int i = 0; i < first[k].Length && report.Length < 2000; i++)
                if (!first[k][i].Equals(again[k][i]))
                    report.Append($"a second .Backward() {when}: input {c} (shape {copies[c].Shape}) element {i}: {again[k][i]:G17}, first time {first[k][i]:G17}\n");
            k++;
        }
    }
}

/// <summary>Thrown by <see cref="GradCheck"/> when analytic and numeric gradients disagree.</summary>
public sealed class GradCheckException(string message) : Exception(message);
