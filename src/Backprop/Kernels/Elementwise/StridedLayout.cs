namespace Backprop.Kernels.Elementwise;

/// <summary>
/// Shape and per-operand strides after merging dimensions that are laid out back to back in
/// every operand, so loops run over as few, as long rows as possible.
/// </summary>
internal static class StridedLayout
{
    /// <summary>
    /// Coalesces dims in place over up to three operands' strides. Returns the new rank (at
    /// least 1); shape[..rank] and each stride array's [..rank] hold the merged layout.
    /// </summary>
    public static int Coalesce(Span<int> shape, Span<int> s0, Span<int> s1, Span<int> s2)
    {
        int rank = shape.Length;
        // Drop size-1 dims: they never move the offset.
        int w = 0;
        for (int d = 0; d < rank; d++)
        {
            if (shape[d] == 1) continue;
            shape[w] = shape[d]; s0[w] = s0[d]; s1[w] = s1[d]; s2[w] = s2[d];
            w++;
        }
        if (w == 0)
        {
            shape[0] = 1; s0[0] = 0; s1[0] = 0; s2[0] = 0;
            return 1;
        }
        rank = w;
        w = 0;
        for (int d = 1; d < rank; d++)
        {
            bool mergeable = s0[w] == s0[d] * shape[d] && s1[w] == s1[d] * shape[d] && s2[w] == s2[d] * shape[d];
            if (mergeable)
            {
                shape[w] *= shape[d];
                s0[w] = s0[d]; s1[w] = s1[d]; s2[w] = s2[d];
            }
            else
            {
                w++;
                shape[w] = shape[d]; s0[w] = s0[d]; s1[w] = s1[d]; s2[w] = s2[d];
            }
        }
        return w + 1;
    }

    /// <summary>
    /// Strides of an operand with dims <paramref name="inShape"/> and strides <paramref name="inStrides"/>
    /// broadcast to <paramref name="outShape"/> (dims aligned from the right): 0 where it is expanded.
    /// </summary>
    public static void BroadcastStrides(ReadOnlySpan<int> inShape, ReadOnlySpan<int> inStrides, ReadOnlySpan<int> outShape, Span<int> strides)
    {
        int shift = outShape.Length - inShape.Length;
        for (int d = 0; d < outShape.Length; d++)
        {
            int sd = d - shift;
            strides[d] = sd < 0 || inShape[sd] == 1 ? 0 : inStrides[sd];
        }
    }
}

/// <summary>
/// Walks the rows of up to two strided operands laid over a contiguous result, after coalescing:
/// row r of the result is [r·Inner, (r+1)·Inner), and the operands' rows start at Offset0 and
/// Offset1 with element steps Step0 and Step1. Call <see cref="Advance"/> after each row.
/// </summary>
internal ref struct StridedRows
{
    private readonly Span<int> _dims, _s0, _s1, _counter;
    private readonly int _rank;

    /// <summary>Length of each row (the coalesced innermost dimension).</summary>
    public readonly int Inner;
    /// <summary>Element step along a row of operand 0 and operand 1 (0 where broadcast).</summary>
    public readonly int Step0, Step1;
    /// <summary>Where the current row of each operand starts.</summary>
    public int Offset0, Offset1;

    /// <summary>Scratch ints the walker needs for a shape of the given rank (stackalloc them).</summary>
    public static int ScratchLength(int rank) => 5 * Math.Max(rank, 1);

    /// <param name="shape">The common shape both operands are walked over.</param>
    /// <param name="strides0">Strides of the first operand.</param>
    /// <param name="offset0">Where the first operand starts.</param>
    /// <param name="strides1">Strides of the second operand; empty when there is only one.</param>
    /// <param name="offset1">Where the second operand starts.</param>
    /// <param name="scratch">At least <see cref="ScratchLength"/>(rank) ints the walker keeps its counters in.</param>
    public StridedRows(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides0, int offset0,
                       ReadOnlySpan<int> strides1, int offset1, Span<int> scratch)
    {
        int rank = Math.Max(shape.Length, 1);
        _dims = scratch.Slice(0, rank);
        _s0 = scratch.Slice(rank, rank);
        _s1 = scratch.Slice(2 * rank, rank);
        Span<int> contiguous = scratch.Slice(3 * rank, rank);
        _counter = scratch.Slice(4 * rank, rank);
        if (shape.Length == 0) { _dims[0] = 1; _s0[0] = 0; _s1[0] = 0; }
        else
        {
            shape.CopyTo(_dims);
            strides0.CopyTo(_s0);
            if (strides1.IsEmpty) _s1.Clear(); else strides1.CopyTo(_s1);
        }
        int s = 1;
        for (int d = rank - 1; d >= 0; d--) { contiguous[d] = s; s *= _dims[d]; }
        _rank = StridedLayout.Coalesce(_dims, _s0, _s1, contiguous);
        _counter.Clear();
        Inner = _dims[_rank - 1];
        Step0 = _s0[_rank - 1];
        Step1 = _s1[_rank - 1];
        Offset0 = offset0;
        Offset1 = offset1;
    }

    /// <summary>Moves both operands to the start of the next row (an odometer over the outer dims).</summary>
    public void Advance()
    {
        for (int d = _rank - 2; d >= 0; d--)
        {
            Offset0 += _s0[d]; Offset1 += _s1[d];
            if (++_counter[d] < _dims[d]) return;
            Offset0 -= _s0[d] * _dims[d]; Offset1 -= _s1[d] * _dims[d];
            _counter[d] = 0;
        }
    }
}
