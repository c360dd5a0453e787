namespace Backprop.Kernels;

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

    /// <summary>Strides of a tensor broadcast to <paramref name="outShape"/> (0 where it is expanded).</summary>
    public static void BroadcastStrides(Tensor t, Shape outShape, Span<int> strides)
    {
        int shift = outShape.Rank - t.Rank;
        for (int d = 0; d < outShape.Rank; d++)
        {
            int sd = d - shift;
            strides[d] = sd < 0 || t.Shape[sd] == 1 ? 0 : t.Strides[sd];
        }
    }
}
