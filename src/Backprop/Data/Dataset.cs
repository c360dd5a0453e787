using Backprop.Data.Transforms;
using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Operations on <see cref="Dataset{T}"/>s, as <c>torch.utils.data</c>'s functions: random splits, and
/// transforms applied as examples are read.
/// </summary>
public static class Dataset
{
    /// <summary>
    /// Splits <paramref name="dataset"/> into non-overlapping random subsets of the given fractions, as
    /// <c>torch.utils.data.random_split(dataset, fractions, generator)</c>: each split gets
    /// ⌊count · fraction⌋ examples and the examples left over go one each to the splits in turn, from
    /// the first (so <c>[0.8, 0.2]</c> of 11 examples gives 9 and 2). The examples are assigned by one
    /// random permutation drawn from <paramref name="generator"/> (<see cref="Generator.Default"/> when null),
    /// so a seeded generator gives the same split every time. A split may be empty (PyTorch warns).
    /// </summary>
    /// <exception cref="ArgumentException">No fractions, a fraction outside [0, 1], or fractions whose sum is not 1 (to 1e-9 relative, and at most 1).</exception>
    public static Subset<T>[] RandomSplit<T>(Dataset<T> dataset, double[] fractions, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(fractions);
        if (fractions.Length == 0) throw new ArgumentException("RandomSplit: no fractions given", nameof(fractions));
        double sum = 0;
        for (int i = 0; i < fractions.Length; i++) sum += fractions[i];
        // PyTorch: math.isclose(sum, 1) (relative tolerance 1e-9) and sum <= 1; otherwise the numbers are lengths.
        if (!(Math.Abs(sum - 1) <= 1e-9 * Math.Max(1, Math.Abs(sum)) && sum <= 1))
            throw new ArgumentException(
                $"RandomSplit: the fractions [{string.Join(", ", fractions)}] sum to {sum}, not 1; pass the split sizes as an int[] to give counts", nameof(fractions));
        int n = dataset.Count;
        var lengths = new int[fractions.Length];
        long assigned = 0;
        for (int i = 0; i < fractions.Length; i++)
        {
            double f = fractions[i];
            if (!(f >= 0 && f <= 1))
                throw new ArgumentException($"RandomSplit: fraction {f} at index {i} is not between 0 and 1", nameof(fractions));
            lengths[i] = (int)Math.Floor(n * f);
            assigned += lengths[i];
        }
        for (long r = 0; r < n - assigned; r++) lengths[r % lengths.Length]++; // round-robin remainder, as PyTorch
        return Split(dataset, lengths, generator);
    }

    /// <summary>
    /// Splits <paramref name="dataset"/> into non-overlapping random subsets of the given sizes, as
    /// <c>torch.utils.data.random_split(dataset, lengths, generator)</c>: one random permutation drawn from
    /// <paramref name="generator"/> (<see cref="Generator.Default"/> when null) is cut into consecutive pieces.
    /// </summary>
    /// <exception cref="ArgumentException">No lengths, a negative length, or lengths that do not add up to the data set's count.</exception>
    public static Subset<T>[] RandomSplit<T>(Dataset<T> dataset, int[] lengths, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Length == 0) throw new ArgumentException("RandomSplit: no lengths given", nameof(lengths));
        long sum = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            if (lengths[i] < 0) throw new ArgumentException($"RandomSplit: length {lengths[i]} at index {i} is negative", nameof(lengths));
            sum += lengths[i];
        }
        if (sum != dataset.Count)
            throw new ArgumentException(
                $"RandomSplit: the lengths [{string.Join(", ", lengths)}] add up to {sum}, but the data set has {dataset.Count} examples", nameof(lengths));
        return Split(dataset, lengths, generator);
    }

    private static Subset<T>[] Split<T>(Dataset<T> dataset, int[] lengths, Generator? generator)
    {
        int[] order = RandomOrder.Permutation(dataset.Count, Generator.Use(generator));
        var splits = new Subset<T>[lengths.Length];
        int start = 0;
        for (int i = 0; i < lengths.Length; i++)
        {
            splits[i] = new Subset<T>(dataset, order.AsSpan(start, lengths[i]));
            start += lengths[i];
        }
        return splits;
    }

    /// <summary>
    /// <paramref name="dataset"/> with <paramref name="transform"/> applied to each input as it is read
    /// (and <paramref name="targetTransform"/> to each target), as torchvision data sets' <c>transform</c>
    /// and <c>target_transform</c>. Random transforms draw from the generator the reader passes
    /// (<see cref="Dataset{T}.Get(int, Generator)"/>), so a <see cref="DataLoader"/>'s seed fixes them.
    /// </summary>
    public static TransformedDataset WithTransform(this Dataset<(Tensor Input, Tensor Target)> dataset, Transform? transform, Transform? targetTransform = null)
        => new(dataset, transform, targetTransform);
}

/// <summary>Random orders drawn from a <see cref="Generator"/>.</summary>
internal static class RandomOrder
{
    /// <summary>A random permutation of 0..n−1 (Fisher–Yates from the end, one <see cref="Generator.NextInt64"/> per position).</summary>
    public static int[] Permutation(int n, Generator g)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)g.NextInt64(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>
    /// The seed of the generator an example's augmentation draws from: a mix of the loader's seed,
    /// the epoch and the example's index, so it depends on nothing else.
    /// </summary>
    public static ulong ItemSeed(ulong seed, int epoch, int index)
    {
        ulong z = Mix(seed ^ 0x6A09E667F3BCC909UL);
        z = Mix(z + (ulong)(uint)epoch * 0x9E3779B97F4A7C15UL);
        return Mix(z + (ulong)(uint)index);
    }

    private static ulong Mix(ulong z) // SplitMix64's finaliser
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
