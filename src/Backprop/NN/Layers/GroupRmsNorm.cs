using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// Group normalisation of [N, C, *] (torch.nn.GroupNorm): the channels form numGroups groups normalised
/// separately per sample, so the result does not depend on the batch (no running statistics, the same
/// in training and eval). With affine (the default) a per-channel weight (1) and bias (0) follow.
/// </summary>
public sealed class GroupNorm : Module
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException">numGroups or numChannels is not positive, or numGroups does not divide numChannels.</exception>
    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32)
    {
        if (numGroups <= 0 || numChannels <= 0 || numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm: numChannels ({numChannels}) must be divisible by numGroups ({numGroups}), both positive");
        (NumGroups, NumChannels, Eps) = (numGroups, numChannels, eps);
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([numChannels], dtype));
            Bias = RegisterParameter("bias", Tensor.Zeros([numChannels], dtype));
        }
    }

    /// <summary>Groups the channels are split into.</summary>
    public int NumGroups { get; }

    /// <summary>Channels (the size of dim 1).</summary>
    public int NumChannels { get; }

    /// <summary>Added to the variance for stability.</summary>
    public double Eps { get; }

    /// <summary>Scale [C], or null without affine.</summary>
    public Parameter? Weight { get; }

    /// <summary>Shift [C], or null without affine.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not [N, NumChannels, *].</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2 || input.Shape[1] != NumChannels)
            throw new ArgumentException($"GroupNorm: expected input [N, {NumChannels}, *], got {input.Shape}");
        return Functional.GroupNorm(input, NumGroups, Weight, Bias, Eps);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"GroupNorm({NumGroups}, {NumChannels})";
}

/// <summary>
/// Root-mean-square normalisation over the trailing <c>normalizedShape</c> dims (torch 2.x torch.nn.RMSNorm):
/// y = x / √(mean(x²) + eps) · weight, weight 1 by default, no bias. Eps null (the default) means the
/// machine epsilon of the input's dtype, as PyTorch.
/// </summary>
public sealed class RmsNorm : Module
{
    private readonly int[] _normalizedShape;

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException">normalizedShape is empty or has a non-positive size.</exception>
    public RmsNorm(int[] normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || Array.Exists(normalizedShape, d => d <= 0))
            throw new ArgumentException($"RmsNorm: normalizedShape must be non-empty with positive sizes, got [{string.Join(", ", normalizedShape)}]");
        _normalizedShape = (int[])normalizedShape.Clone();
        Eps = eps;
        if (elementwiseAffine) Weight = RegisterParameter("weight", Tensor.Ones(_normalizedShape, dtype));
    }

    /// <summary>Normalises over the last dim of size <paramref name="features"/>.</summary>
    public RmsNorm(int features, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32)
        : this([features], eps, elementwiseAffine, dtype) { }

    /// <summary>Added to the mean square; null: the machine epsilon of the input's dtype.</summary>
    public double? Eps { get; }

    /// <summary>The trailing dims normalised over.</summary>
    public IReadOnlyList<int> NormalizedShape => _normalizedShape;

    /// <summary>Scale, or null without elementwise affine.</summary>
    public Parameter? Weight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.RmsNorm(input, _normalizedShape, Weight, Eps);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"RmsNorm([{string.Join(", ", _normalizedShape)}])";
}
