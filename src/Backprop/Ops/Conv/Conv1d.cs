using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// 1-D cross-correlation y[n, o, l] = b[o] + Σ_c Σ_k w[o, c, k]·x[n, g·Cg + c, l·s − p + k·d], run as a
/// 2-D one of height 1: x [N, C, L] → [N, C, 1, L] and w [O, C/g, K] → [O, C/g, 1, K] are views, so
/// <see cref="Conv2dNode"/> (its GEMM driver, threads and backward) computes it without a copy. Its own
/// checks come first so errors name Conv1d and the 1-D shapes.
/// </summary>
internal static class Conv1dOp
{
    private const string Op = "Conv1d";

    /// <summary>
    /// x [N, C, L] or unbatched [C, L], w [outC, C/groups, K], b [outC] or null; padding per side
    /// (left, right). Returns [N, outC, L'] (or [outC, L']). Unequal sides need stride 1 ("same").
    /// </summary>
    /// <exception cref="ArgumentException">Ranks, dtypes, channels, groups or sizes do not fit; the message names the shapes.</exception>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? b, int stride, (int Left, int Right) padding, int dilation, int groups)
    {
        if (x.Rank is not (2 or 3))
            throw new ArgumentException($"{Op}: expected a 2-D [C, L] or 3-D [N, C, L] input, got shape {x.Shape}");
        if (w.Rank != 3)
            throw new ArgumentException($"{Op}: expected a 3-D weight [outC, C/groups, k], got shape {w.Shape}");
        x.CheckFloat(Op);
        Tensor.CheckSameDType(x, w, Op);
        if (stride <= 0) throw new ArgumentException($"{Op}: stride must be positive, got {stride}");
        if (padding.Left < 0 || padding.Right < 0) throw new ArgumentException($"{Op}: padding must be non-negative, got ({padding.Left}, {padding.Right})");
        if (padding.Left != padding.Right && stride != 1)
            throw new ArgumentException($"{Op}: padding='same' is not supported for strided convolutions, got stride {stride}");
        if (dilation <= 0) throw new ArgumentException($"{Op}: dilation must be positive, got {dilation}");
        if (groups <= 0) throw new ArgumentException($"{Op}: groups must be positive, got {groups}");
        int c = x.Shape[x.Rank - 2], l = x.Shape[x.Rank - 1], outC = w.Shape[0], k = w.Shape[2];
        if (outC % groups != 0)
            throw new ArgumentException($"{Op}: groups={groups} must divide the output channels, but weight of shape {w.Shape} has {outC}");
        if (c % groups != 0)
            throw new ArgumentException($"{Op}: groups={groups} must divide the input channels, but input of shape {x.Shape} has {c}");
        if (w.Shape[1] * groups != c)
            throw new ArgumentException($"{Op}: input of shape {x.Shape} has {c} channels, but weight of shape {w.Shape} with groups={groups} expects {w.Shape[1] * groups} (weight.Size(1) × groups)");
        if (b is not null)
        {
            Tensor.CheckSameDType(x, b, Op);
            if (b.Rank != 1 || b.Shape[0] != outC)
                throw new ArgumentException($"{Op}: bias must have shape [{outC}] to match weight of shape {w.Shape}, got {b.Shape}");
        }
        int span = dilation * (k - 1) + 1, padded = l + padding.Left + padding.Right;
        if (padded < span || k == 0)
            throw new ArgumentException($"{Op}: kernel of size {k} with dilation {dilation} spans {span}, larger than the padded input {padded} of input shape {x.Shape} with padding ({padding.Left}, {padding.Right})");

        int n = x.Rank == 3 ? x.Shape[0] : 1, p = Math.Max(padding.Left, padding.Right);
        Tensor x4 = x.Reshape(n, c, 1, l);                      // [N, C, L] -> [N, C, 1, L]
        Tensor w4 = w.Reshape(outC, w.Shape[1], 1, k);          // [O, C/g, K] -> [O, C/g, 1, K]
        Tensor y = Conv2dNode.Forward(x4, w4, b, (1, stride), (0, p), (1, dilation), groups); // [N, O, 1, L']
        int shift = p - padding.Left + p - padding.Right;       // the columns only the symmetric padding adds (stride 1)
        if (shift > 0) y = y.Narrow(3, p - padding.Left, y.Shape[3] - shift);
        return x.Rank == 3 ? y.Reshape(n, outC, y.Shape[3]) : y.Reshape(outC, y.Shape[3]);
    }
}
