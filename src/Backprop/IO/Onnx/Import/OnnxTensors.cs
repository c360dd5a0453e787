using System.Runtime.InteropServices;
using Backprop.IO.Onnx.Proto;
using Backprop.Tensors;
using DataType = Backprop.IO.Onnx.Proto.TensorProto.Types.DataType;

namespace Backprop.IO.Onnx.Import;

/// <summary>
/// TensorProto → <see cref="Tensor"/>: the dims and the data type checked, and the data's length checked
/// against dims × element size, before anything is allocated (so a hostile count allocates nothing).
/// Float, double, int64 and bool keep their dtype; the smaller integer types widen to int64.
/// </summary>
internal static class OnnxTensors
{
    /// <summary>The engine dtype an ONNX element type is read as, or null when none is.</summary>
    public static DType? DTypeOf(int elemType) => (DataType)elemType switch
    {
        DataType.Float => DType.Float32,
        DataType.Double => DType.Float64,
        DataType.Int64 or DataType.Int32 or DataType.Int16 or DataType.Int8 or DataType.Uint8 or DataType.Uint16 or DataType.Uint32 => DType.Int64,
        DataType.Bool => DType.Bool,
        _ => null,
    };

    /// <summary>The ONNX element type's name as the spec spells it (FLOAT, INT64, …).</summary>
    public static string Name(int elemType) =>
        Enum.IsDefined(typeof(DataType), elemType) ? ((DataType)elemType).ToString().ToUpperInvariant() : $"unknown ({elemType})";

    private static int RawSize(DataType t) => t switch
    {
        DataType.Double or DataType.Int64 or DataType.Uint64 => 8,
        DataType.Float or DataType.Int32 or DataType.Uint32 => 4,
        DataType.Int16 or DataType.Uint16 or DataType.Float16 or DataType.Bfloat16 => 2,
        _ => 1,
    };

    /// <summary>Reads <paramref name="proto"/>; <paramref name="where"/> names it in messages (file and field).</summary>
    /// <exception cref="InvalidDataException">Negative or overflowing dims, data of the wrong length, or external data.</exception>
    /// <exception cref="NotSupportedException">An element type the engine has no dtype for (float16, string, complex, …).</exception>
    public static Tensor Read(TensorProto proto, string where)
    {
        if (proto.HasDataLocation && proto.DataLocation == TensorProto.Types.DataLocation.External || proto.ExternalData.Count > 0)
            throw new InvalidDataException($"{where}: the data is stored in an external file, which the importer does not read (save the model with its data inside the .onnx file)");
        if (proto.Segment is not null)
            throw new InvalidDataException($"{where}: segmented tensors are not supported");
        var dims = new int[proto.Dims.Count];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = proto.Dims[i];
            if (d < 0 || d > int.MaxValue) throw new InvalidDataException($"{where}: dim {i} is {d}");
            count *= d;
            if (count > int.MaxValue) throw new InvalidDataException($"{where}: dims [{string.Join(", ", proto.Dims)}] hold more than 2^31 elements");
            dims[i] = (int)d;
        }
        var type = (DataType)proto.DataType;
        DType dtype = DTypeOf(proto.DataType) ?? throw new NotSupportedException($"{where}: element type {Name(proto.DataType)} is not supported (FLOAT, DOUBLE, INT64, BOOL and smaller integers are)");
        int n = (int)count;
        var shape = new Shape(dims);
        if (proto.HasRawData)
        {
            ReadOnlySpan<byte> raw = proto.RawData.Span;
            long want = count * RawSize(type);
            if (raw.Length != want)
                throw new InvalidDataException($"{where}: raw_data has {raw.Length} bytes, but dims [{string.Join(", ", dims)}] of {Name(proto.DataType)} need {want}");
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX import: big-endian platforms are not supported");
            return type switch
            {
                DataType.Float => Tensor.FromArray(MemoryMarshal.Cast<byte, float>(raw).ToArray(), shape),
                DataType.Double => Tensor.FromArray(MemoryMarshal.Cast<byte, double>(raw).ToArray(), shape),
                DataType.Int64 => Tensor.FromArray(MemoryMarshal.Cast<byte, long>(raw).ToArray(), shape),
                DataType.Bool => Tensor.FromArray(Bools(raw), shape),
                _ => Tensor.FromArray(Widen(raw, type, n), shape),
            };
        }
        return type switch
        {
            DataType.Float => Tensor.FromArray(Counted(proto.FloatData, n, "float_data", where), shape),
            DataType.Double => Tensor.FromArray(Counted(proto.DoubleData, n, "double_data", where), shape),
            DataType.Int64 => Tensor.FromArray(Counted(proto.Int64Data, n, "int64_data", where), shape),
            DataType.Bool => Tensor.FromArray(Array.ConvertAll(Counted(proto.Int32Data, n, "int32_data", where), v => v != 0), shape),
            DataType.Uint32 => Tensor.FromArray(Array.ConvertAll(Counted(proto.Uint64Data, n, "uint64_data", where), v => (long)v), shape),
            _ => Tensor.FromArray(Array.ConvertAll(Counted(proto.Int32Data, n, "int32_data", where), v => (long)v), shape),
        };
    }

    private static T[] Counted<T>(Google.Protobuf.Collections.RepeatedField<T> field, int n, string fieldName, string where)
    {
        if (field.Count != n)
            throw new InvalidDataException($"{where}: {fieldName} has {field.Count} values, but the dims hold {n} elements");
        var values = new T[n];
        field.CopyTo(values, 0);
        return values;
    }

    private static bool[] Bools(ReadOnlySpan<byte> raw)
    {
        var values = new bool[raw.Length];
        for (int i = 0; i < raw.Length; i++) values[i] = raw[i] != 0;
        return values;
    }

    private static long[] Widen(ReadOnlySpan<byte> raw, DataType type, int n)
    {
        var values = new long[n];
        for (int i = 0; i < n; i++)
            values[i] = type switch
            {
                DataType.Int32 => BitConverter.ToInt32(raw.Slice(4 * i, 4)),
                DataType.Uint32 => BitConverter.ToUInt32(raw.Slice(4 * i, 4)),
                DataType.Int16 => BitConverter.ToInt16(raw.Slice(2 * i, 2)),
                DataType.Uint16 => BitConverter.ToUInt16(raw.Slice(2 * i, 2)),
                DataType.Int8 => (sbyte)raw[i],
                _ => raw[i],
            };
        return values;
    }
}
