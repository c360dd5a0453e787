using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Loss;
using Backprop.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Backprop.Ops.Loss;

/// <summary>
/// Checks, reductions and kernel calls shared by the element-wise losses (L1, smooth L1, Huber, BCE, KL
/// divergence): ℓ(x, t) per element, optionally weighted, then none, sum, mean or (KL only) batchmean.
/// </summary>
internal static class PointwiseLoss
{
    /// <summary>Throws for <see cref="Reduction.BatchMean"/>, which only the KL divergence takes (PyTorch raises too).</summary>
    /// <exception cref="ArgumentException">The reduction is BatchMean or not a defined value.</exception>
    public static void CheckReduction(Reduction reduction, string op)
    {
        if (reduction == Reduction.BatchMean)
            throw new ArgumentException($"{op}: reduction BatchMean is only defined for KLDiv; use None, Mean or Sum");
        if (reduction is not (Reduction.None or Reduction.Mean or Reduction.Sum))
            throw new ArgumentException($"{op}: {(int)reduction} is not a valid reduction");
    }

    /// <summary>
    /// Float input and target of one dtype and the same shape. Deliberately unlike PyTorch, which warns
    /// and broadcasts (an [N, 1] prediction against an [N] target becomes an [N, N] loss), as MseLoss.
    /// </summary>
    /// <exception cref="ArgumentException">The dtypes or shapes differ, or the input is not float.</exception>
    public static void CheckOperands(Tensor input, Tensor target, string op)
    {
        input.CheckFloat(op);
        if (input.DType != target.DType)
            throw new ArgumentException($"{op}: input dtype {input.DType.Name()} (shape {input.Shape}) differs from target dtype {target.DType.Name()} (shape {target.Shape})");
        if (input.Shape != target.Shape)
            throw new ArgumentException($"{op}: input shape {input.Shape} differs from target shape {target.Shape}; "
                + "the loss does not broadcast (an [N, 1] input against an [N] target would compare every pair). Reshape one side, or BroadcastTo explicitly");
    }

    /// <summary>What a reduced loss is divided by: the element count for Mean, the batch size (dim 0; 1 for a 0-d input) for BatchMean, else 1.</summary>
    public static double Divisor(Reduction reduction, Shape input) => reduction switch
    {
        Reduction.Mean => input.Numel,
        Reduction.BatchMean => input.Rank == 0 ? 1 : input[0],
        _ => 1,
    };

    /// <summary>The elements in row-major order, outside the graph.</summary>
    public static Tensor Packed(Tensor t)
    {
        using (GradMode.Disable()) return t.Detach().Contiguous();
    }

    /// <summary>Per-element losses (None: a tensor of the input's shape) or their sum divided by <see cref="Divisor"/> (a 0-d tensor; an empty mean is NaN, as PyTorch).</summary>
    public static Tensor Compute<TF, TD>(Tensor x, Tensor t, Tensor? w, Reduction reduction, TF f, TD d)
        where TF : struct, ILossTerm<float> where TD : struct, ILossTerm<double>
    {
        if (reduction == Reduction.None)
        {
            var losses = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
            if (x.DType == DType.Float32) PointwiseLossKernels.Losses(f, x.ReadOnlyElements<float>(), t.ReadOnlyElements<float>(), Read<float>(w), losses.Elements<float>());
            else PointwiseLossKernels.Losses(d, x.ReadOnlyElements<double>(), t.ReadOnlyElements<double>(), Read<double>(w), losses.Elements<double>());
            return losses;
        }
        double sum = x.DType == DType.Float32
            ? PointwiseLossKernels.Sum(f, x.ReadOnlyElements<float>(), t.ReadOnlyElements<float>(), Read<float>(w))
            : PointwiseLossKernels.Sum(d, x.ReadOnlyElements<double>(), t.ReadOnlyElements<double>(), Read<double>(w));
        return Tensor.Scalar(sum / Divisor(reduction, x.Shape), x.DType);
    }

    /// <summary>dx and dt (each may be null: not computed) for the scalar upstream factor g, or per element gs when not null.</summary>
    public static void Grads<TF, TD>(TF f, TD d, Tensor x, Tensor t, Tensor? w, double g, Tensor? gs, Tensor? dx, Tensor? dt)
        where TF : struct, ILossTerm<float> where TD : struct, ILossTerm<double>
    {
        if (x.DType == DType.Float32)
            PointwiseLossKernels.Grads(f, x.ReadOnlyElements<float>(), t.ReadOnlyElements<float>(), Read<float>(w), (float)g, Read<float>(gs),
                Write<float>(dx), Write<float>(dt));
        else
            PointwiseLossKernels.Grads(d, x.ReadOnlyElements<double>(), t.ReadOnlyElements<double>(), Read<double>(w), g, Read<double>(gs),
                Write<double>(dx), Write<double>(dt));
    }

    /// <summary>Throws unless every element of the contiguous probabilities <paramref name="x"/> is in [0, 1] (NaN is not).</summary>
    /// <exception cref="ArgumentException">An element is outside [0, 1]; the message gives the first one and its position.</exception>
    public static void CheckProbabilities(Tensor x, string op)
    {
        if (x.Numel == 0) return;
        bool ok = x.DType == DType.Float32 ? InUnitInterval(x.ReadOnlyElements<float>()) : InUnitInterval(x.ReadOnlyElements<double>());
        if (ok) return;
        double[] v = x.ToDoubleArray();
        int i = Array.FindIndex(v, e => !(e >= 0 && e <= 1));
        throw new ArgumentException($"{op}: all elements of input should be between 0 and 1 (probabilities; for logits use BinaryCrossEntropyWithLogits), but element {i} of input shape {x.Shape} is {v[i]}");
    }

    private static bool InUnitInterval<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.Min(x) >= T.Zero && TensorPrimitives.Max(x) <= T.One; // Min and Max return NaN if any element is NaN

    private static ReadOnlySpan<T> Read<T>(Tensor? t) where T : unmanaged => t is null ? default : t.ReadOnlyElements<T>();

    private static Span<T> Write<T>(Tensor? t) where T : unmanaged => t is null ? default : t.Elements<T>();
}

/// <summary>
/// The node of an element-wise loss: saves input and target (and a constant weight), and runs the
/// backward as one fused kernel, or as tensor ops when it is recorded (createGraph) so it can be
/// differentiated again. Each loss supplies its kernel and its tensor-op derivative.
/// </summary>
internal abstract class PointwiseLossNode : Node
{
    private readonly SavedTensor _x, _t;
    private readonly SavedTensor? _w;   // constant, detached, contiguous, of the input's shape
    private readonly Reduction _reduction;
    private readonly double _scale;     // 1/divisor: the factor a reduced loss's upstream gradient takes

    private protected PointwiseLossNode(Tensor input, Tensor target, Tensor? weight, Reduction reduction) : base(input, target)
    {
        _x = Save(input);
        _t = Save(target);
        if (weight is not null) _w = Save(weight);
        _reduction = reduction;
        _scale = 1 / PointwiseLoss.Divisor(reduction, input.Shape);
    }

    protected internal sealed override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value, t = _t.Value;
        if (!GradMode.Records(dy, x, t)) return Fused(dy, x, t);
        Tensor g = _reduction == Reduction.None ? dy : dy * _scale;
        if (_w is not null) g = g * _w.Value;
        var (dx, dt) = Recorded(x, t, g, NeedsInputGrad(0), NeedsInputGrad(1));
        return [dx, dt];
    }

    private Tensor?[] Fused(Tensor dy, Tensor x, Tensor t)
    {
        Tensor xc = x.Contiguous(), tc = t.Contiguous(); // grad mode is off here: nothing is recorded
        Tensor? gs = _reduction == Reduction.None ? dy.Contiguous() : null;
        double g = gs is null ? dy.Item() * _scale : 0;
        Tensor? dx = NeedsInputGrad(0) ? NewInputGradient(0, x.Shape, x.DType, clear: false) : null; // the kernel writes every element
        Tensor? dt = NeedsInputGrad(1) ? NewInputGradient(1, t.Shape, t.DType, clear: false) : null;
        Kernel(xc, tc, _w?.Value, g, gs, dx, dt);
        return [dx, dt];
    }

    /// <summary>The fused backward: <see cref="PointwiseLoss.Grads"/> with this loss's term.</summary>
    private protected abstract void Kernel(Tensor x, Tensor t, Tensor? w, double g, Tensor? gs, Tensor? dx, Tensor? dt);

    /// <summary>(dx, dt) as tensor ops for the upstream factor <paramref name="g"/> (scalar or per element, weight included); null where not wanted.</summary>
    private protected abstract (Tensor? Dx, Tensor? Dt) Recorded(Tensor x, Tensor t, Tensor g, bool wantX, bool wantT);
}
