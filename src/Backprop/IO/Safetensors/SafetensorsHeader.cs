using System.Text;
using System.Text.Json;

namespace Backprop.IO.Safetensors;

/// <summary>
/// Parses and validates a safetensors JSON header before anything is sized from it: every entry has a
/// known dtype, a shape of non-negative dimensions and two offsets; shape × element size equals the
/// offsets' span; the tensors tile the data section exactly (from byte 0 to its end, no overlap, no gap,
/// no trailing bytes: the rule of the reference implementation); names are unique; <c>__metadata__</c>
/// maps strings to strings. Unknown fields inside an entry are ignored, as the reference reader does.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The reference implementation's limit on the header's length (100 MB).</summary>
    public const long MaxLength = 100_000_000;

    /// <summary>Parses <paramref name="json"/> and checks it against a data section of <paramref name="dataLength"/> bytes.</summary>
    /// <exception cref="InvalidDataException">The header is not valid JSON or breaks a rule; the message names the field or tensor.</exception>
    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> json, long dataLength)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
            throw new InvalidDataException("the header does not start with '{' (not a safetensors file?)");
        var entries = new List<SafetensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, "the header");
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string name = reader.GetString()!;
                if (name == "__metadata__")
                {
                    if (sawMetadata) throw new InvalidDataException("'__metadata__' appears more than once");
                    sawMetadata = true;
                    ReadMetadata(ref reader, metadata);
                    continue;
                }
                if (!names.Add(name)) throw new InvalidDataException($"the tensor name '{name}' appears more than once");
                entries.Add(ReadEntry(ref reader, name));
            }
            // Anything after the object but the reference writer's space padding (or other whitespace) is an error.
            if (reader.Read()) throw new InvalidDataException($"unexpected content after the header object at byte {reader.TokenStartIndex}");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the header is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e) // a string that is not valid UTF-8
        {
            throw new InvalidDataException($"the header holds an invalid string near byte {reader.TokenStartIndex}: {e.Message}", e);
        }
        CheckLayout(entries, dataLength);
        return (entries, metadata);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) throw new InvalidDataException("the header ends in the middle of its JSON");
        return reader.TokenType;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        JsonTokenType got = Next(ref reader);
        if (got != type) throw new InvalidDataException($"{what} should be {Describe(type)} but is {Describe(got)}");
    }

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => type.ToString(),
    };

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        if (Next(ref reader) == JsonTokenType.Null) return; // the reference reader takes null as no metadata
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new InvalidDataException($"'__metadata__' should be an object of strings but is {Describe(reader.TokenType)}");
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            if (Next(ref reader) != JsonTokenType.String)
                throw new InvalidDataException($"'__metadata__' entry '{key}' should be a string but is {Describe(reader.TokenType)}");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw new InvalidDataException($"'__metadata__' key '{key}' appears more than once");
        }
    }

    private static SafetensorsEntry ReadEntry(ref Utf8JsonReader reader, string name)
    {
        Expect(ref reader, JsonTokenType.StartObject, $"the entry of tensor '{name}'");
        string? dtype = null;
        List<int>? shape = null;
        long begin = -1, end = -1;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            string field = reader.GetString()!;
            switch (field)
            {
                case "dtype":
                    if (dtype is not null) throw new InvalidDataException($"tensor '{name}' has 'dtype' more than once");
                    if (Next(ref reader) != JsonTokenType.String)
                        throw new InvalidDataException($"the 'dtype' of tensor '{name}' should be a string but is {Describe(reader.TokenType)}");
                    dtype = reader.GetString()!;
                    break;
                case "shape":
                    if (shape is not null) throw new InvalidDataException($"tensor '{name}' has 'shape' more than once");
                    shape = ReadShape(ref reader, name);
                    break;
                case "data_offsets":
                    if (begin >= 0) throw new InvalidDataException($"tensor '{name}' has 'data_offsets' more than once");
                    (begin, end) = ReadOffsets(ref reader, name);
                    break;
                default:
                    Next(ref reader);
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null) throw new InvalidDataException($"tensor '{name}' has no 'dtype'");
        if (shape is null) throw new InvalidDataException($"tensor '{name}' has no 'shape'");
        if (begin < 0) throw new InvalidDataException($"tensor '{name}' has no 'data_offsets'");
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static List<int> ReadShape(ref Utf8JsonReader reader, string name)
    {
        Expect(ref reader, JsonTokenType.StartArray, $"the 'shape' of tensor '{name}'");
        var dims = new List<int>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long d) || d < 0)
                throw new InvalidDataException($"dimension {dims.Count} of tensor '{name}' is not a non-negative integer ({Token(ref reader)})");
            if (d > int.MaxValue)
                throw new InvalidDataException($"dimension {dims.Count} of tensor '{name}' is {d}, more than a Backprop tensor dimension holds ({int.MaxValue})");
            dims.Add((int)d);
        }
        return dims;
    }

    private static (long Begin, long End) ReadOffsets(ref Utf8JsonReader reader, string name)
    {
        Expect(ref reader, JsonTokenType.StartArray, $"the 'data_offsets' of tensor '{name}'");
        Span<long> v = stackalloc long[2];
        int n = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (n == 2) throw new InvalidDataException($"the 'data_offsets' of tensor '{name}' has more than two values");
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt64(out ulong o))
                throw new InvalidDataException($"data_offsets[{n}] of tensor '{name}' is not a non-negative integer ({Token(ref reader)})");
            v[n++] = o > long.MaxValue ? long.MaxValue : (long)o; // past any file: refused by the layout check
        }
        if (n != 2) throw new InvalidDataException($"the 'data_offsets' of tensor '{name}' has {n} values, not 2");
        return (v[0], v[1]);
    }

    private static string Token(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) return Describe(reader.TokenType);
        ReadOnlySpan<byte> raw = reader.ValueSpan; // one contiguous buffer: never a sequence
        return Encoding.UTF8.GetString(raw[..Math.Min(raw.Length, 40)]);
    }

    /// <summary>Checks each entry's dtype and byte count, then that the entries tile [0, dataLength) exactly.</summary>
    private static void CheckLayout(List<SafetensorsEntry> entries, long dataLength)
    {
        foreach (SafetensorsEntry e in entries)
        {
            int size = SafetensorsDTypes.ElementSize(e.DType);
            if (size == 0)
                throw new InvalidDataException($"tensor '{e.Name}' has the unknown dtype '{Clip(e.DType)}' (readable: {SafetensorsDTypes.Readable})");
            if (e.End < e.Begin)
                throw new InvalidDataException($"the data_offsets [{e.Begin}, {e.End}] of tensor '{e.Name}' end before they begin");
            if (e.End > dataLength)
                throw new InvalidDataException($"the data_offsets [{e.Begin}, {e.End}] of tensor '{e.Name}' pass the end of the data section ({dataLength} bytes)");
            long elements = 1;
            foreach (int d in e.Shape)
            {
                elements *= d; // both factors are below 2^31 here
                if (elements > int.MaxValue)
                    throw new InvalidDataException($"the shape [{string.Join(", ", e.Shape)}] of tensor '{e.Name}' has more elements than a tensor holds");
            }
            if (elements * size != e.ByteLength)
                throw new InvalidDataException(
                    $"tensor '{e.Name}' has shape [{string.Join(", ", e.Shape)}] {e.DType} ({elements * size} bytes) but its data_offsets [{e.Begin}, {e.End}] span {e.ByteLength} bytes");
        }
        var order = new int[entries.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => entries[a].Begin != entries[b].Begin ? entries[a].Begin.CompareTo(entries[b].Begin) : entries[a].End.CompareTo(entries[b].End));
        long expected = 0;
        SafetensorsEntry? previous = null;
        foreach (int i in order)
        {
            SafetensorsEntry e = entries[i];
            if (e.Begin < expected)
                throw new InvalidDataException($"tensor '{e.Name}' (bytes [{e.Begin}, {e.End}]) overlaps tensor '{previous!.Name}' (bytes [{previous.Begin}, {previous.End}])");
            if (e.Begin > expected)
                throw new InvalidDataException($"the data section has {e.Begin - expected} bytes that belong to no tensor before tensor '{e.Name}' (at byte {expected})");
            expected = e.End;
            previous = e;
        }
        if (expected != dataLength)
            throw new InvalidDataException($"the data section is {dataLength} bytes but its tensors end at byte {expected}");
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
