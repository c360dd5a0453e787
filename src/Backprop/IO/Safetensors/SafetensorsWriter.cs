using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Backprop.Tensors;

namespace Backprop.IO.Safetensors;

/// <summary>
/// Writes named tensors in the safetensors format (Hugging Face's; what <c>safetensors.torch.save_file</c>
/// writes): an 8-byte little-endian header length, a JSON header mapping each name to its <c>dtype</c>,
/// <c>shape</c> and <c>data_offsets</c> (plus optional string metadata under <c>__metadata__</c>), padded
/// with spaces to a multiple of 8 bytes, then the tensors' raw little-endian bytes. As the reference writer
/// does, tensors are laid out by alignment (I64, F64, then F32, then BOOL) and by name within a dtype, so
/// every tensor starts at a multiple of its element size; metadata keys are written in ordinal order.
/// float32, float64, int64 and bool tensors are written as F32, F64, I64 and BOOL.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Saves <paramref name="tensors"/> (a <c>Module.StateDict()</c> or any named set) to <paramref name="path"/>
    /// atomically: the bytes go to a temporary file beside it, reach the disk, and only then replace the
    /// target, so a failed save leaves any previous file intact.
    /// </summary>
    /// <param name="path">The file to write (by convention ending in <c>.safetensors</c>).</param>
    /// <param name="tensors">Names and tensors; non-contiguous tensors are written in row-major order.</param>
    /// <param name="metadata">Optional string metadata (<c>__metadata__</c>), e.g. <c>{"format": "pt"}</c>.</param>
    /// <exception cref="ArgumentException">A name is null, empty, repeated or "__metadata__", or a tensor is null; nothing is written.</exception>
    /// <exception cref="NotSupportedException">A tensor's dtype has no safetensors form; nothing is written.</exception>
    /// <exception cref="IOException">The file could not be written; any previous file at the path is unchanged.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        Plan plan = Prepare(tensors, metadata);
        AtomicFile.Write(path, "Safetensors", stream => WriteTo(stream, plan), LooksLikeSafetensors);
    }

    /// <summary>Writes the same bytes as <see cref="Save"/> to <paramref name="stream"/> (not atomically).</summary>
    /// <exception cref="ArgumentException">A name is null, empty, repeated or "__metadata__", or a tensor is null; nothing is written.</exception>
    /// <exception cref="NotSupportedException">A tensor's dtype has no safetensors form; nothing is written.</exception>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteTo(stream, Prepare(tensors, metadata));
    }

    /// <summary>An empty file or one starting with a header length and '{': what a stale temporary file of this writer holds.</summary>
    internal static bool LooksLikeSafetensors(ReadOnlySpan<byte> head) => head.Length == 0 || head.Length > 8 && head[8] == (byte)'{';

    private sealed record Plan(byte[] Header, List<(string Name, Tensor Tensor)> Order);

    private static Plan Prepare(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Safetensors: writing needs a little-endian machine");
        var items = new List<(string Name, Tensor Tensor, string DType, byte[] Utf8)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("Safetensors: a tensor has a null or empty name");
            if (name == "__metadata__") throw new ArgumentException("Safetensors: a tensor cannot be named '__metadata__' (the format reserves it)");
            if (tensor is null) throw new ArgumentException($"Safetensors: tensor '{name}' is null");
            if (!seen.Add(name)) throw new ArgumentException($"Safetensors: the name '{name}' appears more than once");
            byte[] utf8;
            try { utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(name); }
            catch (EncoderFallbackException e) { throw new ArgumentException($"Safetensors: the name '{name}' is not valid Unicode (a lone surrogate)", e); }
            items.Add((name, tensor, SafetensorsDTypes.FileName(tensor.DType, name), utf8));
        }
        // The reference order: alignment first, then the name's UTF-8 bytes.
        items.Sort((a, b) =>
        {
            int c = SafetensorsDTypes.WriteRank(a.DType).CompareTo(SafetensorsDTypes.WriteRank(b.DType));
            return c != 0 ? c : a.Utf8.AsSpan().SequenceCompareTo(b.Utf8);
        });

        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false });
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                var keys = new List<string>(metadata.Keys);
                keys.Sort(StringComparer.Ordinal);
                foreach (string key in keys) json.WriteString(key, metadata[key] ?? throw new ArgumentException($"Safetensors: metadata '{key}' is null"));
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor, dtype, _) in items)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                for (int d = 0; d < tensor.Rank; d++) json.WriteNumberValue(tensor.Shape[d]);
                json.WriteEndArray();
                long end = offset + (long)tensor.Numel * tensor.DType.ElementSize();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }
            json.WriteEndObject();
        }
        catch (ArgumentException e) when (e is not ArgumentNullException)
        {
            throw new ArgumentException($"Safetensors: the header cannot be written: {e.Message}", e);
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8; // the reference pads with spaces so the data starts 8-byte aligned
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        var order = new List<(string, Tensor)>(items.Count);
        foreach (var item in items) order.Add((item.Name, item.Tensor));
        return new Plan(header, order);
    }

    private static void WriteTo(Stream stream, Plan plan)
    {
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)plan.Header.Length);
        stream.Write(length);
        stream.Write(plan.Header);
        foreach (var (_, tensor) in plan.Order)
        {
            Tensor c = tensor.Contiguous();
            switch (c.DType)
            {
                case DType.Float32: WriteElements(stream, c.ReadOnlyElements<float>()); break;
                case DType.Float64: WriteElements(stream, c.ReadOnlyElements<double>()); break;
                case DType.Int64: WriteElements(stream, c.ReadOnlyElements<long>()); break;
                default: WriteElements(stream, c.ReadOnlyElements<bool>()); break; // one byte, 0 or 1
            }
        }
    }

    /// <summary>Writes the elements' bytes in pieces of at most 1 GiB (a span's byte length is an int).</summary>
    private static unsafe void WriteElements<T>(Stream stream, ReadOnlySpan<T> values) where T : unmanaged
    {
        int step = (1 << 30) / sizeof(T);
        for (long i = 0; i < values.Length; i += step)
            stream.Write(MemoryMarshal.AsBytes(values.Slice((int)i, (int)Math.Min(step, values.Length - i))));
    }
}
