using Backprop.Tensors;

namespace Backprop.IO.Safetensors;

/// <summary>
/// The dtype strings of the safetensors format: their element sizes (every dtype the format defines
/// with whole-byte elements, so a file's layout can be checked even where Backprop cannot read a
/// tensor's values) and which Backprop dtype each one loads as.
/// </summary>
internal static class SafetensorsDTypes
{
    /// <summary>Size in bytes of one element of <paramref name="name"/>, or 0 when the format defines no such dtype (or a sub-byte one).</summary>
    public static int ElementSize(string name) => name switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" => 8,
        _ => 0,
    };

    /// <summary>
    /// The Backprop dtype a file dtype loads as: F32, F64, I64 and BOOL as themselves, F16 and BF16 widened
    /// to Float32 (exactly: every half and bfloat16 value is a float), I32 widened to Int64 (Backprop has
    /// no int32 storage). False for the format's other dtypes.
    /// </summary>
    public static bool TryLoadsAs(string name, out DType dtype)
    {
        switch (name)
        {
            case "F32" or "F16" or "BF16": dtype = DType.Float32; return true;
            case "F64": dtype = DType.Float64; return true;
            case "I64" or "I32": dtype = DType.Int64; return true;
            case "BOOL": dtype = DType.Bool; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>The file dtype a Backprop tensor is written as.</summary>
    /// <exception cref="NotSupportedException">A dtype this writer does not know.</exception>
    public static string FileName(DType dtype, string tensor) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int64 => "I64",
        DType.Bool => "BOOL",
        _ => throw new NotSupportedException($"Safetensors: tensor '{tensor}' has dtype {dtype}, which cannot be written as safetensors (supported: float32, float64, int64, bool)"),
    };

    /// <summary>
    /// Order of the reference writer (safetensors' Rust crate): larger alignment first, so with the data
    /// section 8-byte aligned every tensor starts at a multiple of its element size. Among the dtypes
    /// Backprop writes that is I64, F64, F32, BOOL (the crate's enum order, descending).
    /// </summary>
    public static int WriteRank(string fileDType) => fileDType switch
    {
        "I64" => 0,
        "F64" => 1,
        "F32" => 2,
        _ => 3,
    };

    /// <summary>The names every message lists as readable.</summary>
    public const string Readable = "F32, F64, I64, BOOL, F16 and BF16 (as float32), I32 (as int64)";
}
