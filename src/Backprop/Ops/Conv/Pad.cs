using Backprop.Autograd;
using Backprop.Ops.View;
using Backprop.Tensors;

namespace Backprop.Ops.Conv;

/// <summary>
/// torch.nn.functional.pad: the pad list names (before, after) pairs from the last dim backwards; modes
/// "constant" (any number of dims, negative pads crop), "reflect", "replicate" and "circular" (the last 1 to 3
/// dims of a batched or, except circular, unbatched input, as PyTorch 1.13). Negative pads crop first, then the
/// positive ones pad, which is what PyTorch's kernels compute. Border modes are gathers (<see cref="BorderPad"/>).
/// </summary>
internal static class PadOp
{
    private const string Op = "Pad";

    /// <exception cref="ArgumentException">An odd or too long pad list, an unknown mode, an input rank the mode does not take, or a pad the mode cannot make.</exception>
    public static Tensor Forward(Tensor x, ReadOnlySpan<int> pad, string mode, double value)
    {
        ArgumentNullException.ThrowIfNull(mode);
        string padText = $"({string.Join(", ", pad.ToArray())})";
        if (pad.Length % 2 != 0)
            throw new ArgumentException($"{Op}: the pad list must hold (before, after) pairs, got {pad.Length} values {padText} for input of shape {x.Shape}");
        int k = pad.Length / 2;
        PaddingMode? border = mode switch
        {
            "constant" => null,
            "reflect" => PaddingMode.Reflect,
            "replicate" => PaddingMode.Replicate,
            "circular" => PaddingMode.Circular,
            _ => throw new ArgumentException($"{Op}: unknown mode '{mode}'; expected 'constant', 'reflect', 'replicate' or 'circular'"),
        };
        if (k > x.Rank)
            throw new ArgumentException($"{Op}: pad {padText} pads {k} dims, but the input of shape {x.Shape} has {x.Rank}");
        if (border is not null)
        {
            if (value != 0)
                throw new ArgumentException($"{Op}: a fill value ({value}) is only used by mode 'constant', got mode '{mode}'");
            bool rankFits = k is >= 1 and <= 3 && (x.Rank == k + 2 || (x.Rank == k + 1 && border != PaddingMode.Circular));
            if (!rankFits)
                throw new ArgumentException(k is < 1 or > 3
                    ? $"{Op}: mode '{mode}' pads the last 1, 2 or 3 dims, got pad {padText} ({k} dims) for input of shape {x.Shape}"
                    : $"{Op}: mode '{mode}' with pad {padText} pads {k} dims of a {(border == PaddingMode.Circular ? $"{k + 2}-D batched" : $"{k + 1}-D or {k + 2}-D")} input, got shape {x.Shape}");
        }

        // Crop first: a negative pad removes elements from that side (a view, differentiable).
        Tensor input = x;
        var before = new int[x.Rank];
        var after = new int[x.Rank];
        for (int i = 0; i < k; i++)
        {
            int d = x.Rank - 1 - i, lo = pad[2 * i], hi = pad[2 * i + 1];
            int cutLo = Math.Max(0, -lo), cutHi = Math.Max(0, -hi), size = x.Shape[d];
            if (cutLo + cutHi > size || size + lo + hi < 0)
                throw new ArgumentException($"{Op}: pad ({lo}, {hi}) of dim {d} would leave a negative size (input shape {x.Shape}, pad {padText})");
            if (cutLo + cutHi > 0) x = x.Narrow(d, cutLo, size - cutLo - cutHi);
            before[d] = Math.Max(0, lo);
            after[d] = Math.Max(0, hi);
        }
        if (border is { } m)
        {
            for (int d = x.Rank - k; d < x.Rank; d++)
                x = BorderPad.Pad(x, d, before[d], after[d], m, Op);
            return ReferenceEquals(x, input) ? x.Clone() : x.Contiguous(); // always a new tensor, as PyTorch
        }
        return ConstantPadNode.Forward(x, before, after, value);
    }
}

/// <summary>y = x surrounded by a constant: y[before + i] = x[i], every other element the value (torch.constant_pad_nd, non-negative pads).</summary>
internal sealed class ConstantPadNode(Tensor x, int[] before) : Node(x)
{
    private readonly Shape _inShape = x.Shape;

    public static Tensor Forward(Tensor x, int[] before, int[] after, double value)
    {
        var dims = new int[x.Rank];
        for (int d = 0; d < dims.Length; d++) dims[d] = x.Shape[d] + before[d] + after[d];
        Tensor y = Tensor.Full(new Shape(dims), value, x.DType);
        if (x.Numel > 0)
        {
            int offset = 0;
            for (int d = 0; d < dims.Length; d++) offset += before[d] * y.Strides[d];
            Tensor packed = x.Detach().Contiguous();
            StridedCopy.Scatter(packed, y, offset, y.Strides, x.Shape.Dims); // the interior
        }
        if (GradMode.Records(x)) y.SetGradFn(new ConstantPadNode(x, before));
        return y;
    }

    // dy/dx = 1 at the interior: the gradient is dy cut back to the input's extent (a copy, so it owns its storage).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor dx = dy;
        for (int d = 0; d < _inShape.Rank; d++)
            if (_inShape[d] != dy.Shape[d]) dx = dx.Narrow(d, before[d], _inShape[d]);
        return [ReferenceEquals(dx, dy) ? dy.Clone() : dx.Contiguous()];
    }
}
