using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Loss;
using Backprop.Ops.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>
/// Cross-entropy on logits with class-index targets: log-softmax and NLL fused in one kernel,
/// with label smoothing, ignoreIndex and class weights as in PyTorch.
/// </summary>
internal sealed class CrossEntropyNode : Node
{
    private readonly SavedTensor _x, _target;
    private readonly SavedTensor? _weight;
    private readonly Reduction _reduction;
    private readonly double _smoothing, _totalWeight;
    private readonly long _ignoreIndex;

    private CrossEntropyNode(Tensor input, Tensor target, Tensor? weight, Reduction reduction, double smoothing, long ignoreIndex, double totalWeight)
        : base(input) // class weights are constants: PyTorch has no gradient for them either
    {
        _x = Save(input);
        _target = Save(target);
        if (weight is not null) _weight = Save(weight);
        _reduction = reduction;
        _smoothing = smoothing;
        _ignoreIndex = ignoreIndex;
        _totalWeight = totalWeight;
    }

    public static Tensor Forward(Tensor input, Tensor target, Reduction reduction, double labelSmoothing, long ignoreIndex, Tensor? weight)
    {
        const string op = "CrossEntropy";
        PointwiseLoss.CheckReduction(reduction, op);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"{op}: labelSmoothing must be between 0 and 1, got {labelSmoothing}");
        ClassTargets.Validate(input, target, weight, ignoreIndex, op, out int n, out int c, out int s);
        Tensor x = input.Detach().Contiguous();
        Tensor t = target.Contiguous();
        var losses = new Tensor(target.Shape, input.DType);
        double total = DTypeSwitch.Float<LossesKernel, double>(input.DType,
            new LossesKernel(x, t, weight?.Detach().Contiguous(), n, c, s, ignoreIndex, labelSmoothing, losses));
        Tensor y = ClassTargets.Reduce(losses, reduction, total);
        if (GradMode.Records(input))
            y.SetGradFn(new CrossEntropyNode(input, target, weight, reduction, labelSmoothing, ignoreIndex, total));
        return y;
    }

    /// <summary>Per-position losses into <c>losses</c>; returns the total weight of the non-ignored targets.</summary>
    private readonly struct LossesKernel(Tensor x, Tensor target, Tensor? weight, int n, int c, int s, long ignoreIndex, double smoothing, Tensor losses)
        : IFloatFunc<double>
    {
        public double Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ClassLossKernel.CrossEntropy(x.ReadOnlyElements<T>(), target.ReadOnlyElements<long>(), weight is null ? default : weight.ReadOnlyElements<T>(),
                                            n, c, s, ignoreIndex, smoothing, losses.Elements<T>());
    }

    // With p = softmax(x), t the target, w the class weights, ε the smoothing and C classes:
    // dloss/dx_k = p_k·[(1 − ε)w_t + (ε/C)Σw] − [(ε/C)w_k + (1 − ε)w_t·δ_kt], i.e. (softmax − smoothed
    // one-hot) scaled by the weights; divided by Σ w_t for the mean, 0 at ignored targets.
    // p is recomputed with the differentiable Softmax, so double backward works.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        if (_weight is null && _smoothing == 0 && !GradMode.Records(dy, x))
            return [FusedHard(x, ClassTargets.Upstream(dy, x.Shape, _reduction))];
        (Tensor? a, Tensor b) = ClassTargets.Coefficients(x.Shape, x.DType, _target.Value, _weight?.Value, _ignoreIndex, _smoothing, _reduction, _totalWeight, wantA: true);
        Tensor up = ClassTargets.Upstream(dy, x.Shape, _reduction);
        if (!GradMode.Records(dy, x))
            return [Fused(x, a!, b, up)];
        Tensor p = x.Softmax(x.Rank == 1 ? 0 : 1);
        return [(p * a! - b) * up];
    }

    /// <summary>(softmax(x)·a − b)·up in one pass over a fresh softmax, bit-identical to the tensor-op form.</summary>
    private static Tensor Fused(Tensor x, Tensor a, Tensor b, Tensor up)
    {
        Tensor p = SoftmaxForward.Compute(x, x.Rank == 1 ? 0 : 1, log: false, out _);
        int n = x.Rank == 1 ? 1 : x.Shape[0], c = x.Rank == 1 ? x.Shape[0] : x.Shape[1], s = c == 0 ? 0 : x.Numel / Math.Max(n * c, 1);
        Tensor u = up.Contiguous();
        DTypeSwitch.Float(x.DType, new Combine(p, a, b, u, n, c, s));
        return p;
    }

    /// <summary>
    /// The same as <see cref="Fused"/> for no class weights and no smoothing, from the targets themselves
    /// instead of dense per-class coefficients (an [N, C] tensor built, filled and read every backward).
    /// </summary>
    private Tensor FusedHard(Tensor x, Tensor up)
    {
        Tensor p = SoftmaxForward.Compute(x, x.Rank == 1 ? 0 : 1, log: false, out _);
        int n = x.Rank == 1 ? 1 : x.Shape[0], c = x.Rank == 1 ? x.Shape[0] : x.Shape[1], s = c == 0 ? 0 : x.Numel / Math.Max(n * c, 1);
        double scale = _reduction == Reduction.Mean ? 1.0 / _totalWeight : 1.0;
        DTypeSwitch.Float(x.DType, new CombineHard(p, _target.Value.Contiguous(), scale, _ignoreIndex, up.Contiguous(), n, c, s));
        return p;
    }

    private readonly struct CombineHard(Tensor pt, Tensor target, double scale, long ignoreIndex, Tensor upt, int n, int c, int s) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ClassLossKernel.CrossEntropyGradHard(pt.Elements<T>(), target.ReadOnlyElements<long>(), T.CreateTruncating(scale), ignoreIndex,
                                                    upt.ReadOnlyElements<T>(), n, c, s);
    }

    private readonly struct Combine(Tensor pt, Tensor at, Tensor bt, Tensor upt, int n, int c, int s) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ClassLossKernel.CrossEntropyGrad(pt.Elements<T>(), at.ReadOnlyElements<T>(), bt.ReadOnlyElements<T>(), upt.ReadOnlyElements<T>(), n, c, s);
    }
}

/// <summary>Negative log-likelihood: loss = −w_t · input[t] for log-probability inputs.</summary>
internal sealed class NllLossNode : Node
{
    private readonly SavedTensor _target;
    private readonly SavedTensor? _weight;
    private readonly Shape _inputShape;
    private readonly DType _dtype;
    private readonly Reduction _reduction;
    private readonly double _totalWeight;
    private readonly long _ignoreIndex;

    private NllLossNode(Tensor input, Tensor target, Tensor? weight, Reduction reduction, long ignoreIndex, double totalWeight) : base(input)
    {
        _inputShape = input.Shape;
        _dtype = input.DType;
        _target = Save(target);
        if (weight is not null) _weight = Save(weight);
        _reduction = reduction;
        _ignoreIndex = ignoreIndex;
        _totalWeight = totalWeight;
    }

    public static Tensor Forward(Tensor input, Tensor target, Reduction reduction, long ignoreIndex, Tensor? weight)
    {
        PointwiseLoss.CheckReduction(reduction, "NllLoss");
        ClassTargets.Validate(input, target, weight, ignoreIndex, "NllLoss", out int n, out int c, out int s);
        Tensor x = input.Detach().Contiguous();
        var losses = new Tensor(target.Shape, input.DType);
        double total = DTypeSwitch.Float<LossesKernel, double>(input.DType,
            new LossesKernel(x, target.Contiguous(), weight?.Detach().Contiguous(), n, c, s, ignoreIndex, losses));
        Tensor y = ClassTargets.Reduce(losses, reduction, total);
        if (GradMode.Records(input))
            y.SetGradFn(new NllLossNode(input, target, weight, reduction, ignoreIndex, total));
        return y;
    }

    /// <summary>Per-position losses into <c>losses</c>; returns the total weight of the non-ignored targets.</summary>
    private readonly struct LossesKernel(Tensor x, Tensor target, Tensor? weight, int n, int c, int s, long ignoreIndex, Tensor losses) : IFloatFunc<double>
    {
        public double Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ClassLossKernel.Nll(x.ReadOnlyElements<T>(), target.ReadOnlyElements<long>(), weight is null ? default : weight.ReadOnlyElements<T>(),
                                   n, c, s, ignoreIndex, losses.Elements<T>());
    }

    // dloss/dx[i, k] = −w_t·δ_kt (divided by Σ w_t for the mean; 0 at ignored targets): linear in x.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        (_, Tensor b) = ClassTargets.Coefficients(_inputShape, _dtype, _target.Value, _weight?.Value, _ignoreIndex, 0, _reduction, _totalWeight, wantA: false);
        return [-(b * ClassTargets.Upstream(dy, _inputShape, _reduction))];
    }
}
