using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>
/// Runs <see cref="IVectorUnary{T}"/> / <see cref="IVectorBinary{T}"/> kernels (which may carry
/// parameters such as a slope) over float32/float64 tensors, and broadcasting ones such as the tie weights.
/// </summary>
internal static class ElementwiseMap
{
    /// <summary>The elements in row-major order, without recording a copy in the graph.</summary>
    public static Tensor Packed(Tensor x) => x.IsContiguous ? x : x.Detach().Contiguous();

    /// <summary>y = f(x) on a float tensor; the result does not require grad.</summary>
    public static Tensor Unary<TF, TD>(Tensor x, TF f, TD d, string op)
        where TF : struct, IVectorUnary<float> where TD : struct, IVectorUnary<double>
    {
        x.CheckFloat(op);
        Tensor c = Packed(x);
        var y = Tensor.Uninitialized(x.Shape, x.DType); // every element is written below
        if (x.DType == DType.Float32) ParallelVectorLoop.Unary(f, c.ReadOnlyElements<float>(), y.Elements<float>());
        else ParallelVectorLoop.Unary(d, c.ReadOnlyElements<double>(), y.Elements<double>());
        return y;
    }

    /// <summary>y = f(a, b) for two float tensors of the same shape (fused backward kernels).</summary>
    public static Tensor Binary<TF, TD>(Tensor a, Tensor b, TF f, TD d, string op)
        where TF : struct, IVectorBinary<float> where TD : struct, IVectorBinary<double>
    {
        Tensor.CheckSameDType(a, b, op);
        a.CheckFloat(op);
        if (a.Shape != b.Shape)
            throw new ArgumentException($"{op}: operands must have the same shape, got {a.Shape} and {b.Shape}");
        Tensor ca = Packed(a), cb = Packed(b);
        var y = Tensor.Uninitialized(a.Shape, a.DType);
        if (a.DType == DType.Float32) ParallelVectorLoop.Binary(f, ca.ReadOnlyElements<float>(), cb.ReadOnlyElements<float>(), y.Elements<float>());
        else ParallelVectorLoop.Binary(d, ca.ReadOnlyElements<double>(), cb.ReadOnlyElements<double>(), y.Elements<double>());
        return y;
    }

    /// <summary>y = f(a, s) for a float tensor and a scalar second operand (e.g. derivative masks: f(x, 1)).</summary>
    public static Tensor WithScalar<TF, TD>(Tensor a, double s, TF f, TD d, string op)
        where TF : struct, IVectorBinary<float> where TD : struct, IVectorBinary<double>
    {
        a.CheckFloat(op);
        Tensor ca = Packed(a);
        var y = Tensor.Uninitialized(a.Shape, a.DType);
        if (a.DType == DType.Float32) VectorLoop.Binary(f, ca.ReadOnlyElements<float>(), (float)s, y.Elements<float>());
        else VectorLoop.Binary(d, ca.ReadOnlyElements<double>(), s, y.Elements<double>());
        return y;
    }

    /// <summary>Broadcasting, stateless vector op on float tensors; the result does not require grad.</summary>
    public static Tensor BroadcastFloat<TF, TD>(Tensor a, Tensor b, string op)
        where TF : struct, IVectorBinary<float> where TD : struct, IVectorBinary<double>
        => ElementwiseDispatch.BinaryFloat<VectorBinaryOp<float, TF>, VectorBinaryOp<double, TD>>(a.Detach(), b.Detach(), op);
}
