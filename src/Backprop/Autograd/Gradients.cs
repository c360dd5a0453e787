using Backprop.Tensors;

namespace Backprop.Autograd;

/// <summary>Entry points of reverse-mode automatic differentiation.</summary>
public static class Gradients
{
    /// <summary>
    /// Backpropagates from several outputs at once, accumulating into the leaves' Grad.
    /// </summary>
    /// <param name="outputs">Tensors to differentiate.</param>
    /// <param name="gradOutputs">d(loss)/d(output) per output; null entries (or a null array) are allowed for one-element outputs.</param>
    /// <param name="retainGraph">Keep saved tensors for another backward.</param>
    /// <param name="createGraph">Record the backward pass for higher-order gradients.</param>
    public static void Backward(Tensor[] outputs, Tensor?[]? gradOutputs = null, bool retainGraph = false, bool createGraph = false)
    {
        Tensor[] grads = PrepareRoots(outputs, gradOutputs, "Backward");
        Engine.Run(outputs, grads, retainGraph || createGraph, createGraph, null);
    }

    /// <summary>
    /// Computes d(sum of outputs·gradOutputs)/d(input) for each input without touching any Grad
    /// (like torch.autograd.grad). With createGraph the results are themselves differentiable,
    /// which gives Hessian-vector products and other higher-order derivatives.
    /// </summary>
    /// <param name="outputs">Tensors to differentiate.</param>
    /// <param name="inputs">Tensors to differentiate with respect to; each must require grad.</param>
    /// <param name="gradOutputs">Output gradients (optional for one-element outputs).</param>
    /// <param name="retainGraph">Keep the graph; defaults to createGraph.</param>
    /// <param name="createGraph">Record the backward pass.</param>
    /// <param name="allowUnused">Return null for inputs the outputs do not depend on instead of throwing.</param>
    public static Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? gradOutputs = null,
                                 bool? retainGraph = null, bool createGraph = false, bool allowUnused = false)
    {
        Tensor[] grads = PrepareRoots(outputs, gradOutputs, "Grad");
        var capture = new Engine.Capture { Results = new Tensor?[inputs.Length] };
        for (int i = 0; i < inputs.Length; i++)
        {
            Tensor x = inputs[i];
            if (!x.RequiresGrad)
                throw new ArgumentException($"Grad: input {i} (shape {x.Shape}) does not require grad");
            if (x.GradFn is { } node) capture.Nodes[node] = i;
            else capture.Leaves[x] = i;
        }
        Engine.Run(outputs, grads, retainGraph ?? createGraph, createGraph, capture);
        for (int i = 0; i < inputs.Length; i++)
            if (capture.Results[i] is null && !allowUnused)
                throw new InvalidOperationException($"Grad: input {i} (shape {inputs[i].Shape}) was not used to compute the outputs; pass allowUnused: true to get null for it");
        return capture.Results;
    }

    /// <summary>Single-output, single-input form of <see cref="Grad(Tensor[], Tensor[], Tensor?[], bool?, bool, bool)"/>.</summary>
    public static Tensor Grad(Tensor output, Tensor input, Tensor? gradOutput = null, bool? retainGraph = null, bool createGraph = false)
        => Grad([output], [input], gradOutput is null ? null : [gradOutput], retainGraph, createGraph)[0]!;

    private static Tensor[] PrepareRoots(Tensor[] outputs, Tensor?[]? gradOutputs, string op)
    {
        if (gradOutputs is not null && gradOutputs.Length != outputs.Length)
            throw new ArgumentException($"{op}: {outputs.Length} outputs but {gradOutputs.Length} output gradients");
        var grads = new Tensor[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            Tensor y = outputs[i];
            if (!y.RequiresGrad)
                throw new InvalidOperationException(
                    $"{op}: output {i} (shape {y.Shape}) does not require grad and has no grad_fn. " +
                    "Make sure some input has RequiresGrad = true and that the forward pass did not run under GradMode.Disable().");
            Tensor? g = gradOutputs?[i];
            if (g is null)
            {
                if (y.Numel != 1)
                    throw new InvalidOperationException(
                        $"{op}: output {i} has shape {y.Shape}; a gradient can be created implicitly only for a one-element output. " +
                        "Reduce it first (y.Sum() or y.Mean()), or pass the output gradient explicitly, e.g. y.Backward(Tensor.OnesLike(y)).");
                g = Tensor.OnesLike(y);
            }
            else
            {
                if (g.Shape != y.Shape)
                    throw new ArgumentException($"{op}: output gradient has shape {g.Shape} but output {i} has shape {y.Shape}");
                Tensor.CheckSameDType(y, g, op);
            }
            grads[i] = g;
        }
        return grads;
    }
}
