using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>
/// The input of a floating-point function such as sin or log1p, as PyTorch takes it: int64 and bool tensors are
/// computed in float32 (the default dtype), so <c>Sin</c> of an int64 tensor is a float32 tensor.
/// </summary>
internal static class FloatInput
{
    /// <summary><paramref name="x"/> itself when floating point, else converted to float32 (integers never require grad).</summary>
    public static Tensor Of(Tensor x) => x.DType.IsFloatingPoint() ? x : x.To(DType.Float32);
}
