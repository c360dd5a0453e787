using Backprop.Tensors;

namespace Backprop.IO.Onnx.Import;

/// <summary>Runs one node: its inputs (null for an omitted optional input) to its outputs.</summary>
internal delegate Tensor?[] OnnxOp(OnnxNode node, Tensor?[] inputs, bool training);

/// <summary>
/// The ops the importer runs, by ONNX op type (default domain), each written with the engine's differentiable
/// ops so a graph's backward is the engine's. Families live in the partial files beside this one.
/// </summary>
internal static partial class OnnxOps
{
    private static readonly Dictionary<string, OnnxOp> Table = Build();

    /// <summary>The op types the importer runs, sorted.</summary>
    public static IReadOnlyList<string> Supported { get; } = [.. Table.Keys.Order(StringComparer.Ordinal)];

    public static bool TryGet(string opType, out OnnxOp op) => Table.TryGetValue(opType, out op!);

    private static Dictionary<string, OnnxOp> Build()
    {
        var table = new Dictionary<string, OnnxOp>(StringComparer.Ordinal);
        AddElementwise(table);
        AddShape(table);
        AddNetwork(table);
        AddIndexing(table);
        return table;
    }

    private static Tensor?[] One(Tensor y) => [y];

    /// <summary>Input <paramref name="i"/>, which the op needs.</summary>
    private static Tensor In(OnnxNode node, Tensor?[] x, int i) =>
        i < x.Length && x[i] is { } t ? t : throw new InvalidDataException($"{node.Source}: {node.Describe}: input {i} is missing");

    private static Tensor? Optional(Tensor?[] x, int i) => i < x.Length ? x[i] : null;

    /// <summary>The values of an integer tensor (shapes, axes, indices).</summary>
    private static long[] Longs(OnnxNode node, Tensor t, string what)
    {
        if (t.DType != DType.Int64)
            throw new InvalidDataException($"{node.Source}: {node.Describe}: {what} must be an integer tensor, got {t.DType.Name()} {t.Shape}");
        return t.Contiguous().ToArray<long>();
    }

    /// <summary>An axis in −rank..rank−1 made non-negative.</summary>
    private static int Axis(OnnxNode node, long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentException($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    private static int[] Axes(OnnxNode node, long[] axes, int rank)
    {
        var result = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++) result[i] = Axis(node, axes[i], rank, "axes entry");
        if (result.Distinct().Count() != result.Length) throw new ArgumentException($"axes [{string.Join(", ", axes)}] repeat an axis");
        return result;
    }

    private static int Checked(long v, string what) =>
        v is >= 0 and <= int.MaxValue ? (int)v : throw new ArgumentException($"{what} {v} is out of range");

    private static double Scalar(OnnxNode node, Tensor t, string what)
    {
        if (t.Numel != 1) throw new ArgumentException($"{what} must hold one value, got shape {t.Shape}");
        return t.Reshape(1)[0];
    }
}
