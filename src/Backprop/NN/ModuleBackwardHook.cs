using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>
/// The full backward hooks of one module call, as PyTorch's torch.utils.hooks.BackwardHook: the call's
/// input and output pass through identity nodes (<see cref="BackwardHookFunctionNode"/>). In backward the
/// output's node runs first and keeps gradOutput; the input's node then receives gradInput (the gradient
/// summed over every use of the input inside the module), runs the hooks with both and passes on what they
/// return. When the input does not require grad there is no input node, and the hooks run from the output's
/// node with gradInput null.
/// </summary>
internal sealed class ModuleBackwardHook(Module module, Func<Module, Tensor?, Tensor?, Tensor?>[] hooks)
{
    private bool _inputWrapped;
    private Tensor? _gradOutput;

    /// <summary>The input as seen inside the module: wrapped when a graph is recorded through it.</summary>
    public Tensor WrapInput(Tensor input)
    {
        if (!GradMode.IsEnabled || !input.RequiresGrad) return input;
        _inputWrapped = true;
        return BackwardHookFunctionNode.Forward(input, OnInputGradient);
    }

    /// <summary>The output as seen outside the module: wrapped when a graph is recorded through it.</summary>
    public Tensor WrapOutput(Tensor output)
    {
        if (!GradMode.IsEnabled || !output.RequiresGrad) return output;
        return BackwardHookFunctionNode.Forward(output, OnOutputGradient);
    }

    private Tensor OnOutputGradient(Tensor gradOutput)
    {
        _gradOutput = gradOutput;
        if (!_inputWrapped)
        {
            foreach (var hook in hooks)
                if (hook(module, null, gradOutput) is not null)
                    throw new InvalidOperationException(
                        $"{module.GetType().Name}: a full backward hook returned a gradient for an input that does not require grad; " +
                        "when gradInput is null the hook must return null");
            _gradOutput = null;
        }
        return gradOutput;
    }

    private Tensor OnInputGradient(Tensor gradInput)
    {
        // A gradient that reached the input without passing through the output (PyTorch skips the hooks too).
        if (_gradOutput is not { } gradOutput) return gradInput;
        foreach (var hook in hooks)
        {
            if (hook(module, gradInput, gradOutput) is not { } replaced) continue;
            if (replaced.Shape != gradInput.Shape || replaced.DType != gradInput.DType)
                throw new InvalidOperationException(
                    $"{module.GetType().Name}: a full backward hook returned a gradient of shape {replaced.Shape} ({replaced.DType.Name()}) " +
                    $"for an input of shape {gradInput.Shape} ({gradInput.DType.Name()}); return a gradient of the input's shape and dtype, or null to keep it");
            gradInput = replaced;
        }
        _gradOutput = null;
        return gradInput;
    }
}

/// <summary>
/// Identity in forward (the output shares the input's storage); in backward the gradient passes through a
/// callback that may inspect or replace it. The graph node behind <see cref="ModuleBackwardHook"/>; named as PyTorch's.
/// </summary>
internal sealed class BackwardHookFunctionNode : Node
{
    private readonly Func<Tensor, Tensor> _onGradient;

    private BackwardHookFunctionNode(Tensor x, Func<Tensor, Tensor> onGradient) : base(x) => _onGradient = onGradient;

    /// <summary>User hooks see (and may keep) the gradients.</summary>
    internal override bool MayRetainGradients => true;

    public static Tensor Forward(Tensor x, Func<Tensor, Tensor> onGradient)
    {
        Tensor y = x.Detach();
        y.SetGradFn(new BackwardHookFunctionNode(x, onGradient));
        return y;
    }

    // dy/dx = 1: the gradient passes through, as the callback leaves or replaces it.
    protected internal override Tensor?[] Backward(Tensor dy) => [_onGradient(dy)];
}
