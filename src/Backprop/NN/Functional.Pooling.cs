using Backprop.Kernels.Conv;
using Backprop.NN.Layers;
using Backprop.Ops.Conv;
using Backprop.Tensors;

namespace Backprop.NN;

// 1-D pooling, max pooling with indices, max unpooling and padding, with PyTorch's names, argument order and defaults.
public static partial class Functional
{
    /// <summary>
    /// 1-D max pooling over [N, C, L] or [C, L] (torch.nn.functional.max_pool1d): padding counts as −∞, the stride
    /// defaults to the kernel size, ceilMode rounds the output length up. The gradient goes to each window's argmax.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, padding above half the kernel, or an empty output.</exception>
    public static Tensor MaxPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        => MaxPool1dWithIndices(input, kernelSize, stride, padding, dilation, ceilMode).Output;

    /// <summary>
    /// <see cref="MaxPool1d"/> that also returns the int64 position along L of each output's maximum
    /// (max_pool1d with return_indices=True), the indices <see cref="MaxUnpool1d"/> takes.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, padding above half the kernel, or an empty output.</exception>
    public static (Tensor Output, Tensor Indices) MaxPool1dWithIndices(Tensor input, int kernelSize, int? stride = null, int padding = 0,
                                                                       int dilation = 1, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        Window2d g = Pool1d.Geometry("MaxPool1d", input, kernelSize, stride ?? kernelSize, padding, dilation, ceilMode);
        Tensor y = PlaneGatherNode.MaxPool(Pool1d.As2d(input), g, out Tensor idx);
        Tensor indices = PlaneIndices.ToInt64(idx, y.Shape);
        return (Pool1d.From2d(y, input.Rank), Pool1d.From2d(indices, input.Rank));
    }

    /// <summary>
    /// 1-D average pooling over [N, C, L] or [C, L] (torch.nn.functional.avg_pool1d); with countIncludePad (the
    /// default) the zero padding counts in the divisor.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, padding above half the kernel, or an empty output.</exception>
    public static Tensor AvgPool1d(Tensor input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        Window2d g = Pool1d.Geometry("AvgPool1d", input, kernelSize, stride ?? kernelSize, padding, 1, ceilMode);
        return Pool1d.From2d(AvgPool2dNode.Forward(Pool1d.As2d(input), g, countIncludePad), input.Rank);
    }

    /// <summary>
    /// <see cref="MaxPool2d(Tensor, ValueTuple{int, int}, ValueTuple{int, int}?, ValueTuple{int, int}, ValueTuple{int, int}?, bool)"/>
    /// that also returns, per output element, the int64 flat position h·W + w of its maximum within its [H, W] plane
    /// (torch.nn.functional.max_pool2d_with_indices), the indices <see cref="MaxUnpool2d"/> takes.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, padding above half the kernel, or an empty output.</exception>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, IntPair kernelSize, IntPair? stride = null, IntPair padding = default,
                                                                       IntPair? dilation = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is not (3 or 4))
            throw new ArgumentException($"MaxPool2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {input.Shape}");
        Tensor x = input.Rank == 4 ? input : input.Reshape(1, input.Shape[0], input.Shape[1], input.Shape[2]); // [C, H, W] -> [1, C, H, W]
        Window2d g = Pool2dGeometry.Create("MaxPool2d", x, kernelSize, stride ?? kernelSize, padding, dilation ?? 1, ceilMode);
        Tensor y = PlaneGatherNode.MaxPool(x, g, out Tensor idx);
        Tensor indices = PlaneIndices.ToInt64(idx, y.Shape);
        return input.Rank == 4 ? (y, indices) : (y.Reshape(y.Shape[1], y.Shape[2], y.Shape[3]), indices.Reshape(y.Shape[1], y.Shape[2], y.Shape[3]));
    }

    /// <summary>
    /// Max unpooling (torch.nn.functional.max_unpool2d): a zero tensor of [N, C, OH, OW] (or [C, OH, OW]) with each
    /// input element written at its index, the inverse of <see cref="MaxPool2dWithIndices"/>. The output size defaults
    /// to (H − 1)·stride − 2·padding + kernel; <paramref name="outputSize"/> picks another within one stride of it
    /// (the sizes a pool with ceilMode or a remainder came from). The gradient gathers dy at the indices.
    /// </summary>
    /// <exception cref="ArgumentException">Indices of another shape or dtype, an index outside the output plane, or an output size out of range.</exception>
    public static Tensor MaxUnpool2d(Tensor input, Tensor indices, IntPair kernelSize, IntPair? stride = null, IntPair padding = default,
                                     (int H, int W)? outputSize = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(indices);
        const string op = "MaxUnpool2d";
        if (input.Rank is not (3 or 4))
            throw new ArgumentException($"{op}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {input.Shape}");
        IntPair s = stride ?? kernelSize;
        int h = input.Shape[input.Rank - 2], w = input.Shape[input.Rank - 1];
        int oh = UnpoolSize(op, h, kernelSize.H, s.H, padding.H, outputSize?.H, "height");
        int ow = UnpoolSize(op, w, kernelSize.W, s.W, padding.W, outputSize?.W, "width");
        if (input.Rank == 4) return MaxUnpool2dNode.Forward(input, indices, oh, ow, op);
        Tensor y = MaxUnpool2dNode.Forward(input.Reshape(1, input.Shape[0], h, w), indices.Reshape(1, input.Shape[0], h, w), oh, ow, op);
        return y.Reshape(y.Shape[1], oh, ow); // [1, C, OH, OW] -> [C, OH, OW]
    }

    /// <summary>
    /// 1-D max unpooling (torch.nn.functional.max_unpool1d) of [N, C, L] or [C, L] with the indices of
    /// <see cref="MaxPool1dWithIndices"/>; output length (L − 1)·stride − 2·padding + kernel unless given.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="MaxUnpool2d"/>.</exception>
    public static Tensor MaxUnpool1d(Tensor input, Tensor indices, int kernelSize, int? stride = null, int padding = 0, int? outputSize = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(indices);
        const string op = "MaxUnpool1d";
        if (input.Rank is not (2 or 3))
            throw new ArgumentException($"{op}: expected a 2-D [C, L] or 3-D [N, C, L] input, got shape {input.Shape}");
        if (indices.Shape != input.Shape)
            throw new ArgumentException($"{op}: indices of shape {indices.Shape} must have the input's shape {input.Shape}");
        int ol = UnpoolSize(op, input.Shape[input.Rank - 1], kernelSize, stride ?? kernelSize, padding, outputSize, "length");
        Tensor y = MaxUnpool2dNode.Forward(Pool1d.As2d(input), Pool1d.As2d(indices), 1, ol, op);
        return Pool1d.From2d(y, input.Rank);
    }

    /// <summary>The unpooled size: (n − 1)·s − 2p + k, or a requested one within a stride of it (PyTorch's rule).</summary>
    private static int UnpoolSize(string op, int n, int k, int s, int p, int? requested, string what)
    {
        if (k <= 0 || s <= 0 || p < 0)
            throw new ArgumentException($"{op}: kernel size and stride must be positive and padding non-negative, got kernel {k}, stride {s}, padding {p}");
        int size = (n - 1) * s - 2 * p + k;
        if (requested is { } r)
        {
            if (r < size - s || r > size + s)
                throw new ArgumentException($"{op}: output {what} {r} must lie between {size - s} and {size + s} for input {what} {n}, kernel {k}, stride {s} and padding {p}");
            size = r;
        }
        if (size <= 0)
            throw new ArgumentException($"{op}: the output {what} would be {size} for input {what} {n}, kernel {k}, stride {s} and padding {p}");
        return size;
    }

    /// <summary>
    /// Pads a tensor (torch.nn.functional.pad). <paramref name="pad"/> lists (before, after) pairs starting from the
    /// last dim: (left, right) pads the last dim, (left, right, top, bottom) the last two. Modes: "constant" fills with
    /// <paramref name="value"/> and pads any number of dims, a negative pad cropping that side; "reflect" mirrors the
    /// input without repeating the edge (pads smaller than the size), "replicate" repeats the edge, "circular" wraps
    /// around (pads at most the size); these pad the last 1–3 dims of an input with one or two more dims (circular: two,
    /// a batch and a channel dim), as PyTorch 1.13. Differentiable in every mode.
    /// </summary>
    /// <exception cref="ArgumentException">An odd or too long pad list, an unknown mode, a rank the mode does not take, or a pad too large for the mode.</exception>
    public static Tensor Pad(Tensor input, int[] pad, string mode = "constant", double value = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(pad);
        return PadOp.Forward(input, pad, mode, value);
    }
}
