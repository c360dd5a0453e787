namespace Backprop.Tensors;

/// <summary>Element type of a tensor.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float, the default for data and parameters.</summary>
    Float32,
    /// <summary>64-bit IEEE float, used for gradient checks and exact reference values.</summary>
    Float64,
    /// <summary>64-bit signed integer, used for class labels and indices (C# <c>int</c> arrays are stored as int64).</summary>
    Int64,
    /// <summary>True/false, one byte per element (C# <c>bool</c>): what comparisons return and what masks are.</summary>
    Bool,
}

/// <summary>Helpers that map between <see cref="DType"/> and CLR element types.</summary>
public static class DTypes
{
    /// <summary>The dtype whose elements are <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException">T is not float, double, long or bool.</exception>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(long)) return DType.Int64;
        if (typeof(T) == typeof(bool)) return DType.Bool;
        throw new NotSupportedException($"Tensor element type {typeof(T).Name} is not supported; use float, double, long or bool (Tensor.FromArray also takes int, stored as long).");
    }

    /// <summary>True for Float32 and Float64.</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>Size of one element in bytes.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Bool => 1,
        _ => 8,
    };

    /// <summary>Lower-case name as PyTorch prints it (float32, float64, int64, bool).</summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int64 => "int64",
        _ => "bool",
    };

    /// <summary>
    /// The smallest dtype both can be converted to without leaving their category (as torch.promote_types):
    /// bool &lt; int64 &lt; float32 &lt; float64, so int64 with float32 gives float32 and anything with float64 gives float64.
    /// </summary>
    public static DType PromoteTypes(DType a, DType b) => Rank(a) >= Rank(b) ? a : b;

    /// <summary>
    /// The dtype of a binary op's result, as torch.result_type: operands of the same kind (both with
    /// dimensions, or both 0-dimensional) promote as <see cref="PromoteTypes"/>; a 0-dimensional operand
    /// changes the dtype of a tensor with dimensions only when it is of a higher category (bool, integer,
    /// floating point), so float32 [n] with a float64 0-d tensor stays float32 while int64 [n] with a
    /// float32 0-d tensor becomes float32. C# numbers are passed as 0-d tensors of the dtype PyTorch gives
    /// a Python number: int64 for whole ones, the tensor's float dtype (or float32, the default) for doubles.
    /// </summary>
    public static DType ResultType(Tensor a, Tensor b)
    {
        DType da = a.DType, db = b.DType;
        if (da == db) return da;
        bool aDims = a.Rank > 0, bDims = b.Rank > 0;
        if (aDims == bDims) return PromoteTypes(da, db);
        (DType dims, DType zeroDim) = aDims ? (da, db) : (db, da);
        return Category(zeroDim) > Category(dims) ? PromoteTypes(dims, zeroDim) : dims;
    }

    /// <summary>0 bool, 1 integer, 2 floating point.</summary>
    private static int Category(DType dtype) => dtype switch
    {
        DType.Bool => 0,
        DType.Int64 => 1,
        _ => 2,
    };

    private static int Rank(DType dtype) => dtype switch
    {
        DType.Bool => 0,
        DType.Int64 => 1,
        DType.Float32 => 2,
        _ => 3,
    };
}
