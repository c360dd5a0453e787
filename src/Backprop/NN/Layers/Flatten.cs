using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>Flattens dims startDim..endDim into one (default: all but the batch dim, as PyTorch's nn.Flatten).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    /// <summary>First dim merged (negative counts from the end).</summary>
    public int StartDim { get; } = startDim;

    /// <summary>Last dim merged (negative counts from the end).</summary>
    public int EndDim { get; } = endDim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Flatten(StartDim, EndDim);
}

/// <summary>
/// Splits dim <c>dim</c> into <c>sizes</c> (one entry may be −1, inferred), the inverse of <see cref="Flatten"/>,
/// as PyTorch's nn.Unflatten: [N, 12] with Unflatten(1, [3, 4]) gives [N, 3, 4]. A view when the input is contiguous.
/// </summary>
public sealed class Unflatten : Module
{
    private readonly int[] _sizes;

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException">sizes is empty, has more than one −1, or an entry below −1.</exception>
    public Unflatten(int dim, int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length == 0)
            throw new ArgumentException("Unflatten: sizes must not be empty");
        int inferred = 0;
        foreach (int s in sizes)
        {
            if (s < -1) throw new ArgumentException($"Unflatten: sizes must be non-negative or −1 (inferred), got [{string.Join(", ", sizes)}]");
            if (s == -1) inferred++;
        }
        if (inferred > 1)
            throw new ArgumentException($"Unflatten: only one size can be inferred (−1), got [{string.Join(", ", sizes)}]");
        Dim = dim;
        _sizes = (int[])sizes.Clone();
    }

    /// <summary>The dim that is split (negative counts from the end).</summary>
    public int Dim { get; }

    /// <summary>The sizes it is split into.</summary>
    public IReadOnlyList<int> Sizes => _sizes;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The sizes do not multiply to the size of the dim.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Dim < -input.Rank || Dim >= input.Rank)
            throw new ArgumentException($"Unflatten: dim {Dim} is out of range for input of shape {input.Shape}");
        int d = Dim < 0 ? Dim + input.Rank : Dim, size = input.Shape[d];
        long known = 1;
        int inferAt = -1;
        for (int i = 0; i < _sizes.Length; i++)
            if (_sizes[i] == -1) inferAt = i;
            else known *= _sizes[i];
        var sizes = (int[])_sizes.Clone();
        if (inferAt >= 0 && known != 0 && size % known == 0) sizes[inferAt] = (int)(size / known);
        else if (inferAt >= 0 || known != size)
            throw new ArgumentException($"Unflatten: sizes [{string.Join(", ", _sizes)}] do not multiply to {size}, the size of dim {Dim} of input shape {input.Shape}");
        var shape = new int[input.Rank - 1 + sizes.Length];
        int k = 0;
        for (int i = 0; i < d; i++) shape[k++] = input.Shape[i];
        foreach (int s in sizes) shape[k++] = s;
        for (int i = d + 1; i < input.Rank; i++) shape[k++] = input.Shape[i];
        return input.Reshape(shape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"Unflatten(dim={Dim}, sizes=[{string.Join(", ", _sizes)}])";
}
