using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.NN;

// Module hooks, as PyTorch's nn.Module: forward pre-hooks, forward hooks and full backward hooks,
// run when the module is invoked with Call (PyTorch's module(x)) or BeginCall/End, never by Forward.
public abstract partial class Module
{
    private ModuleHooks? _hooks; // null while no hook is registered: Call is then exactly Forward

    /// <summary>
    /// Registers <paramref name="hook"/>(module, input), called before every <see cref="Call"/> of this module
    /// (torch's register_forward_pre_hook). It may return a replacement input, or null to keep the input.
    /// Hooks run in registration order, each seeing the input the previous one returned.
    /// </summary>
    /// <returns>A handle; disposing it removes the hook.</returns>
    public IDisposable RegisterForwardPreHook(Func<Module, Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return AddHook(HookKind.ForwardPre, hook);
    }

    /// <summary>
    /// Registers <paramref name="hook"/>(module, input, output), called after every <see cref="Call"/> of this
    /// module has computed its output (torch's register_forward_hook). It may return a replacement output, or
    /// null to keep the output. The input is the one the forward saw (after the pre-hooks). Hooks run in
    /// registration order, each seeing the output the previous one returned.
    /// </summary>
    /// <returns>A handle; disposing it removes the hook.</returns>
    public IDisposable RegisterForwardHook(Func<Module, Tensor, Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return AddHook(HookKind.Forward, hook);
    }

    /// <summary>
    /// Registers <paramref name="hook"/>(module, gradInput, gradOutput), called during backward once the
    /// gradient with respect to the module's input is known (torch's register_full_backward_hook):
    /// gradOutput is the gradient of the loss with respect to the module's output, gradInput the gradient
    /// with respect to its input, summed over every use of the input inside the module. It may return a
    /// replacement for gradInput (same shape and dtype), which is what flows on to the layers before it, or
    /// null to keep it. When the input does not require grad, the hook is called with gradInput null as soon
    /// as gradOutput is known, and must return null. Hooks run in registration order, each seeing the
    /// gradInput the previous one returned. Implemented as PyTorch does: the input and the output of every
    /// hooked call are wrapped in identity nodes (<c>BackwardHookFunctionBackward</c>) whose backward
    /// runs the hooks; gradients of parameters are not part of gradInput.
    /// </summary>
    /// <returns>A handle; disposing it removes the hook.</returns>
    public IDisposable RegisterFullBackwardHook(Func<Module, Tensor?, Tensor?, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        return AddHook(HookKind.Backward, hook);
    }

    /// <summary>
    /// Starts a hooked invocation of a forward other than <see cref="Forward(Tensor)"/> (one with more
    /// arguments, a cache or several results): runs the forward pre-hooks on <paramref name="input"/> and,
    /// with backward hooks, wraps it. Pass <see cref="ModuleCall.Input"/> to the forward and its main output
    /// to <see cref="ModuleCall.End"/>:
    /// <code>
    /// ModuleCall call = lstm.BeginCall(x);
    /// var (output, state) = lstm.Forward(call.Input, state0);
    /// output = call.End(output);
    /// </code>
    /// Hooks see this one input and one output (PyTorch's hooks see every positional argument and every
    /// output; a module's other arguments and results pass by them unhooked). Without hooks this costs a
    /// null check and allocates nothing.
    /// </summary>
    public ModuleCall BeginCall(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ModuleHooks? hooks = _hooks;
        if (hooks is null) return new ModuleCall(null, input, null);
        foreach (var hook in hooks.ForwardPre)
            input = hook(this, input) ?? input;
        ModuleBackwardHook? backward = null;
        if (hooks.Backward.Length > 0)
        {
            backward = new ModuleBackwardHook(this, hooks.Backward);
            input = backward.WrapInput(input);
        }
        return new ModuleCall(this, input, backward);
    }

    /// <summary>Runs the forward hooks and sets up the backward hooks on <paramref name="output"/> (see <see cref="BeginCall"/>).</summary>
    internal Tensor EndCall(Tensor input, Tensor output, ModuleBackwardHook? backward)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_hooks is { } hooks)
            foreach (var hook in hooks.Forward)
                output = hook(this, input, output) ?? output;
        return backward is null ? output : backward.WrapOutput(output);
    }

    private Tensor CallHooked(Tensor input)
    {
        ModuleCall call = BeginCall(input);
        return call.End(Forward(call.Input));
    }

    /// <summary>Whether any hook is registered on this module.</summary>
    public bool HasHooks => _hooks is not null;

    private enum HookKind { ForwardPre, Forward, Backward }

    private HookHandle AddHook(HookKind kind, Delegate hook)
    {
        ModuleHooks hooks = _hooks ?? new ModuleHooks();
        _hooks = kind switch
        {
            HookKind.ForwardPre => hooks with { ForwardPre = [.. hooks.ForwardPre, (Func<Module, Tensor, Tensor?>)hook] },
            HookKind.Forward => hooks with { Forward = [.. hooks.Forward, (Func<Module, Tensor, Tensor, Tensor?>)hook] },
            _ => hooks with { Backward = [.. hooks.Backward, (Func<Module, Tensor?, Tensor?, Tensor?>)hook] },
        };
        return new HookHandle(this, kind, hook);
    }

    private void RemoveHook(HookKind kind, Delegate hook)
    {
        if (_hooks is not { } hooks) return;
        hooks = kind switch
        {
            HookKind.ForwardPre => hooks with { ForwardPre = Without(hooks.ForwardPre, hook) },
            HookKind.Forward => hooks with { Forward = Without(hooks.Forward, hook) },
            _ => hooks with { Backward = Without(hooks.Backward, hook) },
        };
        _hooks = hooks.ForwardPre.Length + hooks.Forward.Length + hooks.Backward.Length == 0 ? null : hooks;
    }

    /// <summary>The array without the last registration of <paramref name="hook"/> (a delegate registered twice is removed once per handle).</summary>
    private static T[] Without<T>(T[] hooks, Delegate hook) where T : Delegate
    {
        int at = Array.LastIndexOf(hooks, (T)hook);
        if (at < 0) return hooks;
        return [.. hooks.AsSpan(0, at), .. hooks.AsSpan(at + 1)];
    }

    /// <summary>
    /// The registered hooks. Arrays are replaced, never changed, so a call iterates a fixed list without
    /// copying it, and a hook may remove itself or add another while it runs (effective from the next call).
    /// </summary>
    private sealed record ModuleHooks
    {
        public Func<Module, Tensor, Tensor?>[] ForwardPre { get; init; } = [];
        public Func<Module, Tensor, Tensor, Tensor?>[] Forward { get; init; } = [];
        public Func<Module, Tensor?, Tensor?, Tensor?>[] Backward { get; init; } = [];
    }

    private sealed class HookHandle(Module module, HookKind kind, Delegate hook) : IDisposable
    {
        private bool _removed;

        public void Dispose()
        {
            if (_removed) return;
            _removed = true;
            module.RemoveHook(kind, hook);
        }
    }
}
