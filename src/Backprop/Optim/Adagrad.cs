using System.Numerics;
using Backprop.Kernels.Optim;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Optim;

/// <summary>Hyperparameters of <see cref="Adagrad"/> (PyTorch defaults).</summary>
public sealed record AdagradOptions(double LearningRate = 1e-2, double LearningRateDecay = 0, double WeightDecay = 0,
                                    double InitialAccumulatorValue = 0, double Eps = 1e-10, bool Maximize = false);

/// <summary>
/// Adagrad as torch.optim.Adagrad: lrₜ = lr / (1 + (t−1)·decay); s ← s + g²; θ ← θ − lrₜ·g / (√s + ε).
/// </summary>
public sealed class Adagrad : Optimizer
{
    private readonly AdagradOptions _options;

    /// <summary>One group with all parameters; null options are all PyTorch's defaults.</summary>
    public Adagrad(IEnumerable<Parameter> parameters, AdagradOptions? options = null) : this(SingleGroup(parameters), options) { }

    /// <summary>Several groups.</summary>
    public Adagrad(IEnumerable<ParamGroup> groups, AdagradOptions? options = null)
        : base(groups, (options ??= new AdagradOptions()).LearningRate, options.WeightDecay)
    {
        if (!(options.LearningRateDecay >= 0)) throw new ArgumentException($"Adagrad: invalid learning rate decay {options.LearningRateDecay}");
        if (!(options.InitialAccumulatorValue >= 0)) throw new ArgumentException($"Adagrad: invalid initial accumulator value {options.InitialAccumulatorValue}");
        _options = options;
    }

    /// <summary>The hyperparameters in use (PyTorch's <c>optimizer.defaults</c>); groups may override lr and weight decay.</summary>
    public AdagradOptions Options => _options;

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        long step = NextStep(state);
        Tensor sum = StateTensor(state, "sum", p, _options.InitialAccumulatorValue);
        double clr = group.LearningRate / (1 + (step - 1) * _options.LearningRateDecay);
        DTypeSwitch.Float(p.DType, new AdagradKernel(p.Data, grad, sum, clr, _options.Eps, group.WeightDecay, _options.Maximize));
    }

    /// <inheritdoc/>
    protected override string[] StateKeys => ["step", "sum"];

    /// <inheritdoc/>
    protected override bool IsNonNegativeState(string key) => key == "sum";

    private readonly struct AdagradKernel(Tensor p, Tensor grad, Tensor sum, double clr, double eps, double weightDecay, bool maximize) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => OptimizerKernels.Adagrad(p.Elements<T>(), grad.ReadOnlyElements<T>(), sum.Elements<T>(),
                T.CreateTruncating(clr), T.CreateTruncating(eps), T.CreateTruncating(weightDecay), maximize);
    }
}
