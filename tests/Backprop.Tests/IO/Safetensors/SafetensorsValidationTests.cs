using Backprop.IO.Safetensors;
using Backprop.Tests.Support;
using static Backprop.Tests.Support.SafetensorsBytes;

namespace Backprop.Tests.IO.Safetensors;

/// <summary>Every header rule of the reader: each broken file is refused before tensors are allocated, with a message naming the file and the field or tensor.</summary>
public class SafetensorsValidationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetensors-bad").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Refused(byte[] file, params string[] expected)
    {
        string path = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Load(path));
        Assert.Contains(path, e.Message);
        foreach (string s in expected) Assert.Contains(s, e.Message);
        Assert.False(SafetensorsFile.TryLoad(path, out SafetensorsData? data, out string? error));
        Assert.Null(data);
        Assert.Equal(e.Message, error);
        return e.Message;
    }

    private static readonly byte[] Eight = new byte[8];

    [Fact]
    public void HeaderLength_PastTheFile_IsRefused() =>
        Refused(Make("{}", [], declaredLength: 1000), "header length", "1000");

    [Fact]
    public void HeaderLength_Huge_IsRefused() =>
        Refused(Make("{}", [], declaredLength: ulong.MaxValue), "header length");

    [Fact]
    public void File_ShorterThanTheLengthField_IsRefused() => Refused([1, 2, 3], "too short");

    [Fact]
    public void Header_NotJson_IsRefused() => Refused(Make("{\"a\":", []), "JSON");

    [Fact]
    public void Header_NotAnObject_IsRefused() => Refused(Make("[1,2]", []), "'{'");

    [Fact]
    public void Header_TrailingContent_IsRefused() => Refused(Make("{} x", []), "JSON");

    [Fact]
    public void UnknownDType_IsRefused() => Refused(Make("{" + Entry("w", "F24", [2], 0, 8) + "}", Eight), "'w'", "unknown dtype 'F24'");

    [Fact]
    public void ShapeTimesSize_NotTheByteLength_IsRefused() =>
        Refused(Make("{" + Entry("w", "F32", [3], 0, 8) + "}", Eight), "'w'", "shape [3]", "12 bytes", "span 8 bytes");

    [Fact]
    public void Offsets_PastTheData_AreRefused() =>
        Refused(Make("{" + Entry("w", "F32", [4], 0, 16) + "}", Eight), "'w'", "pass the end");

    [Fact]
    public void Offsets_Reversed_AreRefused() =>
        Refused(Make("{" + Entry("w", "F32", [0], 8, 0) + "}", Eight), "'w'", "end before they begin");

    [Fact]
    public void Overlap_IsRefused() =>
        Refused(Make("{" + Entry("a", "F32", [2], 0, 8) + "," + Entry("b", "F32", [1], 4, 8) + "}", Eight), "'b'", "overlaps", "'a'");

    [Fact]
    public void Gap_IsRefused() =>
        Refused(Make("{" + Entry("a", "F32", [1], 4, 8) + "}", Eight), "4 bytes that belong to no tensor", "'a'");

    [Fact]
    public void TrailingData_IsRefused() =>
        Refused(Make("{" + Entry("a", "F32", [1], 0, 4) + "}", Eight), "8 bytes", "end at byte 4");

    [Fact]
    public void DuplicateName_IsRefused() =>
        Refused(Make("{" + Entry("a", "F32", [1], 0, 4) + "," + Entry("a", "F32", [1], 4, 8) + "}", Eight), "'a' appears more than once");

    [Fact]
    public void NegativeOrFractionalDimension_IsRefused()
    {
        Refused(Make("{" + Entry("a", "F32", [-1], 0, 4) + "}", Eight[..4]), "dimension 0 of tensor 'a'");
        Refused(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", Eight[..4]), "dimension 0 of tensor 'a'", "1.5");
    }

    [Fact]
    public void ElementCount_PastWhatATensorHolds_IsRefused() =>
        Refused(Make("{" + Entry("a", "F32", [65536, 65536], 0, 4) + "}", Eight[..4]), "'a'", "more elements");

    [Fact]
    public void MissingFields_AreRefused()
    {
        Refused(Make("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", Eight[..4]), "'a' has no 'dtype'");
        Refused(Make("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", Eight[..4]), "'a' has no 'shape'");
        Refused(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", Eight[..4]), "'a' has no 'data_offsets'");
        Refused(Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", Eight[..4]), "'a'", "1 values, not 2");
        Refused(Make("{\"a\":[]}", Eight[..4]), "tensor 'a'", "an object");
    }

    [Fact]
    public void Metadata_NotStrings_IsRefused()
    {
        Refused(Make("{\"__metadata__\":{\"k\":1}}", []), "'__metadata__' entry 'k'", "a number");
        Refused(Make("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", []), "'__metadata__' key 'k' appears more than once");
        Refused(Make("{\"__metadata__\":[]}", []), "'__metadata__'");
    }

    [Fact]
    public void BoolByte_OtherThanZeroOrOne_IsRefused() =>
        Refused(Make("{" + Entry("m", "BOOL", [2], 0, 2) + "}", [1, 2]), "'m'", "element 1", "byte 2");

    [Fact]
    public void UnknownEntryFields_AndSpacePadding_AreAccepted()
    {
        string path = Path.Combine(_dir, "ok.safetensors");
        File.WriteAllBytes(path, Make("{\"a\":{\"extra\":{\"x\":[1,{}]},\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"__metadata__\":null}    ", [0, 0, 128, 63]));
        Assert.Equal([1f], SafetensorsFile.Load(path).Get("a").ToArray<float>());
    }

    [Fact]
    public void UnsupportedButValidDType_OpensAndRefusesOnlyThatTensor()
    {
        string path = Path.Combine(_dir, "u8.safetensors");
        File.WriteAllBytes(path, Make("{" + Entry("f", "F32", [1], 0, 4) + "," + Entry("u", "U8", [4], 4, 8) + "}", [0, 0, 128, 63, 1, 2, 3, 4]));
        using SafetensorsFile file = SafetensorsFile.Open(path);
        Assert.Equal([1f], file.Read("f").ToArray<float>());
        var e = Assert.Throws<NotSupportedException>(() => file.Read("u"));
        Assert.Contains("'u'", e.Message);
        Assert.Contains("U8", e.Message);
        Assert.Throws<NotSupportedException>(() => SafetensorsFile.Load(path));
    }

    [Fact]
    public void NotARegularFile_IsRefused()
    {
        Assert.Contains("directory", Assert.Throws<InvalidDataException>(() => SafetensorsFile.Load(_dir)).Message);
        string missing = Path.Combine(_dir, "missing.safetensors");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Load(missing)).Message);
    }
}
