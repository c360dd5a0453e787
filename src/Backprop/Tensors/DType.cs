namespace Backprop.Tensors;

/// <summary>Element type of a tensor.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float, the default for data and parameters.</summary>
    Float32,
    /// <summary>64-bit IEEE float, used for gradient checks and exact reference values.</summary>
    Float64,
    /// <summary>64-bit signed integer, used for class labels and indices.</summary>
    Int64,
}

/// <summary>Helpers that map between <see cref="DType"/> and CLR element types.</summary>
public static class DTypes
{
    /// <summary>The dtype whose elements are <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException">T is not float, double or long.</exception>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.Float32;
        if (typeof(T) == typeof(double)) return DType.Float64;
        if (typeof(T) == typeof(long)) return DType.Int64;
        throw new NotSupportedException($"Tensor element type {typeof(T).Name} is not supported; use float, double or long.");
    }

    /// <summary>True for Float32 and Float64.</summary>
    public static bool IsFloatingPoint(this DType dtype) => dtype != DType.Int64;

    /// <summary>Size of one element in bytes.</summary>
    public static int ElementSize(this DType dtype) => dtype == DType.Float32 ? 4 : 8;

    /// <summary>Lower-case name as PyTorch prints it (float32, float64, int64).</summary>
    public static string Name(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        _ => "int64",
    };
}
