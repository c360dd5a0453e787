using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>A data set that can assemble a batch from a list of example indices.</summary>
public interface IBatchDataset
{
    /// <summary>Number of examples.</summary>
    int Count { get; }

    /// <summary>
    /// Stacks the examples at <paramref name="indices"/> into one batch. Tensors made by this call
    /// belong to the caller (a <see cref="Memory.TensorScope"/> may recycle them); return views of
    /// data the set keeps, never a tensor it made here and also keeps.
    /// </summary>
    (Tensor Inputs, Tensor Targets) GetBatch(ReadOnlySpan<int> indices);
}

/// <summary>
/// Examples stored as rows of two in-memory tensors (features [N, ...], targets [N, ...]), as
/// <c>torch.utils.data.TensorDataset</c>: example i is (inputs[i], targets[i]). Batches are gathered
/// row by row into new contiguous tensors (the same values the default collate would stack).
/// </summary>
public sealed class TensorDataset : Dataset<(Tensor Input, Tensor Target)>, IBatchDataset
{
    private readonly Tensor _inputs, _targets;

    /// <summary>Wraps features and targets with the same first dimension.</summary>
    /// <exception cref="ArgumentException">The first dimensions differ.</exception>
    public TensorDataset(Tensor inputs, Tensor targets)
    {
        if (inputs.Rank == 0 || targets.Rank == 0 || inputs.Shape[0] != targets.Shape[0])
            throw new ArgumentException($"TensorDataset: inputs {inputs.Shape} and targets {targets.Shape} must have the same first dimension");
        _inputs = inputs.Contiguous();
        _targets = targets.Contiguous();
    }

    /// <inheritdoc cref="IBatchDataset.Count"/>
    public override int Count => _inputs.Shape[0];

    /// <summary>Example <paramref name="index"/>: views of row <paramref name="index"/> of the inputs and the targets (not recorded by autograd).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, Count).</exception>
    public override (Tensor Input, Tensor Target) Get(int index)
    {
        CheckIndex(index, "TensorDataset");
        using (GradMode.Disable())
            return (_inputs.Select(0, index), _targets.Select(0, index));
    }

    internal override IBatchDataset Batches => this;

    /// <summary>The feature tensor.</summary>
    public Tensor Inputs => _inputs;

    /// <summary>The target tensor.</summary>
    public Tensor Targets => _targets;

    /// <inheritdoc/>
    public (Tensor Inputs, Tensor Targets) GetBatch(ReadOnlySpan<int> indices) => (Gather(_inputs, indices), Gather(_targets, indices));

    private static Tensor Gather(Tensor source, ReadOnlySpan<int> indices)
    {
        int n = source.Shape[0];
        int row = n == 0 ? 0 : source.Numel / n;
        int[] dims = source.Shape.ToArray();
        dims[0] = indices.Length;
        Tensor batch = Tensor.Zeros(dims, source.DType);
        foreach (int i in indices)
            if ((uint)i >= (uint)n) throw new ArgumentOutOfRangeException(nameof(indices), $"TensorDataset: index {i} is outside 0..{n - 1}");
        switch (source.DType)
        {
            case DType.Float32: Copy(source.ReadOnlyElements<float>(), batch.Elements<float>(), indices, row); break;
            case DType.Float64: Copy(source.ReadOnlyElements<double>(), batch.Elements<double>(), indices, row); break;
            case DType.Int64: Copy(source.ReadOnlyElements<long>(), batch.Elements<long>(), indices, row); break;
            default: Copy(source.ReadOnlyElements<bool>(), batch.Elements<bool>(), indices, row); break;
        }
        return batch;
    }

    private static void Copy<T>(ReadOnlySpan<T> src, Span<T> dst, ReadOnlySpan<int> indices, int row)
    {
        for (int k = 0; k < indices.Length; k++)
            src.Slice(indices[k] * row, row).CopyTo(dst.Slice(k * row, row));
    }
}
