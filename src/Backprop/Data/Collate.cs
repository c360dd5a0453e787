using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>Joins the examples of one batch into the batch's (inputs, targets) tensors.</summary>
/// <typeparam name="T">One example.</typeparam>
public delegate (Tensor Inputs, Tensor Targets) CollateFunction<T>(ReadOnlySpan<T> items);

/// <summary>
/// Collate steps, as PyTorch's <c>default_collate</c>: the inputs of a batch's examples are stacked along a
/// new first dimension (n × [s...] → [n, s...]) and so are the targets; integer targets become an int64 [n]
/// tensor. The results are new tensors, not recorded by autograd.
/// </summary>
public static class Collate
{
    /// <summary>Stacks inputs and targets: n × ([s...], [t...]) → ([n, s...], [n, t...]).</summary>
    /// <exception cref="ArgumentException">No items, or the inputs (or the targets) differ in shape or dtype.</exception>
    public static (Tensor Inputs, Tensor Targets) Default(ReadOnlySpan<(Tensor Input, Tensor Target)> items)
    {
        var inputs = new Tensor[items.Length];
        var targets = new Tensor[items.Length];
        for (int i = 0; i < items.Length; i++) (inputs[i], targets[i]) = items[i];
        return (Stack(inputs, "inputs"), Stack(targets, "targets"));
    }

    /// <summary>Stacks inputs and gathers class labels: n × ([s...], label) → ([n, s...], int64 [n]).</summary>
    /// <exception cref="ArgumentException">No items, or the inputs differ in shape or dtype.</exception>
    public static (Tensor Inputs, Tensor Targets) Default(ReadOnlySpan<(Tensor Input, long Target)> items)
    {
        var inputs = new Tensor[items.Length];
        Tensor labels = Tensor.Uninitialized(new Shape(items.Length), DType.Int64);
        Span<long> l = labels.Elements<long>();
        for (int i = 0; i < items.Length; i++) (inputs[i], l[i]) = items[i];
        return (Stack(inputs, "inputs"), labels);
    }

    /// <summary>Stacks equally shaped tensors of one dtype along a new first dimension: n × [s...] → [n, s...].</summary>
    /// <exception cref="ArgumentException">No tensors, or their shapes or dtypes differ.</exception>
    public static Tensor Stack(ReadOnlySpan<Tensor> tensors) => Stack(tensors.ToArray(), "tensors");

    private static Tensor Stack(Tensor[] tensors, string what)
    {
        if (tensors.Length == 0) throw new ArgumentException($"Collate: no {what} to stack (an empty batch)");
        Tensor first = tensors[0] ?? throw new ArgumentException($"Collate: item 0 of the batch has a null {what[..^1]}");
        for (int i = 1; i < tensors.Length; i++)
        {
            Tensor t = tensors[i] ?? throw new ArgumentException($"Collate: item {i} of the batch has a null {what[..^1]}");
            if (t.Shape != first.Shape || t.DType != first.DType)
                throw new ArgumentException(
                    $"Collate: cannot stack the {what} of a batch: item 0 is {first.DType.Name()} {first.Shape} but item {i} is {t.DType.Name()} {t.Shape}; " +
                    "give every example the same shape and dtype (crop, resize or pad them with a transform) or pass your own collate function");
        }
        using (GradMode.Disable())
            return Tensor.Stack(tensors);
    }
}

/// <summary>A per-example data set seen as a batch data set: each batch reads its examples and collates them.</summary>
internal sealed class CollatingDataset<T>(Dataset<T> dataset, CollateFunction<T> collate) : IBatchDataset, ISeededBatchDataset
{
    public int Count => dataset.Count;

    /// <summary>A batch whose augmentations draw from generators seeded from seed 0 and epoch 0.</summary>
    public (Tensor Inputs, Tensor Targets) GetBatch(ReadOnlySpan<int> indices) => GetBatch(indices, 0, 0);

    public (Tensor Inputs, Tensor Targets) GetBatch(ReadOnlySpan<int> indices, ulong seed, int epoch)
    {
        var items = new T[indices.Length];
        var generator = new Generator(0);
        for (int k = 0; k < indices.Length; k++)
        {
            generator.Seed(RandomOrder.ItemSeed(seed, epoch, indices[k]));
            items[k] = dataset.Get(indices[k], generator);
        }
        try
        {
            return collate(items);
        }
        catch (ArgumentException e) when (e.Message.StartsWith("Collate:", StringComparison.Ordinal))
        {
            const int shown = 8;
            string list = string.Join(", ", indices.Length > shown ? indices[..shown].ToArray() : indices.ToArray()) + (indices.Length > shown ? ", …" : "");
            throw new ArgumentException($"{e.Message} (the batch's items are examples [{list}] of the data set)", e);
        }
    }
}

/// <summary>A batch data set whose batches depend on the loader's seed and epoch (per-example augmentation).</summary>
internal interface ISeededBatchDataset
{
    /// <summary>The batch of <paramref name="indices"/> in epoch <paramref name="epoch"/> of a loader seeded with <paramref name="seed"/>.</summary>
    (Tensor Inputs, Tensor Targets) GetBatch(ReadOnlySpan<int> indices, ulong seed, int epoch);
}
