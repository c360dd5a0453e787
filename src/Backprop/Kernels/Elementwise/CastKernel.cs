using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Element type conversions on spans, as PyTorch's <c>to(dtype)</c> conversions: floats to int64 truncate toward
/// zero (saturating, NaN to 0, as a C# cast), bools read and write as bytes 0/1, and anything to bool is
/// "not zero" (NaN is true, −0 false).
/// </summary>
internal static class CastKernel
{
    /// <summary>y[i] = (TTo)x[i] between float, double and long, and from the bytes of a bool tensor.</summary>
    public static void Convert<TFrom, TTo>(ReadOnlySpan<TFrom> x, Span<TTo> y)
        where TFrom : unmanaged, INumber<TFrom> where TTo : unmanaged, INumber<TTo>
        => TensorPrimitives.ConvertTruncating(x, y);

    /// <summary>y[i] = x[i] ≠ 0, into the bytes of a bool tensor.</summary>
    public static void ToBool<T>(ReadOnlySpan<T> x, Span<byte> y) where T : unmanaged, INumber<T>
    {
        T zero = T.Zero;
        PredicateKernel.Run<T, NePredicate<T>>(x, MemoryMarshal.CreateReadOnlySpan(ref zero, 1), y);
    }
}
