using Backprop.Kernels.Conv;
using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// 1-D pooling over [N, C, L] or unbatched [C, L], run as the 2-D pooling of height-1 planes ([N, C, 1, L]
/// views, a (1, k) window), so max pooling's argmax kernels and average pooling's divisor rules are shared.
/// Its own checks come first so errors name the 1-D op and its arguments.
/// </summary>
internal static class Pool1d
{
    /// <summary>Checks the 1-D arguments as PyTorch does and returns the 2-D geometry of the height-1 pool.</summary>
    /// <exception cref="ArgumentException">Wrong rank or dtype, a non-positive kernel/stride/dilation, padding above half the kernel, or an empty output.</exception>
    public static Window2d Geometry(string op, Tensor x, int kernel, int stride, int padding, int dilation, bool ceilMode)
    {
        if (x.Rank is not (2 or 3))
            throw new ArgumentException($"{op}: expected a 2-D [C, L] or 3-D [N, C, L] input, got shape {x.Shape}");
        x.CheckFloat(op);
        if (kernel <= 0) throw new ArgumentException($"{op}: kernel size must be positive, got {kernel}");
        if (stride <= 0) throw new ArgumentException($"{op}: stride must be positive, got {stride}");
        if (dilation <= 0) throw new ArgumentException($"{op}: dilation must be positive, got {dilation}");
        if (padding < 0 || padding > kernel / 2)
            throw new ArgumentException($"{op}: padding must be between 0 and half the kernel size, got padding {padding} for kernel {kernel}");
        int l = x.Shape[x.Rank - 1];
        int ol = Window2d.OutputSize(l, kernel, stride, padding, dilation, ceilMode);
        if (ol < 1)
            throw new ArgumentException($"{op}: input of shape {x.Shape} is too small for kernel {kernel} with padding {padding} and dilation {dilation}: the output length would be {ol}");
        return new Window2d(1, l, 1, kernel, 1, stride, 0, padding, 1, dilation, 1, ol);
    }

    /// <summary>x [N, C, L] or [C, L] as [N, C, 1, L].</summary>
    public static Tensor As2d(Tensor x) => x.Rank == 3
        ? x.Reshape(x.Shape[0], x.Shape[1], 1, x.Shape[2])   // [N, C, L] -> [N, C, 1, L]
        : x.Reshape(1, x.Shape[0], 1, x.Shape[1]);           // [C, L] -> [1, C, 1, L]

    /// <summary>y [N, C, 1, L'] back to the input's rank: [N, C, L'] or [C, L'].</summary>
    public static Tensor From2d(Tensor y, int rank) => rank == 3
        ? y.Reshape(y.Shape[0], y.Shape[1], y.Shape[3])
        : y.Reshape(y.Shape[1], y.Shape[3]);
}
