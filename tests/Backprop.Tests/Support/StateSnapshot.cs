using System.Globalization;
using Backprop.Tensors;

namespace Backprop.Tests.Support;

/// <summary>Exact text snapshots of named tensors, to assert that a refused load changed nothing.</summary>
internal static class StateSnapshot
{
    /// <summary>One line per entry: name, dtype, shape and every value in round-trip form (copies, so later changes show).</summary>
    public static string Of(IEnumerable<KeyValuePair<string, Tensor>> state)
        => string.Join("\n", state.Select(kv => $"{kv.Key} {kv.Value.DType} {kv.Value.Shape}: "
            + string.Join(",", kv.Value.ToDoubleArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
}
