using Backprop.NN.Layers;
using Backprop.Tensors;

namespace Backprop.Cli.Diagnostics;

/// <summary>
/// One network of the depth demonstration: how it is built, and the learning rate and clipping it is trained with.
/// <paramref name="LearningRateFactor"/> multiplies the run's --lr; <paramref name="ClipNorm"/> is the global
/// gradient-norm bound (null: no clipping).
/// </summary>
internal sealed record DepthVariant(string Name, string Description, double LearningRateFactor, double? ClipNorm,
                                    Func<int, int, Generator, DeepNet> Build);

/// <summary>The variants <c>backprop diagnose</c> compares, all with the same number of linear layers.</summary>
internal static class DepthVariants
{
    /// <summary>Weight scale of the exploding pair: He init times this, so the signal doubles at every layer.</summary>
    public const double ExplodingScale = 2;

    /// <summary>Learning-rate factor of the exploding pair (a large step on top of the over-scaled init).</summary>
    public const double ExplodingLearningRateFactor = 10;

    /// <summary>Global gradient-norm bound of the clipped exploding variant.</summary>
    public const double ClipNorm = 1;

    /// <summary>All variants, in the order of the table.</summary>
    public static readonly DepthVariant[] All =
    [
        new("sigmoid", "sigmoid, PyTorch default init", 1, null,
            (depth, width, g) => DeepNet.Stack(depth, width, g, () => new Sigmoid())),
        new("relu-he", "ReLU, He (Kaiming) init", 1, null,
            (depth, width, g) => DeepNet.Stack(depth, width, g, () => new Relu(), init: DeepNet.He())),
        new("batchnorm", "ReLU + batch norm, default init", 1, null,
            (depth, width, g) => DeepNet.Stack(depth, width, g, () => new Relu(), norm: w => new BatchNorm1d(w))),
        new("residual", "ReLU, residual blocks, default init", 1, null,
            (depth, width, g) => DeepNet.Residual(depth, width, g)),
        new("layernorm", "ReLU + layer norm, default init", 1, null,
            (depth, width, g) => DeepNet.Stack(depth, width, g, () => new Relu(), norm: w => new LayerNorm(w))),
        new("exploding", $"ReLU, {ExplodingScale}x He init, {ExplodingLearningRateFactor}x lr", ExplodingLearningRateFactor, null,
            (depth, width, g) => DeepNet.Stack(depth, width, g, () => new Relu(), init: DeepNet.He(ExplodingScale))),
        new("exploding-clip", $"same, global-norm clipping at {ClipNorm}", ExplodingLearningRateFactor, ClipNorm,
            (depth, width, g) => DeepNet.Stack(depth, width, g, () => new Relu(), init: DeepNet.He(ExplodingScale))),
    ];
}
