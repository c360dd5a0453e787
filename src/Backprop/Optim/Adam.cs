using System.Numerics;
using Backprop.Kernels.Optim;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Optim;

/// <summary>Hyperparameters of <see cref="Adam"/> and <see cref="AdamW"/> (PyTorch defaults for Adam).</summary>
public sealed record AdamOptions(double LearningRate = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8,
                                 double WeightDecay = 0, bool Amsgrad = false, bool Maximize = false);

/// <summary>
/// Adam as torch.optim.Adam: g ← g + λθ; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε).
/// </summary>
public class Adam : Optimizer
{
    private readonly AdamOptions _options;
    private readonly bool _decoupled;

    /// <summary>One group with all parameters.</summary>
    public Adam(IEnumerable<Parameter> parameters, AdamOptions options) : this(SingleGroup(parameters), options) { }

    /// <summary>Several groups; unset group values come from <paramref name="options"/>.</summary>
    public Adam(IEnumerable<ParamGroup> groups, AdamOptions options) : this(groups, options, decoupled: false) { }

    private protected Adam(IEnumerable<ParamGroup> groups, AdamOptions options, bool decoupled)
        : base(groups, options.LearningRate, options.WeightDecay)
    {
        if (!(options.Beta1 >= 0 && options.Beta1 < 1)) throw new ArgumentException($"{GetType().Name}: invalid beta1 {options.Beta1}");
        if (!(options.Beta2 >= 0 && options.Beta2 < 1)) throw new ArgumentException($"{GetType().Name}: invalid beta2 {options.Beta2}");
        if (!(options.Eps >= 0)) throw new ArgumentException($"{GetType().Name}: invalid eps {options.Eps}");
        _options = options;
        _decoupled = decoupled;
    }

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        long step = NextStep(state);
        Tensor m = StateTensor(state, "exp_avg", p), v = StateTensor(state, "exp_avg_sq", p);
        Tensor? vMax = _options.Amsgrad ? StateTensor(state, "max_exp_avg_sq", p) : null;
        DTypeSwitch.Float(p.DType, new AdamKernel(p.Data, grad, m, v, vMax, step, group.LearningRate, group.WeightDecay, _options, _decoupled));
    }

    /// <inheritdoc/>
    protected override string[] StateKeys => _options.Amsgrad ? ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["step", "exp_avg", "exp_avg_sq"];

    /// <inheritdoc/>
    protected override bool IsNonNegativeState(string key) => key is "exp_avg_sq" or "max_exp_avg_sq";

    private readonly struct AdamKernel(Tensor p, Tensor grad, Tensor m, Tensor v, Tensor? vMax, long step, double lr, double weightDecay,
                                       AdamOptions o, bool decoupled) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => OptimizerKernels.Adam(p.Elements<T>(), grad.ReadOnlyElements<T>(), m.Elements<T>(), v.Elements<T>(),
                vMax is null ? default : vMax.Elements<T>(), step, lr, o.Beta1, o.Beta2, o.Eps, weightDecay, decoupled, o.Amsgrad, o.Maximize);
    }
}

/// <summary>
/// AdamW as torch.optim.AdamW: decoupled weight decay θ ← θ(1 − lr·λ) before the Adam step
/// (the gradient is not modified). PyTorch's default weight decay is 0.01.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>One group with all parameters; options default to weight decay 0.01.</summary>
    public AdamW(IEnumerable<Parameter> parameters, AdamOptions? options = null) : this(SingleGroup(parameters), options) { }

    /// <summary>Several groups.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, AdamOptions? options = null)
        : base(groups, options ?? new AdamOptions(WeightDecay: 0.01), decoupled: true) { }
}
