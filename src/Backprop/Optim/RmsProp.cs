using System.Numerics;
using Backprop.Kernels.Optim;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Optim;

/// <summary>Hyperparameters of <see cref="RmsProp"/> (PyTorch defaults).</summary>
public sealed record RmsPropOptions(double LearningRate = 1e-2, double Alpha = 0.99, double Eps = 1e-8, double WeightDecay = 0,
                                    double Momentum = 0, bool Centered = false, bool Maximize = false);

/// <summary>
/// RMSprop as torch.optim.RMSprop: v ← αv + (1−α)g²; denominator √v + ε (centered: √(v − ḡ²) + ε);
/// with momentum b ← μb + g/denom and θ ← θ − lr·b, else θ ← θ − lr·g/denom.
/// </summary>
public sealed class RmsProp : Optimizer
{
    private readonly RmsPropOptions _options;

    /// <summary>One group with all parameters; null options are all PyTorch's defaults.</summary>
    public RmsProp(IEnumerable<Parameter> parameters, RmsPropOptions? options = null) : this(SingleGroup(parameters), options) { }

    /// <summary>Several groups.</summary>
    public RmsProp(IEnumerable<ParamGroup> groups, RmsPropOptions? options = null)
        : base(groups, (options ??= new RmsPropOptions()).LearningRate, options.WeightDecay)
    {
        if (!(options.Alpha >= 0)) throw new ArgumentException($"RmsProp: invalid alpha {options.Alpha}");
        if (!(options.Momentum >= 0)) throw new ArgumentException($"RmsProp: invalid momentum {options.Momentum}");
        _options = options;
        foreach (ParamGroup g in ParamGroups) g.Momentum = options.Momentum;
    }

    /// <summary>The hyperparameters in use (PyTorch's <c>optimizer.defaults</c>); groups may override lr and weight decay.</summary>
    public RmsPropOptions Options => _options;

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        NextStep(state);
        Tensor sq = StateTensor(state, "square_avg", p);
        Tensor ga = _options.Centered ? StateTensor(state, "grad_avg", p) : sq;
        double momentum = group.Momentum ?? _options.Momentum;
        Tensor buf = momentum > 0 ? StateTensor(state, "momentum_buffer", p) : sq;
        DTypeSwitch.Float(p.DType, new RmsPropKernel(p.Data, grad, sq, ga, buf, group.LearningRate, group.WeightDecay, momentum, _options));
    }

    /// <inheritdoc/>
    protected override string[] StateKeys
    {
        get
        {
            var keys = new List<string> { "step", "square_avg" };
            if (_options.Centered) keys.Add("grad_avg");
            if (_options.Momentum > 0 || ParamGroups.Any(g => g.Momentum > 0)) keys.Add("momentum_buffer");
            return [.. keys];
        }
    }

    /// <inheritdoc/>
    protected override bool IsNonNegativeState(string key) => key == "square_avg";

    private readonly struct RmsPropKernel(Tensor p, Tensor grad, Tensor sq, Tensor ga, Tensor buf, double lr, double weightDecay, double momentum, RmsPropOptions o)
        : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => OptimizerKernels.RmsProp(p.Elements<T>(), grad.ReadOnlyElements<T>(), sq.Elements<T>(), ga.Elements<T>(), buf.Elements<T>(),
                T.CreateTruncating(lr), T.CreateTruncating(o.Alpha), T.CreateTruncating(o.Eps), T.CreateTruncating(weightDecay), T.CreateTruncating(momentum),
                o.Centered, o.Maximize);
    }
}
