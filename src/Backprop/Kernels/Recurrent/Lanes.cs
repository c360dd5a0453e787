using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

using Backprop.Kernels.Elementwise;

namespace Backprop.Kernels.Recurrent;

/// <summary>
/// One width of SIMD register (512, 256 or 128 bits) or a single value, behind one set of operators,
/// so each gate kernel is written once (<see cref="LstmCellKernel"/>, …) and compiled by the JIT for
/// every width: the widest the CPU runs covers the bulk of a row, the scalar form the tail. Sigmoid and
/// tanh come from one exponential each: σ(x) = 1/(1 + e^−x); tanh x = −m/(m + 2) with m = e^−2x − 1 in
/// float (relative accuracy near 0 too), 2/(1 + e^−2x) − 1 in double (absolute error a few units in the
/// last place of 1); all exact at ±∞. The single value uses the runtime's tanh.
/// </summary>
internal unsafe interface ILanes<TV, T> where TV : struct, ILanes<TV, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Values per register.</summary>
    static abstract int Count { get; }

    /// <summary>Whether this width runs in hardware (else its loop is skipped).</summary>
    static abstract bool IsAccelerated { get; }

    static abstract TV Load(T* p);
    static abstract void Store(TV v, T* p);
    static abstract TV Splat(T x);
    static abstract TV operator +(TV a, TV b);
    static abstract TV operator -(TV a, TV b);
    static abstract TV operator *(TV a, TV b);
    static abstract TV Sigmoid(TV x);
    static abstract TV Tanh(TV x);

    /// <summary>max(x, 0).</summary>
    static abstract TV Relu(TV x);

    /// <summary>dy where y &gt; 0, else 0 (the gradient of ReLU at 0 is 0, as in PyTorch).</summary>
    static abstract TV ReluGrad(TV y, TV dy);
}

internal readonly unsafe struct Lanes512<T>(Vector512<T> v) : ILanes<Lanes512<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector512<T> _v = v;

    public static int Count => Vector512<T>.Count;
    public static bool IsAccelerated => Vector512.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Load(T* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes512<T> v, T* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Splat(T x) => new(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator +(Lanes512<T> a, Lanes512<T> b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator -(Lanes512<T> a, Lanes512<T> b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> operator *(Lanes512<T> a, Lanes512<T> b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512<T> Sigmoid(Lanes512<T> x) => new(Vector512<T>.One / (Vector512<T>.One + Exp(-x._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512<T> Tanh(Lanes512<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector512<float> m = FloatExp.ExpM1(-(x._v.AsSingle() + x._v.AsSingle()));           // e^−2x − 1
            return new(((Vector512<float>.Zero - m) / (m + Vector512.Create(2f))).As<float, T>());
        }
        Vector512<T> two = Vector512<T>.One + Vector512<T>.One;
        return new(two / (Vector512<T>.One + Exp(-(x._v + x._v))) - Vector512<T>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512<T> Relu(Lanes512<T> x) => new(Vector512.Max(x._v, Vector512<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512<T> ReluGrad(Lanes512<T> y, Lanes512<T> dy) => new(Vector512.ConditionalSelect(Vector512.GreaterThan(y._v, Vector512<T>.Zero), dy._v, Vector512<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Exp(Vector512<T> x) => SimdMath.Exp(x);

}

internal readonly unsafe struct Lanes256<T>(Vector256<T> v) : ILanes<Lanes256<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector256<T> _v = v;

    public static int Count => Vector256<T>.Count;
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Load(T* p) => new(Vector256.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes256<T> v, T* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Splat(T x) => new(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator +(Lanes256<T> a, Lanes256<T> b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator -(Lanes256<T> a, Lanes256<T> b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> operator *(Lanes256<T> a, Lanes256<T> b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256<T> Sigmoid(Lanes256<T> x) => new(Vector256<T>.One / (Vector256<T>.One + Exp(-x._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256<T> Tanh(Lanes256<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector256<float> m = FloatExp.ExpM1(-(x._v.AsSingle() + x._v.AsSingle()));           // e^−2x − 1
            return new(((Vector256<float>.Zero - m) / (m + Vector256.Create(2f))).As<float, T>());
        }
        Vector256<T> two = Vector256<T>.One + Vector256<T>.One;
        return new(two / (Vector256<T>.One + Exp(-(x._v + x._v))) - Vector256<T>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256<T> Relu(Lanes256<T> x) => new(Vector256.Max(x._v, Vector256<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256<T> ReluGrad(Lanes256<T> y, Lanes256<T> dy) => new(Vector256.ConditionalSelect(Vector256.GreaterThan(y._v, Vector256<T>.Zero), dy._v, Vector256<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Exp(Vector256<T> x) => SimdMath.Exp(x);

}

internal readonly unsafe struct Lanes128<T>(Vector128<T> v) : ILanes<Lanes128<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Vector128<T> _v = v;

    public static int Count => Vector128<T>.Count;
    public static bool IsAccelerated => Vector128.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Load(T* p) => new(Vector128.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes128<T> v, T* p) => v._v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Splat(T x) => new(Vector128.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator +(Lanes128<T> a, Lanes128<T> b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator -(Lanes128<T> a, Lanes128<T> b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> operator *(Lanes128<T> a, Lanes128<T> b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128<T> Sigmoid(Lanes128<T> x) => new(Vector128<T>.One / (Vector128<T>.One + Exp(-x._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128<T> Tanh(Lanes128<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector128<float> m = FloatExp.ExpM1(-(x._v.AsSingle() + x._v.AsSingle()));           // e^−2x − 1
            return new(((Vector128<float>.Zero - m) / (m + Vector128.Create(2f))).As<float, T>());
        }
        Vector128<T> two = Vector128<T>.One + Vector128<T>.One;
        return new(two / (Vector128<T>.One + Exp(-(x._v + x._v))) - Vector128<T>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128<T> Relu(Lanes128<T> x) => new(Vector128.Max(x._v, Vector128<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128<T> ReluGrad(Lanes128<T> y, Lanes128<T> dy) => new(Vector128.ConditionalSelect(Vector128.GreaterThan(y._v, Vector128<T>.Zero), dy._v, Vector128<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Exp(Vector128<T> x) => SimdMath.Exp(x);

}

/// <summary>One value: the tail of every row, the whole row without SIMD, and the reference the vector widths are tested against.</summary>
internal readonly unsafe struct Lanes1<T>(T v) : ILanes<Lanes1<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T _v = v;

    public static int Count => 1;
    public static bool IsAccelerated => true;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Load(T* p) => new(*p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Lanes1<T> v, T* p) => *p = v._v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Splat(T x) => new(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator +(Lanes1<T> a, Lanes1<T> b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator -(Lanes1<T> a, Lanes1<T> b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> operator *(Lanes1<T> a, Lanes1<T> b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Sigmoid(Lanes1<T> x) => new(T.One / (T.One + T.Exp(-x._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1<T> Tanh(Lanes1<T> x) => new(T.Tanh(x._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> Relu(Lanes1<T> x) => new(T.Max(x._v, T.Zero));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes1<T> ReluGrad(Lanes1<T> y, Lanes1<T> dy) => new(y._v > T.Zero ? dy._v : T.Zero);
}
