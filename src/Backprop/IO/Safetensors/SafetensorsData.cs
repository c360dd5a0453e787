using Backprop.Tensors;

namespace Backprop.IO.Safetensors;

/// <summary>The tensors and metadata of a safetensors file, read whole (<see cref="SafetensorsFile.Load"/>).</summary>
/// <param name="Tensors">Names and tensors in header order: pass them to <c>Module.LoadStateDict</c>.</param>
/// <param name="Metadata">The header's <c>__metadata__</c> (empty when it has none).</param>
public sealed record SafetensorsData(List<KeyValuePair<string, Tensor>> Tensors, Dictionary<string, string> Metadata)
{
    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such tensor.</exception>
    public Tensor Get(string name)
    {
        foreach (var (n, t) in Tensors) if (n == name) return t;
        throw new KeyNotFoundException($"Safetensors: no tensor named '{name}'");
    }
}
