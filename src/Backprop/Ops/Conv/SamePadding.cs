using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// PyTorch's <c>padding="same"</c>: the total padding of a dim is dilation·(kernel − 1), split as
/// left = total / 2 and right = total − left, so an odd total puts the extra element on the right
/// (bottom). Stride must be 1. An asymmetric split is computed as a convolution padded by
/// <c>right</c> on both sides whose first output row or column is dropped (a view): with stride 1,
/// output o of the left-padded convolution is output o + (right − left) of the symmetric one.
/// </summary>
internal static class SamePadding
{
    /// <summary>The (left, right) padding of one dim for a kernel of <paramref name="kernel"/> taps spaced <paramref name="dilation"/> apart.</summary>
    public static (int Left, int Right) Split(int kernel, int dilation)
    {
        int total = dilation * (kernel - 1);
        return (total / 2, total - total / 2);
    }

    /// <summary>Throws unless the stride is 1 in every dim, PyTorch's rule for "same".</summary>
    /// <exception cref="ArgumentException">A stride is not 1.</exception>
    public static void CheckStride(string op, int strideH, int strideW)
    {
        if (strideH != 1 || strideW != 1)
            throw new ArgumentException($"{op}: padding='same' is not supported for strided convolutions, got stride ({strideH}, {strideW})");
    }

    /// <summary>A 4-D [N, C, H, W] "same" convolution: the output is [N, outC, H, W].</summary>
    /// <exception cref="ArgumentException">As <see cref="Conv2dNode.Validate"/>.</exception>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? b, (int H, int W) dilation, int groups)
    {
        if (w.Rank != 4)
            throw new ArgumentException($"Conv2d: expected a 4-D weight [outC, C/groups, kH, kW], got shape {w.Shape}");
        var (top, bottom) = Split(w.Shape[2], dilation.H);
        var (left, right) = Split(w.Shape[3], dilation.W);
        Tensor y = Conv2dNode.Forward(x, w, b, (1, 1), (bottom, right), dilation, groups);
        if (bottom != top) y = y.Narrow(2, bottom - top, y.Shape[2] - (bottom - top)); // drop the first row
        if (right != left) y = y.Narrow(3, right - left, y.Shape[3] - (right - left)); // drop the first column
        return y;
    }
}
