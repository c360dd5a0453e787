using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;

namespace Backprop.Cli.Estimators;

/// <summary>
/// A linear layer with binary weights (BinaryConnect): the forward pass uses sign(W)/√in, the backward
/// pass the straight-through estimator with clipping (<see cref="Tensor.SteSign"/>), so the optimizer
/// updates latent float weights W, which are kept in [−1, 1] (<see cref="ClipLatent"/>). With
/// <c>binarize: false</c> it is the same layer with the float weights W/√in, for comparison.
/// </summary>
internal sealed class BinaryLinear : Module
{
    private readonly double _scale;
    private readonly bool _binarize;

    public BinaryLinear(int inFeatures, int outFeatures, Generator generator, bool binarize = true)
    {
        _scale = 1 / Math.Sqrt(inFeatures);
        _binarize = binarize;
        Weight = RegisterParameter("weight", Init.Uniform([outFeatures, inFeatures], -1, 1, generator));
        Bias = RegisterParameter("bias", Tensor.Zeros([outFeatures]));
    }

    /// <summary>Latent float weights [out, in] in [−1, 1].</summary>
    public Parameter Weight { get; }

    /// <summary>Float bias [out].</summary>
    public Parameter Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        Tensor w = Weight.Data;
        return Functional.Linear(input, (_binarize ? w.SteSign(clip: true) : w) * _scale, Bias);
    }

    /// <summary>Clips the latent weights back into [−1, 1] after an update (BinaryConnect).</summary>
    public void ClipLatent()
    {
        using (GradMode.Disable())
            Weight.Data.CopyFrom(Weight.Data.Clamp(-1, 1));
    }
}
