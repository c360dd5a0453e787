using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Tensors;

/// <summary>
/// Runs a computation written once, generically, for the element type of a <see cref="DType"/>:
/// the one place where a dtype picks float, double, long or bool. The computation is a struct that
/// holds its arguments and implements <see cref="IFloatAction"/>, <see cref="IFloatFunc{TResult}"/>
/// or <see cref="INumberAction"/>; the JIT compiles one specialised copy per struct and element
/// type, so the call costs what a hand-written <c>if (Float32) … else …</c> costs: no delegate,
/// no closure, no boxing.
/// </summary>
/// <example>
/// <code>
/// DTypeSwitch.Float(x.DType, new Scale(x, y, 2.0));
///
/// readonly struct Scale(Tensor x, Tensor y, double factor) : IFloatAction
/// {
///     public void Run&lt;T&gt;() where T : unmanaged, IFloatingPointIeee754&lt;T&gt;
///         => TensorPrimitives.Multiply(x.ReadOnlyElements&lt;T&gt;(), T.CreateTruncating(factor), y.Elements&lt;T&gt;());
/// }
/// </code>
/// </example>
internal static class DTypeSwitch
{
    /// <summary>Runs <paramref name="action"/> on float for Float32 and on double otherwise (callers have checked the dtype is floating point).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Float<TAction>(DType dtype, TAction action) where TAction : IFloatAction, allows ref struct
    {
        if (dtype == DType.Float32) action.Run<float>();
        else action.Run<double>();
    }

    /// <summary>Like <see cref="Float{TAction}"/>, returning the computation's result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TResult Float<TFunc, TResult>(DType dtype, TFunc func) where TFunc : IFloatFunc<TResult>, allows ref struct
        => dtype == DType.Float32 ? func.Run<float>() : func.Run<double>();

    /// <summary>Runs <paramref name="action"/> on float, double or long for Float32, Float64 or Int64.</summary>
    /// <exception cref="NotSupportedException">The dtype is Bool: arithmetic is not defined on it (ops that take bool check first and say so).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Number<TAction>(DType dtype, TAction action) where TAction : INumberAction, allows ref struct
    {
        switch (dtype)
        {
            case DType.Float32: action.Run<float>(); break;
            case DType.Float64: action.Run<double>(); break;
            case DType.Int64: action.Run<long>(); break;
            default: ThrowBool(); break;
        }
    }

    /// <summary>Runs <paramref name="action"/> on float, double, long or bool: for computations that only move elements (copies, gathers, selects).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Element<TAction>(DType dtype, TAction action) where TAction : IElementAction, allows ref struct
    {
        switch (dtype)
        {
            case DType.Float32: action.Run<float>(); break;
            case DType.Float64: action.Run<double>(); break;
            case DType.Int64: action.Run<long>(); break;
            default: action.Run<bool>(); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBool() => throw new NotSupportedException(
        "This operation does not support bool tensors; convert with To(DType.Int64) or To(DType.Float32) first");
}

/// <summary>A computation written once for float and double; run it with <see cref="DTypeSwitch.Float{TAction}"/>.</summary>
internal interface IFloatAction
{
    /// <summary>Runs the computation on elements of type <typeparamref name="T"/>.</summary>
    void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>A computation with a result, written once for float and double; run it with <see cref="DTypeSwitch.Float{TFunc, TResult}"/>.</summary>
internal interface IFloatFunc<out TResult>
{
    /// <summary>Runs the computation on elements of type <typeparamref name="T"/>.</summary>
    TResult Run<T>() where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>A computation written once for float, double and long; run it with <see cref="DTypeSwitch.Number{TAction}"/>.</summary>
internal interface INumberAction
{
    /// <summary>Runs the computation on elements of type <typeparamref name="T"/>.</summary>
    void Run<T>() where T : unmanaged, INumber<T>;
}

/// <summary>A computation that only moves elements, written once for every dtype; run it with <see cref="DTypeSwitch.Element{TAction}"/>.</summary>
internal interface IElementAction
{
    /// <summary>Runs the computation on elements of type <typeparamref name="T"/>.</summary>
    void Run<T>() where T : unmanaged;
}
