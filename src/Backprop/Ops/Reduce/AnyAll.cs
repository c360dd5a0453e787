using Backprop.Kernels.Reduce;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>
/// torch.any and torch.all: whether any (every) element is nonzero, over the whole tensor or along one
/// dim, as a bool tensor. Any dtype is read as nonzero-is-true (NaN is true). Not differentiable.
/// </summary>
internal static class AnyAll
{
    /// <summary>Over every element: a 0-d bool tensor.</summary>
    public static Tensor Whole(Tensor x, bool all)
    {
        Tensor b = Packed(x);
        Tensor y = Tensor.Uninitialized(Shape.Scalar, DType.Bool);
        Reduce(Logical.Bytes(b), 1, b.Numel, 1, Logical.Bytes(y), all);
        return y;
    }

    /// <summary>Along <paramref name="dim"/>, which is dropped unless <paramref name="keepDim"/>.</summary>
    public static Tensor AlongDim(Tensor x, int dim, bool keepDim, bool all)
    {
        string op = all ? "All" : "Any";
        int d = x.Shape.NormalizeDim(dim, op);
        Tensor b = Packed(x);
        if (x.Rank == 0) return b.IsContiguous && !ReferenceEquals(b, x) ? b : b.Clone(); // a 0-d tensor reduces to itself
        int outer = 1, inner = 1;
        for (int k = 0; k < d; k++) outer *= x.Shape[k];
        for (int k = d + 1; k < x.Rank; k++) inner *= x.Shape[k];
        int[] dims = x.Shape.ToArray();
        dims[d] = 1;
        Tensor y = Tensor.Uninitialized(new Shape(dims), DType.Bool);
        Reduce(Logical.Bytes(b), outer, x.Shape[d], inner, Logical.Bytes(y), all);
        if (keepDim) return y;
        int[] dropped = new int[x.Rank - 1];
        for (int k = 0, j = 0; k < x.Rank; k++) if (k != d) dropped[j++] = x.Shape[k];
        return y.Reshape(dropped);
    }

    private static void Reduce(ReadOnlySpan<byte> x, int outer, int size, int inner, Span<byte> y, bool all)
    {
        if (all) AnyAllKernel.All(x, outer, size, inner, y);
        else AnyAllKernel.Any(x, outer, size, inner, y);
    }

    /// <summary>x as a contiguous bool tensor (a conversion for other dtypes writes a packed one).</summary>
    private static Tensor Packed(Tensor x)
    {
        Tensor b = Logical.AsBool(x);
        return b.IsContiguous ? b : b.Detach().Contiguous();
    }
}
