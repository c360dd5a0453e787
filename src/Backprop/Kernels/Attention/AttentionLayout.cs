using System.Runtime.CompilerServices;

namespace Backprop.Kernels.Attention;

/// <summary>Per-batch-dimension values, at most <see cref="AttentionBatch.MaxRank"/> of them, stored inline.</summary>
[InlineArray(AttentionBatch.MaxRank)]
internal struct BatchStrides
{
    private nint _element;
}

/// <summary>Batch sizes, stored inline.</summary>
[InlineArray(AttentionBatch.MaxRank)]
internal struct BatchDims
{
    private int _element;
}

/// <summary>
/// The (broadcast) batch dims in front of the attention matrices, e.g. [B, H]: slice s is the row-major
/// index over them, and each operand finds its slice through its own strides (0 where it broadcasts).
/// </summary>
internal struct AttentionBatch
{
    /// <summary>The most batch dims an attention call can have.</summary>
    public const int MaxRank = 8;

    public int Rank;
    public BatchDims Dims;

    /// <summary>Number of slices (product of the batch sizes).</summary>
    public readonly int Count
    {
        get
        {
            int n = 1;
            for (int d = 0; d < Rank; d++) n *= Dims[d];
            return n;
        }
    }

    /// <summary>Element offset of slice <paramref name="slice"/> for an operand with these batch strides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly nint Offset(int slice, in BatchStrides strides)
    {
        nint offset = 0;
        for (int d = Rank - 1; d >= 0; d--)
        {
            int size = Dims[d];
            offset += slice % size * strides[d];
            slice /= size;
        }
        return offset;
    }
}

/// <summary>
/// One operand of the attention kernel: slice s's element (i, j) is Array[Offset + batch offset(s) +
/// i·Row + j·Col]. Matrices the kernel multiplies need Col = 1 (rows contiguous); a mask may have any
/// strides (0 where it broadcasts). A null Array means the operand is absent.
/// </summary>
internal struct AttentionOperand<T> where T : unmanaged
{
    public T[]? Array;
    public int Offset;
    public nint Row, Col;
    public BatchStrides Batch;

    public readonly bool IsPresent => Array is not null;
}

/// <summary>Sizes and options of one attention call: q [L, E], k [S, E], v [S, Ev] per slice.</summary>
internal struct AttentionShape
{
    public int L, S, E, Ev;
    public double Scale;

    /// <summary>When true, query row i attends keys j ≤ i + <see cref="CausalOffset"/> only.</summary>
    public bool Causal;

    /// <summary>0 for PyTorch's top-left aligned causal mask; S − L when the queries are the last L of S positions (a key/value cache).</summary>
    public int CausalOffset;

    /// <summary>Dropout probability on the attention weights (0: none).</summary>
    public double DropoutP;

    /// <summary>Seed of the dropout mask: element (s, i, j) is dropped when hash(seed, (s·L + i)·S + j) &lt; p.</summary>
    public ulong DropoutSeed;

    public AttentionBatch Batch;

    /// <summary>Keys row i may attend: [0, ValidColumns(i)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int ValidColumns(int i) => Causal ? Math.Clamp(i + CausalOffset + 1, 0, S) : S;

    /// <summary>Queries that may attend key j: [FirstRow(j), L).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int FirstRow(int j) => Causal ? Math.Clamp(j - CausalOffset, 0, L) : 0;
}
