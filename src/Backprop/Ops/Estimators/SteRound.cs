using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Estimators;

/// <summary>
/// Straight-through rounding: y = round(x) (halves to even, as torch.round) in the forward pass, and the
/// identity in the backward pass, as if y were x. PyTorch has no built-in; this is the gradient of the
/// usual recipe <c>x + (torch.round(x) - x).detach()</c>, whose value is round(x) up to the float rounding
/// of that sum (here it is round(x) exactly).
/// </summary>
internal sealed class SteRoundNode(Tensor x) : Node(x)
{
    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<RoundKernel<float>, RoundKernel<double>>(ElementwiseMap.Packed(x), "SteRound");
        if (GradMode.Records(x)) y.SetGradFn(new SteRoundNode(x));
        return y;
    }

    // Straight-through: round is piecewise constant (true derivative 0 almost everywhere); the estimator
    // takes dy/dx = 1, so dx = dy, unchanged.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy];
}
