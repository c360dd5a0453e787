using System.Buffers.Binary;
using System.Text;

namespace Backprop.Tests.Support;

/// <summary>
/// Builds safetensors files from a header written as text and raw data bytes, independently of
/// SafetensorsWriter, so tests can state any header (valid or not) and any header length.
/// </summary>
internal static class SafetensorsBytes
{
    /// <summary>8-byte little-endian length of <paramref name="header"/>, its UTF-8 bytes, then <paramref name="data"/>.</summary>
    public static byte[] Make(string header, byte[] data, ulong? declaredLength = null)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    /// <summary>One tensor entry's JSON: <c>"name":{"dtype":…,"shape":[…],"data_offsets":[b,e]}</c>.</summary>
    public static string Entry(string name, string dtype, int[] shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{end}]}}";
}
