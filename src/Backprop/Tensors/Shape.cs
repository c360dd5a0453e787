using System.Collections;
using System.Runtime.CompilerServices;
using System.Text;

namespace Backprop.Tensors;

/// <summary>An immutable list of dimension sizes, printed as <c>[2, 3]</c>.</summary>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[] _dims;

    /// <summary>The shape of a 0-dimensional (scalar) tensor.</summary>
    public static readonly Shape Scalar = new([]);

    /// <summary>Creates a shape; every size must be non-negative.</summary>
    /// <exception cref="ArgumentException">A size is negative.</exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        foreach (int d in dims)
            if (d < 0)
                throw new ArgumentException($"Shape: sizes must be non-negative, got [{string.Join(", ", dims.ToArray())}]");
        _dims = dims.ToArray();
        long n = 1;
        foreach (int d in _dims)
        {
            n *= d;
            if (n > int.MaxValue)
                throw new ArgumentException($"Shape: {this} has more than {int.MaxValue} elements");
        }
        Numel = (int)n;
    }

    /// <summary>Creates a shape from a collection expression such as <c>[2, 3]</c>.</summary>
    public static Shape Create(ReadOnlySpan<int> dims) => new(dims);

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>Number of elements (1 for a scalar).</summary>
    public int Numel { get; }

    /// <summary>Size of dimension <paramref name="dim"/>.</summary>
    public int this[int dim] => _dims[dim];

    int IReadOnlyCollection<int>.Count => _dims.Length;

    /// <summary>The sizes as a read-only span.</summary>
    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>A copy of the sizes.</summary>
    public int[] ToArray() => (int[])_dims.Clone();

    /// <summary>Creates a shape from an array.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    /// <summary>Row-major (C-order) strides for this shape.</summary>
    public int[] ContiguousStrides()
    {
        var strides = new int[_dims.Length];
        int s = 1;
        for (int i = _dims.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(_dims[i], 1);
        }
        return strides;
    }

    /// <summary>Turns a possibly negative dimension index into 0..rank-1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [-rank, rank).</exception>
    public int NormalizeDim(int dim, string op)
    {
        int rank = Math.Max(_dims.Length, 1);
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank)
            throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dimension {dim} is out of range for a tensor of shape {this} (rank {_dims.Length})");
        return d;
    }

    /// <summary>NumPy/PyTorch broadcasting: align trailing dimensions, sizes must match or be 1.</summary>
    public static bool TryBroadcast(Shape a, Shape b, out Shape result)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a[i - (rank - a.Rank)];
            int db = i < rank - b.Rank ? 1 : b[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
            {
                result = Scalar;
                return false;
            }
            dims[i] = da == 1 ? db : da;
        }
        result = new Shape(dims);
        return true;
    }

    /// <summary>Broadcasts two shapes or throws an exception naming the operation and both shapes.</summary>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        if (!TryBroadcast(a, b, out Shape s))
            throw new ArgumentException($"{op}: cannot broadcast shapes {a} and {b} (trailing dimensions must be equal or 1)");
        return s;
    }

    /// <inheritdoc/>
    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Shape equality.</summary>
    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Shape inequality.</summary>
    public static bool operator !=(Shape? a, Shape? b) => !(a == b);

    /// <summary>Prints as <c>[2, 3]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < _dims.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(_dims[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _dims.GetEnumerator();
}
