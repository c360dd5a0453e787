using Backprop.Kernels.Indexing;
using Backprop.Tensors;

namespace Backprop.Ops.Indexing;

/// <summary>Validation shared by the indexing ops; runs before any kernel touches memory.</summary>
internal static class IndexCheck
{
    /// <summary>Throws unless <paramref name="index"/> is int64.</summary>
    public static void Int64(Tensor index, string op)
    {
        if (index.DType == DType.Bool)
            throw new ArgumentException($"{op}: index must be int64, got a bool mask (shape {index.Shape}); select with a mask through MaskedSelect(mask) or Where, or turn it into 0/1 values with To(DType.Int64)");
        if (index.DType != DType.Int64)
            throw new ArgumentException($"{op}: index must be int64, got {index.DType.Name()} (shape {index.Shape}); convert with To(DType.Int64) (C# int arrays become int64 through Tensor.FromArray)");
    }

    /// <summary>
    /// The index as a contiguous int64 span after checking every value lies in [0, size);
    /// the message names the op, the bad value, the dim and its size.
    /// </summary>
    public static ReadOnlySpan<long> InRange(Tensor index, int size, int dim, Shape inputShape, string op)
    {
        ReadOnlySpan<long> values = index.Contiguous().ReadOnlyElements<long>();
        int bad = IndexKernels.FirstOutOfRange(values, size);
        if (bad >= 0)
            throw new ArgumentOutOfRangeException("index", $"{op}: index {values[bad]} is out of range for dimension {dim} with size {size} (input shape {inputShape}, index shape {index.Shape})");
        return values;
    }
}
