using Backprop.Ops.Estimators;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Straight-through rounding: round(x) (halves to even, as <see cref="Round"/>) in the forward pass,
    /// the identity in the backward pass (the gradient flows as if the rounding were not there). The
    /// gradient of PyTorch's recipe <c>x + (x.round() - x).detach()</c>; the value is round(x) exactly.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor SteRound() => SteRoundNode.Forward(this);

    /// <summary>
    /// Straight-through sign: sign(x) ∈ {−1, 0, 1} (sign(0) = 0) in the forward pass. The backward pass is
    /// the identity, or with <paramref name="clip"/> the gradient of clamp(x, −1, 1): dy where |x| ≤ 1 and 0
    /// elsewhere (BinaryNet's estimator, PyTorch recipe <c>c + (x.sign() - c).detach()</c> with
    /// <c>c = x.clamp(-1, 1)</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not floating point.</exception>
    public Tensor SteSign(bool clip = false) => SteSignNode.Forward(this, clip);
}
