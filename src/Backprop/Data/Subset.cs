using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// The examples of <see cref="Dataset"/> at <see cref="Indices"/>, in that order (as <c>torch.utils.data.Subset</c>):
/// example i of the subset is example Indices[i] of the whole. Indices are checked when the subset is made.
/// </summary>
/// <typeparam name="T">One example.</typeparam>
public sealed class Subset<T> : Dataset<T>
{
    private readonly int[] _indices;

    /// <summary>The examples of <paramref name="dataset"/> at <paramref name="indices"/> (copied; repeats allowed).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, dataset.Count).</exception>
    public Subset(Dataset<T> dataset, ReadOnlySpan<int> indices)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        int n = dataset.Count;
        for (int k = 0; k < indices.Length; k++)
            if ((uint)indices[k] >= (uint)n)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[k],
                    $"Subset: index {indices[k]} at position {k} is outside the data set's examples 0..{n - 1}");
        Dataset = dataset;
        _indices = indices.ToArray();
    }

    /// <summary>The whole data set.</summary>
    public Dataset<T> Dataset { get; }

    /// <summary>The whole set's index of each example of the subset.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc/>
    public override int Count => _indices.Length;

    /// <inheritdoc/>
    public override T Get(int index)
    {
        CheckIndex(index, "Subset");
        return Dataset.Get(_indices[index]);
    }

    /// <inheritdoc/>
    public override T Get(int index, Generator generator)
    {
        CheckIndex(index, "Subset");
        return Dataset.Get(_indices[index], generator);
    }

    internal override IBatchDataset? Batches => Dataset.Batches is IBatchDataset whole ? new SubsetBatches(whole, _indices) : null;

    /// <summary>Batches of a subset gathered by the whole set's fast path.</summary>
    private sealed class SubsetBatches(IBatchDataset whole, int[] indices) : IBatchDataset
    {
        public int Count => indices.Length;

        public (Tensor Inputs, Tensor Targets) GetBatch(ReadOnlySpan<int> batch)
        {
            int[] mapped = new int[batch.Length];
            for (int k = 0; k < batch.Length; k++)
            {
                if ((uint)batch[k] >= (uint)indices.Length)
                    throw new ArgumentOutOfRangeException(nameof(batch), batch[k], $"Subset: index {batch[k]} is outside 0..{indices.Length - 1}");
                mapped[k] = indices[batch[k]];
            }
            return whole.GetBatch(mapped);
        }
    }
}
