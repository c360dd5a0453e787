using Backprop.NN;

namespace Backprop.Optim;

/// <summary>
/// A set of parameters sharing a learning rate and weight decay (PyTorch's param_groups).
/// Schedulers change <see cref="LearningRate"/>.
/// </summary>
public sealed class ParamGroup
{
    /// <summary>Creates a group; null values take the optimizer's defaults.</summary>
    public ParamGroup(IEnumerable<Parameter> parameters, double? learningRate = null, double? weightDecay = null)
    {
        Parameters = [.. parameters];
        LearningRateOverride = learningRate;
        WeightDecayOverride = weightDecay;
    }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    internal double? LearningRateOverride { get; }

    internal double? WeightDecayOverride { get; }

    /// <summary>Current learning rate.</summary>
    public double LearningRate { get; set; }

    /// <summary>The learning rate the group started with (schedulers scale from it).</summary>
    public double InitialLearningRate { get; internal set; }

    /// <summary>Weight decay (L2 penalty, or decoupled for AdamW).</summary>
    public double WeightDecay { get; set; }

    /// <summary>
    /// The group's momentum: the momentum factor of <see cref="Sgd"/> and <see cref="RmsProp"/>, β₁ of <see cref="Adam"/>
    /// and <see cref="AdamW"/> (PyTorch's <c>group["momentum"]</c> and <c>group["betas"][0]</c>); null for optimizers
    /// without one (<see cref="Adagrad"/>). Starts at the optimizer's option; schedules that cycle momentum
    /// (<see cref="Schedulers.OneCycleLR"/>) change it.
    /// </summary>
    public double? Momentum { get; set; }
}
