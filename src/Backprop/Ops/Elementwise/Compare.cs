using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>Element-wise comparisons returning 1/0 in the operands' dtype; never recorded by autograd.</summary>
internal static class Compare
{
    public static Tensor Gt(Tensor a, Tensor b) => ElementwiseMap.Broadcast<GtOp<float>, GtOp<double>, GtOp<long>>(a, b, "Gt");
    public static Tensor Ge(Tensor a, Tensor b) => ElementwiseMap.Broadcast<GeOp<float>, GeOp<double>, GeOp<long>>(a, b, "Ge");
    public static Tensor Lt(Tensor a, Tensor b) => ElementwiseMap.Broadcast<LtOp<float>, LtOp<double>, LtOp<long>>(a, b, "Lt");
    public static Tensor Le(Tensor a, Tensor b) => ElementwiseMap.Broadcast<LeOp<float>, LeOp<double>, LeOp<long>>(a, b, "Le");
    public static Tensor Eq(Tensor a, Tensor b) => ElementwiseMap.Broadcast<EqOp<float>, EqOp<double>, EqOp<long>>(a, b, "Eq");
    public static Tensor Ne(Tensor a, Tensor b) => ElementwiseMap.Broadcast<NeOp<float>, NeOp<double>, NeOp<long>>(a, b, "Ne");

    /// <summary>
    /// Compares with a number. An int64 tensor against a non-integral number is compared in
    /// float64 (as PyTorch promotes), so x &gt; 2.5 is not x &gt; 2; the result is still int64.
    /// </summary>
    public static Tensor WithScalar(Tensor a, double value, Func<Tensor, Tensor, Tensor> compare)
    {
        if (a.DType == DType.Int64 && (value != Math.Floor(value) || Math.Abs(value) >= 9.2e18))
            return compare(a.To(DType.Float64), Tensor.Scalar(value, DType.Float64)).To(DType.Int64);
        return compare(a, Tensor.Scalar(value, a.DType));
    }
}
