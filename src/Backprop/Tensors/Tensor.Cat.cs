using Backprop.Ops.View;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Concatenates tensors along an existing dim into a new tensor: shapes must match except in
    /// <paramref name="dim"/> (1-D empty tensors are skipped, as in PyTorch).
    /// </summary>
    /// <exception cref="ArgumentException">The list is empty, or shapes, ranks or dtypes differ.</exception>
    public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0) => CatNode.Forward(tensors, dim);

    /// <summary>Joins equally shaped tensors along a new dim <paramref name="dim"/> (in −rank−1..rank): n × [s...] → [.., n, ..].</summary>
    /// <exception cref="ArgumentException">The list is empty or the shapes differ.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors is null || tensors.Count == 0)
            throw new ArgumentException("Stack: expected a non-empty list of tensors");
        Shape shape = tensors[0].Shape;
        for (int i = 1; i < tensors.Count; i++)
            if (tensors[i].Shape != shape)
                throw new ArgumentException($"Stack: expects each tensor to be equal size, but got {shape} at entry 0 and {tensors[i].Shape} at entry {i}");
        int d = dim < 0 ? dim + shape.Rank + 1 : dim;
        if (d < 0 || d > shape.Rank)
            throw new ArgumentOutOfRangeException(nameof(dim), $"Stack: dimension {dim} is out of range for tensors of shape {shape} (expected {-shape.Rank - 1}..{shape.Rank})");
        var parts = new Tensor[tensors.Count];
        for (int i = 0; i < parts.Length; i++) parts[i] = tensors[i].Unsqueeze(d);
        return CatNode.Forward(parts, d);
    }

    /// <summary>
    /// Tiles the tensor: dim i is repeated repeats[i] times (as torch.Tensor.repeat; extra leading
    /// repeats add leading dims). Always copies.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer repeats than dims, or a negative repeat.</exception>
    public Tensor Repeat(params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        if (repeats.Length < Rank)
            throw new ArgumentException($"Repeat: number of repeat dims ({repeats.Length}) can not be smaller than the number of tensor dims ({Rank}, shape {Shape})");
        foreach (int r in repeats)
            if (r < 0) throw new ArgumentException($"Repeat: repeats must be non-negative, got [{string.Join(", ", repeats)}]");
        // [s0, s1, ...] -> [1, s0, 1, s1, ...] -> expand [r0, s0, r1, s1, ...] -> copy -> [r0*s0, r1*s1, ...]
        int lead = repeats.Length - Rank;
        Tensor x = this;
        for (int i = 0; i < lead; i++) x = x.Unsqueeze(0);
        var expanded = new int[2 * repeats.Length];
        var result = new int[repeats.Length];
        for (int i = repeats.Length - 1; i >= 0; i--)
        {
            x = x.Unsqueeze(i);
            expanded[2 * i] = repeats[i];
            expanded[2 * i + 1] = x.Shape[i + 1];
            result[i] = repeats[i] * x.Shape[i + 1];
        }
        return x.Expand(expanded).Clone().View(result);
    }
}
