using Backprop.Ops.Loss;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// A loss function object, PyTorch's <c>nn.*Loss</c> modules: configured once, then called with
/// (input, target). Not a <see cref="Module"/> (whose forward takes one tensor); a criterion converts to
/// the <c>Func&lt;Tensor, Tensor, Tensor&gt;</c> the trainer takes, so <c>new Trainer(model, optimizer, new L1Loss(), data)</c> works.
/// </summary>
public abstract class Criterion
{
    /// <summary>Creates the criterion.</summary>
    protected Criterion(Reduction reduction) => Reduction = reduction;

    /// <summary>How per-element losses are combined.</summary>
    public Reduction Reduction { get; }

    /// <summary>The loss of <paramref name="input"/> against <paramref name="target"/>.</summary>
    public abstract Tensor Forward(Tensor input, Tensor target);

    /// <summary>The loss as a function, for APIs that take one.</summary>
    public static implicit operator Func<Tensor, Tensor, Tensor>(Criterion criterion)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        return criterion.Forward;
    }

    /// <summary>The type name and reduction.</summary>
    public override string ToString() => $"{GetType().Name}(reduction={Reduction})";
}

/// <summary>Mean absolute error (torch.nn.L1Loss); see <see cref="Functional.L1Loss"/>.</summary>
public sealed class L1Loss(Reduction reduction = Reduction.Mean) : Criterion(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.L1Loss(input, target, Reduction);
}

/// <summary>Mean squared error (torch.nn.MSELoss); see <see cref="Functional.MseLoss"/>.</summary>
public sealed class MseLoss(Reduction reduction = Reduction.Mean) : Criterion(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.MseLoss(input, target, Reduction);
}

/// <summary>Smooth L1 loss (torch.nn.SmoothL1Loss, β = 1 by default); see <see cref="Functional.SmoothL1Loss"/>.</summary>
public sealed class SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0) : Criterion(reduction)
{
    /// <summary>The threshold between the quadratic and linear parts.</summary>
    public double Beta { get; } = beta;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.SmoothL1Loss(input, target, Reduction, Beta);
}

/// <summary>Huber loss (torch.nn.HuberLoss, δ = 1 by default); see <see cref="Functional.HuberLoss"/>.</summary>
public sealed class HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0) : Criterion(reduction)
{
    /// <summary>The threshold between the quadratic and linear parts.</summary>
    public double Delta { get; } = delta;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.HuberLoss(input, target, Reduction, Delta);
}

/// <summary>
/// KL divergence (torch.nn.KLDivLoss): input log-probabilities, target probabilities (or log-probabilities
/// with logTarget). The default reduction Mean is PyTorch's, with its warning; BatchMean is the divergence per
/// sample. See <see cref="Functional.KLDiv"/>.
/// </summary>
public sealed class KLDivLoss(Reduction reduction = Reduction.Mean, bool logTarget = false) : Criterion(reduction)
{
    /// <summary>Whether the target holds log-probabilities.</summary>
    public bool LogTarget { get; } = logTarget;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.KLDiv(input, target, Reduction, LogTarget);
}

/// <summary>Binary cross-entropy of probabilities (torch.nn.BCELoss), with an optional weight; see <see cref="Functional.BinaryCrossEntropy"/>.</summary>
public sealed class BceLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : Criterion(reduction)
{
    /// <summary>Per-element weight broadcast to the input, or null.</summary>
    public Tensor? Weight { get; } = weight;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.BinaryCrossEntropy(input, target, Weight, Reduction);
}

/// <summary>Binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss), with an optional posWeight; see <see cref="Functional.BinaryCrossEntropyWithLogits"/>.</summary>
public sealed class BceWithLogitsLoss(Reduction reduction = Reduction.Mean, Tensor? posWeight = null) : Criterion(reduction)
{
    /// <summary>Weight of the positive term, broadcast against the input's last dims, or null.</summary>
    public Tensor? PosWeight { get; } = posWeight;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.BinaryCrossEntropyWithLogits(input, target, Reduction, PosWeight);
}

/// <summary>Cross-entropy on logits with class-index targets (torch.nn.CrossEntropyLoss); see <see cref="Functional.CrossEntropy"/>.</summary>
public sealed class CrossEntropyLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0) : Criterion(reduction)
{
    /// <summary>Per-class weights [C], or null.</summary>
    public Tensor? Weight { get; } = weight;

    /// <summary>Target value that contributes neither loss nor gradient.</summary>
    public long IgnoreIndex { get; } = ignoreIndex;

    /// <summary>Label smoothing ε in [0, 1].</summary>
    public double LabelSmoothing { get; } = labelSmoothing;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.CrossEntropy(input, target, Reduction, LabelSmoothing, IgnoreIndex, Weight);
}

/// <summary>Negative log-likelihood of log-probabilities (torch.nn.NLLLoss); see <see cref="Functional.NllLoss"/>.</summary>
public sealed class NllLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean) : Criterion(reduction)
{
    /// <summary>Per-class weights [C], or null.</summary>
    public Tensor? Weight { get; } = weight;

    /// <summary>Target value that contributes neither loss nor gradient.</summary>
    public long IgnoreIndex { get; } = ignoreIndex;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Functional.NllLoss(input, target, Reduction, IgnoreIndex, Weight);
}
