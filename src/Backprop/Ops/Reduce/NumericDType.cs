using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>The dtype check of ops whose kernels run on float32, float64 and int64 elements.</summary>
internal static class NumericDType
{
    /// <summary>Throws unless <paramref name="x"/> is float32, float64 or int64; the message names the op and the shape.</summary>
    public static void Require(Tensor x, string op)
    {
        if (x.DType is not (DType.Float32 or DType.Float64 or DType.Int64))
            throw new ArgumentException($"{op}: expected a float32, float64 or int64 tensor, got {x.DType.Name()} (shape {x.Shape}); convert it with To(DType)");
    }
}
