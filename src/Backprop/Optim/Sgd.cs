using System.Numerics;
using Backprop.Kernels.Optim;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Optim;

/// <summary>Hyperparameters of <see cref="Sgd"/> (PyTorch defaults).</summary>
public sealed record SgdOptions(double LearningRate = 1e-3, double Momentum = 0, double Dampening = 0,
                                double WeightDecay = 0, bool Nesterov = false, bool Maximize = false);

/// <summary>
/// Stochastic gradient descent as torch.optim.SGD: g ← g + λθ; b ← μb + (1−τ)g (b = g on the first
/// step); g ← g + μb if Nesterov else b; θ ← θ − lr·g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly SgdOptions _options;

    /// <summary>One group with all parameters; null options are all PyTorch's defaults.</summary>
    public Sgd(IEnumerable<Parameter> parameters, SgdOptions? options = null) : this(SingleGroup(parameters), options) { }

    /// <summary>Several groups; unset group values come from <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">Invalid hyperparameters (Nesterov needs momentum and zero dampening).</exception>
    public Sgd(IEnumerable<ParamGroup> groups, SgdOptions? options = null)
        : base(groups, (options ??= new SgdOptions()).LearningRate, options.WeightDecay)
    {
        if (options.Momentum < 0) throw new ArgumentException($"Sgd: invalid momentum {options.Momentum}");
        if (options.Nesterov && (options.Momentum <= 0 || options.Dampening != 0))
            throw new ArgumentException("Sgd: Nesterov momentum requires a positive momentum and zero dampening");
        _options = options;
        foreach (ParamGroup g in ParamGroups) g.Momentum = options.Momentum;
    }

    /// <summary>The hyperparameters in use (PyTorch's <c>optimizer.defaults</c>); groups may override lr, weight decay and momentum (<see cref="ParamGroup.Momentum"/>).</summary>
    public SgdOptions Options => _options;

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        double momentum = group.Momentum ?? _options.Momentum;
        bool first = !state.ContainsKey("momentum_buffer");
        Tensor? buf = momentum != 0 ? StateTensor(state, "momentum_buffer", p) : null;
        DTypeSwitch.Float(p.DType, new SgdKernel(p.Data, grad, buf, first, group.LearningRate, group.WeightDecay, momentum, _options));
    }

    /// <inheritdoc/>
    /// <remarks>A momentum buffer is kept when any group has momentum (a schedule may have given it some: build the schedule before loading a state).</remarks>
    protected override string[] StateKeys => _options.Momentum != 0 || ParamGroups.Any(g => g.Momentum is not (null or 0)) ? ["momentum_buffer"] : [];

    private readonly struct SgdKernel(Tensor p, Tensor grad, Tensor? buf, bool first, double lr, double weightDecay, double momentum, SgdOptions o) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => OptimizerKernels.Sgd(p.Elements<T>(), grad.ReadOnlyElements<T>(), buf is null ? default : buf.Elements<T>(), first,
                T.CreateTruncating(lr), T.CreateTruncating(momentum), T.CreateTruncating(o.Dampening), T.CreateTruncating(weightDecay), o.Nesterov, o.Maximize);
    }
}
