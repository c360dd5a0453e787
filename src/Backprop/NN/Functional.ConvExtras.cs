using Backprop.NN.Layers;
using Backprop.Ops.Conv;
using Backprop.Tensors;

namespace Backprop.NN;

public static partial class Functional
{
    /// <summary>
    /// 2-D convolution with PyTorch's string padding: "valid" (none) or "same" (the output keeps the
    /// input's height and width; stride must be 1; an odd total padding dilation·(k − 1) puts the extra
    /// row or column at the bottom or right, as PyTorch). Shapes as the int overload.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown padding string, "same" with a stride other than 1, or shapes that do not fit.</exception>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, string padding, IntPair? stride = null, IntPair? dilation = null, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ConvPadding p = ConvPadding.Parse(padding);
        IntPair s = stride ?? 1, d = dilation ?? 1;
        if (!p.IsSame) return Conv2d(input, weight, bias, s, (0, 0), d, groups);
        SamePadding.CheckStride("Conv2d", s.H, s.W);
        return Batched(input, "Conv2d", x => SamePadding.Conv2d(x, weight, bias, d, groups));
    }

    /// <summary>
    /// 1-D convolution (cross-correlation, as PyTorch): input [N, C, L] or unbatched [C, L], weight
    /// [outC, C/groups, k], bias [outC]; returns [N, outC, L'] (or [outC, L']) with
    /// L' = ⌊(L + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1. Runs on the 2-D convolution's kernels with height 1 (views, no copy).
    /// </summary>
    /// <exception cref="ArgumentException">Ranks, channels, groups, dtypes or sizes do not fit; the message names the shapes.</exception>
    /// <remarks>Differentiable once; a second derivative (createGraph through it) throws <see cref="NotSupportedException"/>.</remarks>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        return Conv1dOp.Forward(input, weight, bias, stride, (padding, padding), dilation, groups);
    }

    /// <summary>1-D convolution with padding "valid" (none) or "same" (output length L; stride must be 1; an odd total padding puts the extra element on the right).</summary>
    /// <exception cref="ArgumentException">An unknown padding string, "same" with a stride other than 1, or shapes that do not fit.</exception>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias, string padding, int stride = 1, int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (!ConvPadding.Parse(padding).IsSame) return Conv1dOp.Forward(input, weight, bias, stride, (0, 0), dilation, groups);
        if (stride != 1)
            throw new ArgumentException($"Conv1d: padding='same' is not supported for strided convolutions, got stride {stride}");
        if (weight.Rank != 3)
            throw new ArgumentException($"Conv1d: expected a 3-D weight [outC, C/groups, k], got shape {weight.Shape}");
        return Conv1dOp.Forward(input, weight, bias, 1, SamePadding.Split(weight.Shape[2], dilation), dilation, groups);
    }

    /// <summary>
    /// 2-D transposed convolution (PyTorch's conv_transpose2d, the gradient of Conv2d with respect to its
    /// input): input [N, inC, H, W] or unbatched [inC, H, W], weight [inC, outC/groups, kH, kW], bias [outC];
    /// returns [N, outC, OH, OW] with OH = (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1
    /// (likewise OW). outputPadding (smaller than the stride or the dilation) picks among the output sizes a
    /// strided convolution maps to the same input size.
    /// </summary>
    /// <exception cref="ArgumentException">Ranks, channels, groups, dtypes, outputPadding or sizes do not fit; the message names the shapes.</exception>
    /// <remarks>Differentiable once; a second derivative (createGraph through it) throws <see cref="NotSupportedException"/>.</remarks>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, IntPair? stride = null, IntPair padding = default,
                                         IntPair outputPadding = default, int groups = 1, IntPair? dilation = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        IntPair s = stride ?? 1, d = dilation ?? 1;
        if (input.Rank != 3) return ConvTranspose2dNode.Forward(input, weight, bias, s, padding, outputPadding, d, groups);
        Tensor y = ConvTranspose2dNode.Forward(input.Reshape(1, input.Shape[0], input.Shape[1], input.Shape[2]), weight, bias, s, padding, outputPadding, d, groups);
        return y.Reshape(y.Shape[1], y.Shape[2], y.Shape[3]); // [1, C, H, W] -> [C, H, W]
    }

    /// <summary>
    /// Adaptive average pooling of [N, C, H, W] or [C, H, W] to a square output of <paramref name="outputSize"/>
    /// (1: global average pooling). Window i covers [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉), PyTorch's rule, so any output size works.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, empty planes, or a non-positive output size.</exception>
    public static Tensor AdaptiveAvgPool2d(Tensor input, int outputSize) => AdaptiveAvgPool2d(input, (outputSize, outputSize));

    /// <summary>Adaptive average pooling to (OH, OW); a null entry keeps the input's size (PyTorch's None).</summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, empty planes, or a non-positive output size.</exception>
    public static Tensor AdaptiveAvgPool2d(Tensor input, (int? H, int? W) outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Batched(input, "AdaptiveAvgPool2d", x =>
        {
            var (oh, ow) = AdaptivePool2dGeometry.Create("AdaptiveAvgPool2d", x, outputSize);
            return AdaptiveAvgPool2dNode.Forward(x, oh, ow);
        });
    }

    /// <summary>
    /// Adaptive max pooling of [N, C, H, W] or [C, H, W] to a square output (windows as <see cref="AdaptiveAvgPool2d(Tensor, int)"/>);
    /// the gradient goes to each window's maximum (the first one, or the last NaN, as in PyTorch).
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, empty planes, or a non-positive output size.</exception>
    public static Tensor AdaptiveMaxPool2d(Tensor input, int outputSize) => AdaptiveMaxPool2d(input, (outputSize, outputSize));

    /// <summary>Adaptive max pooling to (OH, OW); a null entry keeps the input's size.</summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, empty planes, or a non-positive output size.</exception>
    public static Tensor AdaptiveMaxPool2d(Tensor input, (int? H, int? W) outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Batched(input, "AdaptiveMaxPool2d", x =>
        {
            var (oh, ow) = AdaptivePool2dGeometry.Create("AdaptiveMaxPool2d", x, outputSize);
            return AdaptiveMaxPool2dOp.Forward(x, oh, ow);
        });
    }
}
