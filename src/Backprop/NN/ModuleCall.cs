using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>
/// One hooked invocation of a module whose forward is not <see cref="Module.Forward(Tensor)"/> alone, from
/// <see cref="Module.BeginCall"/>: feed <see cref="Input"/> to the forward and pass its output to <see cref="End"/>.
/// </summary>
public readonly struct ModuleCall
{
    private readonly Module? _module;            // null when the module had no hooks at BeginCall
    private readonly ModuleBackwardHook? _backward;

    internal ModuleCall(Module? module, Tensor input, ModuleBackwardHook? backward)
    {
        _module = module;
        Input = input;
        _backward = backward;
    }

    /// <summary>The input to run the forward on: the given one after the forward pre-hooks (and wrapped for backward hooks).</summary>
    public Tensor Input { get; }

    /// <summary>Runs the forward hooks on <paramref name="output"/> and returns the output to use (replaced by a hook, or wrapped for backward hooks).</summary>
    public Tensor End(Tensor output) => _module is null ? output : _module.EndCall(Input, output, _backward);
}
