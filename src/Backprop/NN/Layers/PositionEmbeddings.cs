using Backprop.Memory;
using Backprop.Tensors;

namespace Backprop.NN.Layers;

/// <summary>
/// The fixed sinusoidal position table of Vaswani et al. (2017), as PyTorch's tutorial builds it:
/// pe[pos, 2i] = sin(pos / 10000^(2i/dim)), pe[pos, 2i+1] = cos(pos / 10000^(2i/dim)), computed in float64
/// and rounded to the dtype. No parameters and nothing in the state dict (the table is a function of
/// maxLength and dim). Forward adds the rows for positions start.. to an input [..., T, dim]. Learned
/// positions are an <see cref="Embedding"/>(maxLength, dim) looked up with <c>Tensor.Arange(T, DType.Int64)</c>.
/// </summary>
public sealed class SinusoidalPositionEmbedding : Module
{
    /// <summary>Builds the [maxLength, dim] table.</summary>
    public SinusoidalPositionEmbedding(int maxLength, int dim, DType dtype = DType.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        (MaxLength, Dim) = (maxLength, dim);
        var table = new double[maxLength * dim];
        for (int pos = 0; pos < maxLength; pos++)
            for (int c = 0; c < dim; c++)
            {
                double angle = pos * Math.Exp((c - c % 2) * (-Math.Log(10000.0) / dim));
                table[pos * dim + c] = c % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
            }
        Table = Ownership.Escape(Tensor.FromArray(table, new Shape(maxLength, dim)).To(dtype));
    }

    /// <summary>Most positions.</summary>
    public int MaxLength { get; }

    /// <summary>Features per position.</summary>
    public int Dim { get; }

    /// <summary>The table [maxLength, dim] (constant; no gradient).</summary>
    public Tensor Table { get; }

    /// <summary>Rows start.. start + length − 1 of the table, [length, dim] (a view).</summary>
    /// <exception cref="ArgumentException">The positions run past maxLength.</exception>
    public Tensor Positions(int start, int length)
    {
        if (start < 0 || length < 0 || start + length > MaxLength)
            throw new ArgumentException($"SinusoidalPositionEmbedding: positions {start}..{start + length - 1} are outside the table of {MaxLength} positions");
        return Table.Narrow(0, start, length);
    }

    /// <summary>input [..., T, dim] + the rows of positions 0..T−1.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, 0);

    /// <summary>input [..., T, dim] + the rows of positions start..start+T−1 (for incremental decoding).</summary>
    /// <exception cref="ArgumentException">input is not [..., T, dim] or the positions run past maxLength.</exception>
    public Tensor Forward(Tensor input, int start)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2 || input.Size(-1) != Dim)
            throw new ArgumentException($"SinusoidalPositionEmbedding: input must be [..., T, {Dim}], got {input.Shape}");
        Tensor rows = Positions(start, input.Size(-2));
        return input + (rows.DType == input.DType ? rows : rows.To(input.DType));
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"SinusoidalPositionEmbedding({MaxLength}, {Dim})";
}
