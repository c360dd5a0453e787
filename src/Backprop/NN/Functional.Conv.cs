using Backprop.Kernels.Conv;
using Backprop.Ops.Conv;
using Backprop.Tensors;

namespace Backprop.NN;

/// <summary>Neural-network functions in the style of <c>torch.nn.functional</c>.</summary>
public static partial class Functional
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as PyTorch): input [N, C, H, W] or unbatched [C, H, W],
    /// weight [outC, C/groups, kH, kW], bias [outC]; returns [N, outC, OH, OW] (or [outC, OH, OW]).
    /// </summary>
    /// <exception cref="ArgumentException">Ranks, channels, groups, dtypes or sizes do not fit; the message names the shapes.</exception>
    /// <remarks>Differentiable once; a second derivative (createGraph through it) throws <see cref="NotSupportedException"/>.</remarks>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
        => Conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>2-D convolution with separate (height, width) stride, padding and dilation.</summary>
    /// <exception cref="ArgumentException">Ranks, channels, groups, dtypes or sizes do not fit.</exception>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding = default,
                                (int H, int W)? dilation = null, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank == 3)
        {
            Tensor y = Conv2dNode.Forward(input.Reshape(1, input.Shape[0], input.Shape[1], input.Shape[2]), weight, bias,
                stride, padding, dilation ?? (1, 1), groups);
            return y.Reshape(y.Shape[1], y.Shape[2], y.Shape[3]);
        }
        return Conv2dNode.Forward(input, weight, bias, stride, padding, dilation ?? (1, 1), groups);
    }

    /// <summary>
    /// MaxPool2d(2)(Relu(Conv2d(input))) for a 4-D input [N, C, H, W] as one fused op, with the values
    /// and gradients of the three ops (used by the fused Conv2dReluMaxPool2d module): the convolution output
    /// is pooled as it is produced and never stored, so it cannot be hooked. Returns [N, outC, OH/2, OW/2].
    /// </summary>
    /// <exception cref="ArgumentException">As the pair form of <c>Conv2d</c>, or the convolution output is smaller than 2×2.</exception>
    /// <remarks>Differentiable once; a second derivative (createGraph through it) throws <see cref="NotSupportedException"/>.</remarks>
    public static Tensor Conv2dReluMaxPool2d(Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding,
                                             (int H, int W) dilation, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        return Conv2dReluMaxPool2dNode.Forward(input, weight, bias, stride, padding, dilation, groups);
    }

    /// <summary>
    /// 2-D max pooling over [N, C, H, W] or [C, H, W]: padding counts as −∞, stride defaults to the
    /// kernel size, ceilMode rounds the output size up (windows starting in the right padding are dropped).
    /// The gradient goes to each window's argmax.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, padding above half the kernel, or an empty output.</exception>
    public static Tensor MaxPool2d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => MaxPool2d(input, (kernelSize, kernelSize), stride is { } s ? (s, s) : null, (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>2-D max pooling with separate (height, width) kernel, stride, padding and dilation.</summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, padding above half the kernel, or an empty output.</exception>
    public static Tensor MaxPool2d(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W) padding = default,
                                   (int H, int W)? dilation = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Batched(input, "MaxPool2d", x =>
        {
            Window2d g = Pool2dGeometry.Create("MaxPool2d", x, kernelSize, stride ?? kernelSize, padding, dilation ?? (1, 1), ceilMode);
            return PlaneGatherNode.MaxPool(x, g);
        });
    }

    /// <summary>
    /// 2-D average pooling over [N, C, H, W] or [C, H, W]; with countIncludePad the zero padding
    /// counts in the divisor (PyTorch default), otherwise only real pixels do; a divisorOverride
    /// divides every window's sum instead.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, padding above half the kernel, an empty output, or divisorOverride 0.</exception>
    public static Tensor AvgPool2d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true,
                                   int? divisorOverride = null)
        => AvgPool2d(input, (kernelSize, kernelSize), stride is { } s ? (s, s) : null, (padding, padding), ceilMode, countIncludePad, divisorOverride);

    /// <summary>2-D average pooling with separate (height, width) kernel, stride and padding.</summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, padding above half the kernel, an empty output, or divisorOverride 0.</exception>
    public static Tensor AvgPool2d(Tensor input, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W) padding = default,
                                   bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (divisorOverride == 0)
            throw new ArgumentException($"AvgPool2d: divisorOverride must not be zero (input shape {input.Shape})");
        return Batched(input, "AvgPool2d", x =>
        {
            Window2d g = Pool2dGeometry.Create("AvgPool2d", x, kernelSize, stride ?? kernelSize, padding, (1, 1), ceilMode);
            return AvgPool2dNode.Forward(x, g, countIncludePad, divisorOverride ?? 0);
        });
    }

    /// <summary>Runs a 4-D op on a 3-D input by adding and removing a batch dimension.</summary>
    private static Tensor Batched(Tensor input, string op, Func<Tensor, Tensor> f)
    {
        if (input.Rank == 4) return f(input);
        if (input.Rank != 3)
            throw new ArgumentException($"{op}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {input.Shape}");
        Tensor y = f(input.Reshape(1, input.Shape[0], input.Shape[1], input.Shape[2])); // [C, H, W] -> [1, C, H, W]
        return y.Reshape(y.Shape[1], y.Shape[2], y.Shape[3]);
    }
}
