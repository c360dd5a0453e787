using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// Reflect, replicate and circular padding of one dimension, as a gather: element i of the padded dim
/// reads input element src(i − left). Built on IndexSelect, so it is differentiable (the backward adds
/// the gradient of every copy back onto its source) without a node of its own.
/// </summary>
internal static class BorderPad
{
    /// <summary>Pads dim <paramref name="dim"/> of <paramref name="x"/> by <paramref name="left"/> and <paramref name="right"/> elements.</summary>
    /// <exception cref="ArgumentException">The padding is too large for the mode (reflect: at least the size; circular: more than the size), or the mode is Zeros.</exception>
    public static Tensor Pad(Tensor x, int dim, int left, int right, PaddingMode mode, string op)
    {
        if (left == 0 && right == 0) return x;
        int n = x.Shape[dim];
        switch (mode)
        {
            case PaddingMode.Reflect when left >= n || right >= n:
                throw new ArgumentException($"{op}: reflect padding ({left}, {right}) of dim {dim} must be smaller than its size {n} (input shape {x.Shape})");
            case PaddingMode.Circular when left > n || right > n:
                throw new ArgumentException($"{op}: circular padding ({left}, {right}) of dim {dim} must not exceed its size {n} (input shape {x.Shape})");
            case PaddingMode.Replicate when n == 0:
                throw new ArgumentException($"{op}: cannot replicate-pad dim {dim} of size 0 (input shape {x.Shape})");
            case PaddingMode.Zeros:
                throw new ArgumentException($"{op}: zero padding is done by the convolution itself");
        }
        var index = new long[n + left + right];
        for (int i = 0; i < index.Length; i++)
        {
            int j = i - left;
            index[i] = mode switch
            {
                PaddingMode.Reflect => j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j,
                PaddingMode.Replicate => Math.Clamp(j, 0, n - 1),
                _ => ((j % n) + n) % n,
            };
        }
        return x.IndexSelect(dim, Tensor.FromArray(index));
    }
}
