using System.Numerics;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>Converts a tensor's elements to another dtype (the kernel side of <c>To(DType)</c>; see <see cref="CastKernel"/>).</summary>
internal static class Cast
{
    /// <summary>Writes <paramref name="x"/> (any layout) converted into the contiguous <paramref name="y"/> of the same shape.</summary>
    public static void Into(Tensor x, Tensor y)
    {
        Tensor c = ElementwiseMap.Packed(x);
        switch (c.DType)
        {
            case DType.Float32: From<float>(c.ReadOnlyElements<float>(), y); break;
            case DType.Float64: From<double>(c.ReadOnlyElements<double>(), y); break;
            case DType.Int64: From<long>(c.ReadOnlyElements<long>(), y); break;
            default: From<byte>(Logical.Bytes(c), y); break;
        }
    }

    private static void From<T>(ReadOnlySpan<T> x, Tensor y) where T : unmanaged, INumber<T>
    {
        switch (y.DType)
        {
            case DType.Float32: CastKernel.Convert(x, y.Elements<float>()); break;
            case DType.Float64: CastKernel.Convert(x, y.Elements<double>()); break;
            case DType.Int64: CastKernel.Convert(x, y.Elements<long>()); break;
            default: CastKernel.ToBool(x, Logical.Bytes(y)); break;
        }
    }
}
