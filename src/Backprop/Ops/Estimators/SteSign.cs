using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Estimators;

/// <summary>
/// Straight-through sign: y = sign(x) ∈ {−1, 0, 1} (sign(0) = 0, as torch.sign) in the forward pass; in the
/// backward pass the identity, or with <c>clip</c> the gradient of clamp(x, −1, 1): dy where |x| ≤ 1 and 0
/// outside (the estimator of BinaryConnect/BinaryNet, which stops latent weights and activations from
/// drifting where the sign can no longer change). PyTorch has no built-in; these are the gradients of
/// <c>x + (torch.sign(x) - x).detach()</c> and <c>c + (torch.sign(x) - c).detach()</c> with
/// <c>c = x.clamp(-1, 1)</c> (bounds included, as clamp's gradient; hardtanh's excludes them).
/// </summary>
internal sealed class SteSignNode : Node
{
    private readonly SavedTensor? _x;

    private SteSignNode(Tensor x, bool clip) : base(x)
    {
        if (clip) _x = Save(x);
    }

    public override string Name => _x is null ? "SteSignBackward" : "SteSignClippedBackward";

    public static Tensor Forward(Tensor x, bool clip)
    {
        x.CheckFloat(clip ? "SteSign(clip: true)" : "SteSign");
        Tensor y = SignNode.Constant(x);
        if (GradMode.Records(x)) y.SetGradFn(new SteSignNode(x, clip));
        return y;
    }

    // Straight-through: dy/dx = 1 (identity), or with clip 1 for −1 ≤ x ≤ 1 and 0 outside.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        if (_x is null) return [dy];
        Tensor x = _x.Value;
        var f = new ClampBackwardOp<float>(-1f, 1f);
        var d = new ClampBackwardOp<double>(-1, 1);
        if (GradMode.Records(dy))
            return [KeepWhereNode.Forward(dy, ElementwiseMap.WithScalar(x, 1, f, d, "SteSignBackward"))];
        return [ElementwiseMap.Binary(x, dy, f, d, "SteSignBackward")];
    }
}
