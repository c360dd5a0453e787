using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.View;

/// <summary>Strided copies between tensors of one dtype, for any dtype: the tensor-facing side of <see cref="CopyKernel"/>.</summary>
internal static class StridedCopy
{
    /// <summary>Copies the elements of <paramref name="x"/> (any layout) into the contiguous <paramref name="y"/> in row-major order.</summary>
    public static void Pack(Tensor x, Tensor y) => DTypeSwitch.Element(x.DType, new PackKernel(x, y));

    /// <summary>
    /// Writes the contiguous <paramref name="packed"/> (of dims <paramref name="shape"/>) into the storage of
    /// <paramref name="dst"/> at <paramref name="offset"/> with <paramref name="strides"/>.
    /// </summary>
    public static void Scatter(Tensor packed, Tensor dst, int offset, ReadOnlySpan<int> strides, ReadOnlySpan<int> shape)
        => DTypeSwitch.Element(dst.DType, new ScatterKernel(packed, dst, offset, strides, shape));

    private readonly struct PackKernel(Tensor x, Tensor y) : IElementAction
    {
        public void Run<T>() where T : unmanaged => CopyKernel.Run(x.Data<T>(), x.Offset, x.Strides, x.Shape.Dims, y.Elements<T>());
    }

    private readonly ref struct ScatterKernel(Tensor packed, Tensor dst, int offset, ReadOnlySpan<int> strides, ReadOnlySpan<int> shape) : IElementAction
    {
        private readonly ReadOnlySpan<int> _strides = strides, _shape = shape;

        public void Run<T>() where T : unmanaged => CopyKernel.Scatter(packed.ReadOnlyElements<T>(), dst.Data<T>(), offset, _strides, _shape);
    }
}
