using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Cli.Commands;

/// <summary>The numbers of one gradient-descent step on the one-neuron example, all read from the engine.</summary>
/// <param name="W">Weight before the step.</param>
/// <param name="B">Bias before the step.</param>
/// <param name="Z">z = w·x + b.</param>
/// <param name="P">p = sigmoid(z).</param>
/// <param name="Loss">loss = ½(y − p)².</param>
/// <param name="GradP">∂loss/∂p (p.Grad after loss.Backward(), kept by RetainGrad).</param>
/// <param name="GradZ">∂loss/∂z (z.Grad after loss.Backward(), kept by RetainGrad).</param>
/// <param name="LocalPZ">∂p/∂z, the sigmoid node's local derivative, from Gradients.Grad(p, z).</param>
/// <param name="LocalZW">∂z/∂w, from Gradients.Grad(z, w).</param>
/// <param name="LocalZB">∂z/∂b, from Gradients.Grad(z, b).</param>
/// <param name="GradW">∂loss/∂w (w.Grad).</param>
/// <param name="GradB">∂loss/∂b (b.Grad).</param>
/// <param name="NewW">w − lr·∂loss/∂w.</param>
/// <param name="NewB">b − lr·∂loss/∂b.</param>
internal sealed record NeuronStep(
    double W, double B, double Z, double P, double Loss,
    double GradP, double GradZ, double LocalPZ, double LocalZW, double LocalZB,
    double GradW, double GradB, double NewW, double NewB)
{
    /// <summary>The first non-finite number (for error messages), or null when all are finite.</summary>
    public string? FirstNonFinite()
    {
        (string Name, double Value)[] all =
        [
            ("z", Z), ("p", P), ("loss", Loss), ("grad_p", GradP), ("grad_z", GradZ),
            ("dp/dz", LocalPZ), ("dz/dw", LocalZW), ("dz/db", LocalZB),
            ("grad_w", GradW), ("grad_b", GradB), ("new_w", NewW), ("new_b", NewB),
        ];
        foreach ((string name, double value) in all)
            if (!double.IsFinite(value))
                return $"{name} = {value}";
        return null;
    }
}

/// <summary>
/// The classic one-neuron example, z = w·x + b, p = sigmoid(z), loss = ½(y − p)², trained by plain
/// gradient descent. Every derivative comes from the autograd engine; nothing here knows a formula
/// for one.
/// </summary>
internal sealed class OneNeuron
{
    private readonly Tensor _x;
    private readonly Tensor _y;
    private readonly double _lr;

    /// <summary>The weight leaf (float64 scalar, requires grad).</summary>
    public Tensor W { get; }

    /// <summary>The bias leaf (float64 scalar, requires grad).</summary>
    public Tensor B { get; }

    public OneNeuron(double x, double w, double b, double y, double lr)
    {
        _x = Tensor.Scalar(x, DType.Float64);
        _y = Tensor.Scalar(y, DType.Float64);
        _lr = lr;
        W = Tensor.Scalar(w, DType.Float64).RequireGrad();
        B = Tensor.Scalar(b, DType.Float64).RequireGrad();
    }

    /// <summary>The loss at the current parameters, without recording a graph.</summary>
    public double Loss()
    {
        using (GradMode.Disable())
            return Forward().Loss.Item();
    }

    /// <summary>Forward, backward and one in-place update of w and b; returns every number involved.</summary>
    public NeuronStep Step()
    {
        double w0 = W.Item(), b0 = B.Item();
        (Tensor z, Tensor p, Tensor loss) = Forward();
        z.RetainGrad();
        p.RetainGrad();

        // Keep the graph: the local factors are asked of it below.
        loss.Backward(retainGraph: true);
        double gradP = p.Grad!.Item(), gradZ = z.Grad!.Item();
        double gradW = W.Grad!.Item(), gradB = B.Grad!.Item();

        // The local factors of the chain rule, each asked of the engine on its own. Gradients.Grad
        // leaves the leaves' Grad alone, but adds into retained non-leaf grads (as PyTorch does
        // for a root), so it runs after p.Grad and z.Grad were read.
        double localPZ = Gradients.Grad(p, z, retainGraph: true).Item();
        Tensor?[] dzdParams = Gradients.Grad([z], [W, B]);
        double localZW = dzdParams[0]!.Item(), localZB = dzdParams[1]!.Item();

        using (GradMode.Disable())
        {
            W.AddInPlace(W.Grad!, -_lr);
            B.AddInPlace(B.Grad!, -_lr);
        }
        W.Grad = null;
        B.Grad = null;

        return new NeuronStep(
            w0, b0, z.Item(), p.Item(), loss.Item(),
            gradP, gradZ, localPZ, localZW, localZB,
            gradW, gradB, W.Item(), B.Item());
    }

    /// <summary>
    /// The autograd graph of the loss at the current parameters as Graphviz DOT (GraphExport), with w, b, x
    /// and y named. Records the forward pass only; nothing is backpropagated or updated.
    /// </summary>
    public string GraphDot()
    {
        Tensor loss = Forward().Loss;
        return GraphExport.ToDot(loss, [new("w", W), new("b", B), new("x", _x), new("y", _y)]);
    }

    private (Tensor Z, Tensor P, Tensor Loss) Forward()
    {
        Tensor z = W * _x + B;
        Tensor p = z.Sigmoid();
        Tensor diff = _y - p;
        Tensor loss = 0.5 * diff * diff;
        return (z, p, loss);
    }
}
