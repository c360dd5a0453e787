using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Kernels.Elementwise;

// The tie weights maximum and minimum route their gradients by. Comparisons that return bool tensors
// are PredicateKernels.cs.

/// <summary>
/// Share of the gradient that maximum/minimum routes to the first operand a: 0 where a &lt; b,
/// ½ on ties, 1 elsewhere (a &gt; b or unordered). Maximum uses it for a; minimum for b (swapped).
/// </summary>
internal readonly struct TieWeightLessOp<T> : IVectorBinary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Half = T.CreateChecked(0.5);

    public T Invoke(T a, T b) => a < b ? T.Zero : a == b ? Half : T.One;

    public Vector128<T> Invoke(Vector128<T> a, Vector128<T> b)
        => Vector128.ConditionalSelect(Vector128.Equals(a, b), Vector128.Create(Half), Vector128.AndNot(Vector128<T>.One, Vector128.LessThan(a, b)));

    public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b)
        => Vector256.ConditionalSelect(Vector256.Equals(a, b), Vector256.Create(Half), Vector256.AndNot(Vector256<T>.One, Vector256.LessThan(a, b)));

    public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b)
        => Vector512.ConditionalSelect(Vector512.Equals(a, b), Vector512.Create(Half), Vector512.AndNot(Vector512<T>.One, Vector512.LessThan(a, b)));
}

/// <summary>0 where a &gt; b, ½ on ties, 1 elsewhere: maximum's weight for b, minimum's for a.</summary>
internal readonly struct TieWeightGreaterOp<T> : IVectorBinary<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Half = T.CreateChecked(0.5);

    public T Invoke(T a, T b) => a > b ? T.Zero : a == b ? Half : T.One;

    public Vector128<T> Invoke(Vector128<T> a, Vector128<T> b)
        => Vector128.ConditionalSelect(Vector128.Equals(a, b), Vector128.Create(Half), Vector128.AndNot(Vector128<T>.One, Vector128.GreaterThan(a, b)));

    public Vector256<T> Invoke(Vector256<T> a, Vector256<T> b)
        => Vector256.ConditionalSelect(Vector256.Equals(a, b), Vector256.Create(Half), Vector256.AndNot(Vector256<T>.One, Vector256.GreaterThan(a, b)));

    public Vector512<T> Invoke(Vector512<T> a, Vector512<T> b)
        => Vector512.ConditionalSelect(Vector512.Equals(a, b), Vector512.Create(Half), Vector512.AndNot(Vector512<T>.One, Vector512.GreaterThan(a, b)));
}
