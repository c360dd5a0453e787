using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>
/// Element-wise comparisons returning bool, as PyTorch's: the operands are promoted to a common dtype
/// first (<see cref="DTypes.ResultType"/>), broadcast, and never recorded by autograd.
/// </summary>
internal static class Compare
{
    public static Tensor Gt(Tensor a, Tensor b) => Run<GtPredicate<float>, GtPredicate<double>, GtPredicate<long>, GtPredicate<byte>>(a, b, "Gt");
    public static Tensor Ge(Tensor a, Tensor b) => Run<GePredicate<float>, GePredicate<double>, GePredicate<long>, GePredicate<byte>>(a, b, "Ge");
    public static Tensor Lt(Tensor a, Tensor b) => Run<LtPredicate<float>, LtPredicate<double>, LtPredicate<long>, LtPredicate<byte>>(a, b, "Lt");
    public static Tensor Le(Tensor a, Tensor b) => Run<LePredicate<float>, LePredicate<double>, LePredicate<long>, LePredicate<byte>>(a, b, "Le");
    public static Tensor Eq(Tensor a, Tensor b) => Run<EqPredicate<float>, EqPredicate<double>, EqPredicate<long>, EqPredicate<byte>>(a, b, "Eq");
    public static Tensor Ne(Tensor a, Tensor b) => Run<NePredicate<float>, NePredicate<double>, NePredicate<long>, NePredicate<byte>>(a, b, "Ne");

    /// <summary>
    /// Compares with a number, given as a 0-d tensor of the dtype a Python number gets: the tensor's own
    /// dtype when it is floating point; int64 for a whole number, so an int64 or bool tensor compares
    /// exactly (PyTorch would compare <c>x &gt; 2.0</c> in float32: the same answers while |x| &lt; 2^24);
    /// float32, the default dtype, for a fraction, so x &gt; 2.5 is not x &gt; 2.
    /// </summary>
    public static Tensor WithScalar(Tensor a, double value, Func<Tensor, Tensor, Tensor> compare)
    {
        if (a.DType.IsFloatingPoint()) return compare(a, Tensor.Scalar(value, a.DType));
        if (value == Math.Floor(value) && Math.Abs(value) < 9.2e18) return compare(a, Tensor.Scalar(value, DType.Int64));
        return compare(a, Tensor.Scalar(value, DType.Float32));
    }

    private static Tensor Run<TF, TD, TL, TB>(Tensor a, Tensor b, string op)
        where TF : IVectorPredicate<float> where TD : IVectorPredicate<double> where TL : IVectorPredicate<long> where TB : IVectorPredicate<byte>
    {
        a = a.Detach();
        b = b.Detach();
        ElementwiseDispatch.Promote(ref a, ref b);
        Shape shape = a.Shape == b.Shape ? a.Shape : Shape.Broadcast(a.Shape, b.Shape, op);
        Tensor y = Tensor.Uninitialized(shape, DType.Bool); // every element is written below
        Span<byte> dst = Logical.Bytes(y);
        switch (a.DType)
        {
            case DType.Float32: Run<float, TF>(a.Data<float>(), a, b.Data<float>(), b, y, dst); break;
            case DType.Float64: Run<double, TD>(a.Data<double>(), a, b.Data<double>(), b, y, dst); break;
            case DType.Int64: Run<long, TL>(a.Data<long>(), a, b.Data<long>(), b, y, dst); break;
            default: Run<byte, TB>(Logical.StorageBytes(a), a, Logical.StorageBytes(b), b, y, dst); break;
        }
        return y;
    }

    /// <summary>Contiguous operands (as long as y or single values) go straight to the kernel; anything else is walked row by row.</summary>
    private static void Run<T, TP>(ReadOnlySpan<T> aData, Tensor a, ReadOnlySpan<T> bData, Tensor b, Tensor y, Span<byte> dst)
        where T : unmanaged where TP : IVectorPredicate<T>
    {
        int n = y.Numel;
        if (a.IsContiguous && b.IsContiguous && (a.Numel == n || a.Numel == 1) && (b.Numel == n || b.Numel == 1))
        {
            PredicateKernel.Run<T, TP>(aData.Slice(a.Offset, a.Numel), bData.Slice(b.Offset, b.Numel), dst);
            return;
        }
        int rank = y.Rank;
        Span<int> sa = stackalloc int[rank];
        Span<int> sb = stackalloc int[rank];
        ElementwiseDispatch.BroadcastStrides(a, y.Shape, sa);
        ElementwiseDispatch.BroadcastStrides(b, y.Shape, sb);
        PredicateKernel.Run<T, TP>(aData, a.Offset, sa, bData, b.Offset, sb, dst, y.Shape.Dims);
    }
}
