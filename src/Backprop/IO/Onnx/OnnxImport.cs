using Backprop.IO.Onnx.Import;
using Backprop.IO.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.IO.Onnx;

/// <summary>
/// Imports an ONNX model (a serialized ModelProto) as an <see cref="OnnxModel"/> for inference and fine-tuning.
/// Every tensor in the file is checked against its dims before it is allocated, every node's op against the ops
/// the importer runs (<see cref="SupportedOps"/>), and every node's inputs against the values defined before it.
/// </summary>
public static class OnnxImport
{
    /// <summary>The ONNX op types (default domain) the importer runs.</summary>
    public static IReadOnlyList<string> SupportedOps => OnnxOps.Supported;

    /// <summary>Loads the ONNX file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No file at the path.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model (the message names the file and what is wrong), or its tensors are stored externally.</exception>
    /// <exception cref="NotSupportedException">The graph uses an op, domain or element type the importer does not run (the message names the node: index, name and op type).</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        long length = InputFile.CheckRegular(path, "ONNX");
        if (length > int.MaxValue)
            throw new InvalidDataException($"{path}: {length} bytes is over the 2 GB a protobuf message can hold (models that large keep their tensors in external data, which the importer does not read)");
        return Load(File.ReadAllBytes(path), path);
    }

    /// <summary>Loads a serialized ONNX model; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid ONNX model.</exception>
    /// <exception cref="NotSupportedException">The graph uses an op, domain or element type the importer does not run.</exception>
    public static OnnxModel Load(byte[] bytes, string source = "ONNX model")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source}: not a valid ONNX file ({e.Message})", e);
        }
        return new OnnxModel(OnnxGraph.Read(proto, source));
    }
}
