using Backprop.Tensors;

namespace Backprop.IO.Onnx;

/// <summary>
/// A value of the graph being exported: its name in the graph and its value on the example input (which
/// gives the shapes the export needs). Handed to and returned by <see cref="IOnnxExportable.ExportOnnx"/>.
/// </summary>
/// <param name="Name">The value's name in the graph.</param>
/// <param name="Example">What the model computes for this value on the example input.</param>
public readonly record struct OnnxValue(string Name, Tensor Example);
