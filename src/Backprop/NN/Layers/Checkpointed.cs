using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// Runs a module through <see cref="GradientCheckpoint.Run"/>: its activations are not stored during the
/// forward but recomputed during backward (less memory, about one more forward of the module in time), with
/// the same values and bit-identical gradients. PyTorch's <c>checkpoint_wrapper</c> without its key prefix.
/// </summary>
/// <remarks>
/// The wrapper takes over the inner module's members under their own names: its parameters and buffers
/// (the same objects) and its children, in the inner module's order. So <see cref="Module.StateDict"/>,
/// <see cref="Module.NamedParameters"/> and an optimizer see exactly the keys, order and tensors of the
/// inner module, and a model trained with checkpointing loads into the same model without it (PyTorch's
/// wrapper adds a <c>_checkpoint_wrapped_module.</c> prefix and strips it again with state-dict hooks).
/// The inner module object itself is therefore not among <see cref="Module.Modules"/>; its training mode
/// follows the wrapper's. Only the one-tensor <see cref="Module.Forward"/> is checkpointed.
/// </remarks>
/// <example>
/// <code>
/// var model = new Sequential(new Checkpointed(block1), new Checkpointed(block2), head);
/// </code>
/// </example>
public sealed class Checkpointed : Module
{
    private readonly Func<Tensor[], Tensor> _forward;

    /// <summary>Wraps <paramref name="inner"/>, taking over its parameters, buffers and children under their names.</summary>
    /// <exception cref="ArgumentNullException">inner is null.</exception>
    public Checkpointed(Module inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        foreach (var (name, p) in inner.NamedParameters())
            if (!name.Contains('.')) RegisterParameter(name, p);
        foreach (var (name, b) in inner.NamedBuffers())
            if (!name.Contains('.')) RegisterBuffer(name, b);
        foreach (var (name, child) in inner.NamedChildren())
            RegisterModule(name, child);
        _forward = x => Inner.Call(x[0]);
        Train(inner.Training);
    }

    /// <summary>The checkpointed module (its members are this module's, so it is not a child).</summary>
    [field: NotAMember]
    public Module Inner { get; }

    /// <summary>The inner module's output, its activations recomputed during backward.</summary>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Inner.Training != Training) Inner.Train(Training);
        return GradientCheckpoint.Run(_forward, input);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"Checkpointed({Inner.GetType().Name})";
}
