namespace Backprop.IO.Safetensors;

/// <summary>
/// One tensor as a safetensors header describes it: its name, the file's dtype string ("F32", "BF16",
/// …), its shape and where its bytes lie within the data section (after the 8-byte length and the header).
/// </summary>
/// <param name="Name">The tensor's name (a state-dict key such as "0.weight").</param>
/// <param name="DType">The dtype as the file spells it.</param>
/// <param name="Shape">Dimensions, outermost first; empty for a scalar.</param>
/// <param name="Begin">First byte within the data section.</param>
/// <param name="End">One past the last byte within the data section.</param>
public sealed record SafetensorsEntry(string Name, string DType, IReadOnlyList<int> Shape, long Begin, long End)
{
    /// <summary>Bytes the tensor occupies in the file.</summary>
    public long ByteLength => End - Begin;
}
