using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// A data set read one example at a time, as PyTorch's map-style <c>torch.utils.data.Dataset</c>:
/// <see cref="Count"/> examples, example i from <see cref="Get(int)"/>. A <see cref="DataLoader"/> turns
/// one into batches with a collate step (<see cref="Collate"/>); <see cref="Subset{T}"/>,
/// <see cref="ConcatDataset{T}"/> and <see cref="Dataset.RandomSplit{T}(Dataset{T}, double[], Generator?)"/>
/// combine them.
/// </summary>
/// <typeparam name="T">One example, e.g. <c>(Tensor Input, Tensor Target)</c>.</typeparam>
/// <example>
/// <code>
/// sealed class Squares : Dataset&lt;(Tensor Input, Tensor Target)&gt;
/// {
///     public override int Count => 100;
///     public override (Tensor Input, Tensor Target) Get(int index)
///         => (Tensor.FromArray(new float[] { index }), Tensor.FromArray(new float[] { index * index }));
/// }
/// var loader = new DataLoader(new Squares(), batchSize: 10, shuffle: true, seed: 1); // batches [10, 1], [10, 1]
/// </code>
/// </example>
public abstract class Dataset<T>
{
    /// <summary>Number of examples.</summary>
    public abstract int Count { get; }

    /// <summary>Example <paramref name="index"/> (0 ≤ index &lt; <see cref="Count"/>); random augmentations draw from <see cref="Generator.Default"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, Count) (implementations should check).</exception>
    public abstract T Get(int index);

    /// <summary>
    /// Example <paramref name="index"/> with any randomness (augmentation) drawn from <paramref name="generator"/>.
    /// A <see cref="DataLoader"/> calls this with a generator seeded from its seed, the epoch and the index,
    /// so an example's augmentation depends on nothing else (not on the order, the batch or the thread).
    /// The default ignores the generator and calls <see cref="Get(int)"/>; data sets that transform or
    /// wrap others override it and pass the generator on.
    /// </summary>
    public virtual T Get(int index, Generator generator) => Get(index);

    /// <summary>Example <paramref name="index"/> (<see cref="Get(int)"/>).</summary>
    public T this[int index] => Get(index);

    /// <summary>
    /// A faster way to make a batch of this set's examples, equal to stacking them with
    /// the default collate (<see cref="Collate"/>), or null. Only meaningful
    /// for <c>(Tensor, Tensor)</c> examples without randomness (<see cref="TensorDataset"/> and subsets of it).
    /// </summary>
    internal virtual IBatchDataset? Batches => null;

    /// <summary>Throws unless <paramref name="index"/> is in [0, <see cref="Count"/>); <paramref name="what"/> names the data set in the message.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, Count).</exception>
    protected void CheckIndex(int index, string what)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index,
                Count == 0 ? $"{what}: index {index} into an empty data set" : $"{what}: index {index} is outside 0..{Count - 1}");
    }
}
