using System.Numerics;
using Backprop.Kernels.Optim;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Optim;

/// <summary>
/// Hyperparameters of <see cref="Adam"/> and <see cref="AdamW"/>, with PyTorch's defaults. <see cref="WeightDecay"/>
/// left null takes the optimizer's own default, as in PyTorch: 0 for Adam, 0.01 for AdamW, so
/// <c>new AdamW(ps, new AdamOptions(LearningRate: 3e-4))</c> decays by 0.01 like <c>torch.optim.AdamW(ps, lr=3e-4)</c>.
/// </summary>
/// <param name="LearningRate">Step size (1e-3).</param>
/// <param name="Beta1">Decay of the first moment (0.9).</param>
/// <param name="Beta2">Decay of the second moment (0.999).</param>
/// <param name="Eps">Added to the denominator (1e-8).</param>
/// <param name="WeightDecay">L2 penalty for Adam, decoupled decay for AdamW; null: 0 for Adam, 0.01 for AdamW.</param>
/// <param name="Amsgrad">Use the maximum of past second moments (false).</param>
/// <param name="Maximize">Ascend instead of descend (false).</param>
public sealed record AdamOptions(double LearningRate = 1e-3, double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8,
                                 double? WeightDecay = null, bool Amsgrad = false, bool Maximize = false);

/// <summary>
/// Adam as torch.optim.Adam: g ← g + λθ; m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε).
/// </summary>
public class Adam : Optimizer
{
    private readonly AdamOptions _options;
    private readonly bool _decoupled;

    /// <summary>PyTorch's Adam default weight decay.</summary>
    internal const double DefaultWeightDecay = 0;

    /// <summary>One group with all parameters; null options are all PyTorch's defaults.</summary>
    public Adam(IEnumerable<Parameter> parameters, AdamOptions? options = null) : this(SingleGroup(parameters), options) { }

    /// <summary>Several groups; unset group values come from <paramref name="options"/>.</summary>
    public Adam(IEnumerable<ParamGroup> groups, AdamOptions? options = null) : this(groups, options, decoupled: false) { }

    private protected Adam(IEnumerable<ParamGroup> groups, AdamOptions? options, bool decoupled)
        : base(groups, (options = Resolve(options, decoupled ? AdamW.DefaultWeightDecay : DefaultWeightDecay)).LearningRate, options.WeightDecay!.Value)
    {
        if (!(options.Beta1 >= 0 && options.Beta1 < 1)) throw new ArgumentException($"{GetType().Name}: invalid beta1 {options.Beta1}");
        if (!(options.Beta2 >= 0 && options.Beta2 < 1)) throw new ArgumentException($"{GetType().Name}: invalid beta2 {options.Beta2}");
        if (!(options.Eps >= 0)) throw new ArgumentException($"{GetType().Name}: invalid eps {options.Eps}");
        _options = options;
        _decoupled = decoupled;
        foreach (ParamGroup g in ParamGroups) g.Momentum = options.Beta1;
    }

    private static AdamOptions Resolve(AdamOptions? options, double defaultWeightDecay)
    {
        options ??= new AdamOptions();
        return options.WeightDecay is null ? options with { WeightDecay = defaultWeightDecay } : options;
    }

    /// <summary>The hyperparameters in use, the weight decay resolved (PyTorch's <c>optimizer.defaults</c>); groups may override lr and weight decay.</summary>
    public AdamOptions Options => _options;

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        long step = NextStep(state);
        Tensor m = StateTensor(state, "exp_avg", p), v = StateTensor(state, "exp_avg_sq", p);
        Tensor? vMax = _options.Amsgrad ? StateTensor(state, "max_exp_avg_sq", p) : null;
        DTypeSwitch.Float(p.DType, new AdamKernel(p.Data, grad, m, v, vMax, step, group.LearningRate, group.WeightDecay, group.Momentum ?? _options.Beta1, _options, _decoupled));
    }

    /// <inheritdoc/>
    protected override string[] StateKeys => _options.Amsgrad ? ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["step", "exp_avg", "exp_avg_sq"];

    /// <inheritdoc/>
    protected override bool IsNonNegativeState(string key) => key is "exp_avg_sq" or "max_exp_avg_sq";

    private readonly struct AdamKernel(Tensor p, Tensor grad, Tensor m, Tensor v, Tensor? vMax, long step, double lr, double weightDecay,
                                       double beta1, AdamOptions o, bool decoupled) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => OptimizerKernels.Adam(p.Elements<T>(), grad.ReadOnlyElements<T>(), m.Elements<T>(), v.Elements<T>(),
                vMax is null ? default : vMax.Elements<T>(), step, lr, beta1, o.Beta2, o.Eps, weightDecay, decoupled, o.Amsgrad, o.Maximize);
    }
}

/// <summary>
/// AdamW as torch.optim.AdamW: decoupled weight decay θ ← θ(1 − lr·λ) before the Adam step
/// (the gradient is not modified). PyTorch's default weight decay is 0.01, and so is this one's whenever
/// <see cref="AdamOptions.WeightDecay"/> is left null, whichever constructor is used.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>PyTorch's AdamW default weight decay.</summary>
    internal new const double DefaultWeightDecay = 0.01;

    /// <summary>One group with all parameters; null options, or a null weight decay, take PyTorch's defaults (weight decay 0.01).</summary>
    public AdamW(IEnumerable<Parameter> parameters, AdamOptions? options = null) : this(SingleGroup(parameters), options) { }

    /// <summary>Several groups; unset values come from <paramref name="options"/> and PyTorch's defaults (weight decay 0.01).</summary>
    public AdamW(IEnumerable<ParamGroup> groups, AdamOptions? options = null) : base(groups, options, decoupled: true) { }
}
