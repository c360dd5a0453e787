using Backprop.Ops.View;

namespace Backprop.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Elements start..start+length−1 along <paramref name="dim"/>, as a view sharing storage
    /// (as torch.narrow; a negative start counts from the end).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range, or start/length do not fit in the dim.</exception>
    public Tensor Narrow(int dim, int start, int length)
    {
        int d = NormalizeDimForView(dim, "Narrow");
        int size = Shape[d];
        if (length < 0)
            throw new ArgumentOutOfRangeException(nameof(length), $"Narrow: length must be non-negative, got {length} (shape {Shape}, dim {dim})");
        int s = start < 0 ? start + size : start;
        if (s < 0 || s > size)
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: start {start} is out of range for dimension {dim} of size {size} (shape {Shape})");
        if (s + length > size)
            throw new ArgumentOutOfRangeException(nameof(length), $"Narrow: start ({start}) + length ({length}) exceeds dimension {dim} of size {size} (shape {Shape})");
        return SliceNode.Forward(this, d, s, length, 1);
    }

    /// <summary>
    /// Python-style slice [start:end:step] along <paramref name="dim"/>, as a view sharing storage.
    /// Negative start/end count from the end; out-of-range bounds are clamped, as in PyTorch.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range or step is not positive.</exception>
    public Tensor Slice(int dim, int start, int end, int step = 1)
    {
        int d = NormalizeDimForView(dim, "Slice");
        if (step <= 0)
            throw new ArgumentOutOfRangeException(nameof(step), $"Slice: step must be positive, got {step} (shape {Shape}, dim {dim})");
        int size = Shape[d];
        long s = start < 0 ? (long)start + size : start;
        long e = end < 0 ? (long)end + size : end;
        s = Math.Clamp(s, 0, size);
        e = Math.Clamp(e, s, size);
        int length = (int)((e - s + step - 1) / step);
        return SliceNode.Forward(this, d, (int)s, length, step);
    }

    /// <summary>The slice at <paramref name="index"/> along <paramref name="dim"/>, with that dim removed (a view).</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim or index is out of range.</exception>
    public Tensor Select(int dim, int index)
    {
        int d = NormalizeDimForView(dim, "Select");
        int size = Shape[d];
        int i = index < 0 ? index + size : index;
        if ((uint)i >= (uint)size)
            throw new ArgumentOutOfRangeException(nameof(index), $"Select: index {index} is out of range for dimension {dim} of size {size} (shape {Shape})");
        return SelectNode.Forward(this, d, i);
    }

    /// <summary>Inserts a size-1 dim at <paramref name="dim"/> (in −rank−1..rank), as a view.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Unsqueeze(int dim)
    {
        int d = dim < 0 ? dim + Rank + 1 : dim;
        if (d < 0 || d > Rank)
            throw new ArgumentOutOfRangeException(nameof(dim), $"Unsqueeze: dimension {dim} is out of range for a tensor of shape {Shape} (expected {-Rank - 1}..{Rank})");
        return UnsqueezeNode.Forward(this, d);
    }

    /// <summary>Removes every size-1 dim, as a view.</summary>
    public Tensor Squeeze()
    {
        Span<int> drop = stackalloc int[Rank];
        int n = 0;
        for (int d = 0; d < Rank; d++) if (Shape[d] == 1) drop[n++] = d;
        return SqueezeNode.Forward(this, drop[..n]);
    }

    /// <summary>Removes dim <paramref name="dim"/> if its size is 1 (otherwise returns this tensor), as a view.</summary>
    /// <exception cref="ArgumentOutOfRangeException">dim is out of range.</exception>
    public Tensor Squeeze(int dim)
    {
        int d = Shape.NormalizeDim(dim, "Squeeze");
        if (Rank == 0 || Shape[d] != 1) return this;
        return SqueezeNode.Forward(this, [d]);
    }

    /// <summary>
    /// Splits into views of <paramref name="splitSize"/> elements along <paramref name="dim"/>;
    /// the last is smaller when the size does not divide evenly.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">splitSize is not positive (zero is allowed for an empty dim).</exception>
    public Tensor[] Split(int splitSize, int dim = 0)
    {
        int d = NormalizeDimForView(dim, "Split");
        int size = Shape[d];
        if (splitSize < 0 || (splitSize == 0 && size != 0))
            throw new ArgumentOutOfRangeException(nameof(splitSize), $"Split: splitSize must be positive, got {splitSize} for dimension {dim} of size {size} (shape {Shape})");
        int count = splitSize == 0 ? 1 : Math.Max((size + splitSize - 1) / splitSize, 1);
        var parts = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            int start = i * splitSize;
            parts[i] = SliceNode.Forward(this, d, start, Math.Min(splitSize, size - start), 1);
        }
        return parts;
    }

    /// <summary>Splits into views of the given sizes along <paramref name="dim"/>; the sizes must sum to the dim's size.</summary>
    /// <exception cref="ArgumentException">The sizes are negative or do not sum to the dim's size.</exception>
    public Tensor[] Split(int[] sizes, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        int d = NormalizeDimForView(dim, "Split");
        long sum = 0;
        foreach (int s in sizes)
        {
            if (s < 0) throw new ArgumentException($"Split: sizes must be non-negative, got [{string.Join(", ", sizes)}]");
            sum += s;
        }
        if (sum != Shape[d])
            throw new ArgumentException($"Split: sizes [{string.Join(", ", sizes)}] sum to {sum}, but dimension {dim} of shape {Shape} has size {Shape[d]}");
        var parts = new Tensor[sizes.Length];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            parts[i] = SliceNode.Forward(this, d, start, sizes[i], 1);
            start += sizes[i];
        }
        return parts;
    }

    /// <summary>
    /// Splits into at most <paramref name="chunks"/> views of ceil(size / chunks) elements along
    /// <paramref name="dim"/> (as torch.chunk, there may be fewer chunks).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">chunks is not positive.</exception>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        if (chunks <= 0)
            throw new ArgumentOutOfRangeException(nameof(chunks), $"Chunk: number of chunks must be positive, got {chunks} (shape {Shape})");
        int d = NormalizeDimForView(dim, "Chunk");
        int size = Shape[d];
        if (size == 0)
        {
            var empty = new Tensor[chunks];
            for (int i = 0; i < chunks; i++) empty[i] = SliceNode.Forward(this, d, 0, 0, 1);
            return empty;
        }
        return Split((size + chunks - 1) / chunks, d);
    }

    /// <summary>Normalizes a dim for ops that need at least one dimension.</summary>
    private int NormalizeDimForView(int dim, string op)
    {
        if (Rank == 0)
            throw new ArgumentException($"{op}: cannot be applied to a 0-dimensional tensor (dim {dim}); Unsqueeze or Reshape it first");
        return Shape.NormalizeDim(dim, op);
    }
}
