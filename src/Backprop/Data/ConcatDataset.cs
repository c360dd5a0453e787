using Backprop.Tensors;

namespace Backprop.Data;

/// <summary>
/// Several data sets one after another (as <c>torch.utils.data.ConcatDataset</c>): the examples of the
/// first, then those of the second, and so on. The parts' counts are read once, when it is made.
/// </summary>
/// <typeparam name="T">One example.</typeparam>
public sealed class ConcatDataset<T> : Dataset<T>
{
    private readonly Dataset<T>[] _parts;
    private readonly int[] _ends; // _ends[i]: examples in parts 0..i

    /// <summary>Joins <paramref name="datasets"/> in order (empty parts are allowed).</summary>
    /// <exception cref="ArgumentException">No data sets are given, one is null, or the total exceeds <see cref="int.MaxValue"/> examples.</exception>
    public ConcatDataset(IEnumerable<Dataset<T>> datasets)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        _parts = [.. datasets];
        if (_parts.Length == 0)
            throw new ArgumentException("ConcatDataset: the list of data sets is empty", nameof(datasets));
        _ends = new int[_parts.Length];
        long total = 0;
        for (int i = 0; i < _parts.Length; i++)
        {
            if (_parts[i] is null) throw new ArgumentException($"ConcatDataset: data set {i} is null", nameof(datasets));
            total += _parts[i].Count;
            if (total > int.MaxValue)
                throw new ArgumentException($"ConcatDataset: the data sets hold more than {int.MaxValue} examples together", nameof(datasets));
            _ends[i] = (int)total;
        }
    }

    /// <summary>Joins <paramref name="datasets"/> in order.</summary>
    /// <exception cref="ArgumentException">No data sets are given, or one is null.</exception>
    public ConcatDataset(params Dataset<T>[] datasets) : this((IEnumerable<Dataset<T>>)datasets)
    {
    }

    /// <summary>The joined data sets, in order.</summary>
    public IReadOnlyList<Dataset<T>> Datasets => _parts;

    /// <summary>For each part, the examples in it and all parts before it (PyTorch's <c>cumulative_sizes</c>).</summary>
    public IReadOnlyList<int> CumulativeSizes => _ends;

    /// <inheritdoc/>
    public override int Count => _ends[^1];

    /// <inheritdoc/>
    public override T Get(int index)
    {
        (int part, int local) = Locate(index);
        return _parts[part].Get(local);
    }

    /// <inheritdoc/>
    public override T Get(int index, Generator generator)
    {
        (int part, int local) = Locate(index);
        return _parts[part].Get(local, generator);
    }

    private (int Part, int Local) Locate(int index)
    {
        CheckIndex(index, "ConcatDataset");
        // The first part whose end lies beyond the index (bisect_right, as PyTorch).
        int lo = 0, hi = _ends.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ends[mid] > index) hi = mid;
            else lo = mid + 1;
        }
        return (lo, lo == 0 ? index : index - _ends[lo - 1]);
    }
}
