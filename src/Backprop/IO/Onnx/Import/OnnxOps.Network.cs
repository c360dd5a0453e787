using Backprop.Tensors;
using F = Backprop.NN.Functional;

namespace Backprop.IO.Onnx.Import;

// Layers: matrix products, convolution, pooling, normalization, softmax, reductions and dropout.
internal static partial class OnnxOps
{
    private static void AddNetwork(Dictionary<string, OnnxOp> t)
    {
        t["MatMul"] = (n, x, _) => One(In(n, x, 0).MatMul(In(n, x, 1)));
        t["Gemm"] = Gemm;
        t["Einsum"] = (n, x, _) => One(Tensor.Einsum(n.String("equation", ""), [.. Enumerable.Range(0, x.Length).Select(i => In(n, x, i))]));
        t["Softmax"] = (n, x, _) => One(SoftmaxLike(n, In(n, x, 0), (v, d) => v.Softmax(d)));
        t["LogSoftmax"] = (n, x, _) => One(SoftmaxLike(n, In(n, x, 0), (v, d) => v.LogSoftmax(d)));
        t["Conv"] = Conv;
        t["MaxPool"] = (n, x, _) => Pool(n, In(n, x, 0), max: true);
        t["AveragePool"] = (n, x, _) => Pool(n, In(n, x, 0), max: false);
        t["GlobalAveragePool"] = (n, x, _) => { Tensor v = In(n, x, 0); return One(v.Mean([.. Enumerable.Range(2, v.Rank - 2)], keepDim: true)); };
        t["GlobalMaxPool"] = (n, x, _) => { Tensor v = In(n, x, 0); return One(Reduce(v, [.. Enumerable.Range(2, v.Rank - 2)], true, (a, d, k) => a.Max(d, k))); };
        t["BatchNormalization"] = BatchNormalization;
        t["LayerNormalization"] = LayerNormalization;
        t["InstanceNormalization"] = InstanceNormalization;
        t["Dropout"] = Dropout;
        t["NegativeLogLikelihoodLoss"] = (n, x, _) => One(NllLoss(n, In(n, x, 0), In(n, x, 1), Optional(x, 2)));
        t["SoftmaxCrossEntropyLoss"] = (n, x, _) =>
        {
            Tensor logProb = In(n, x, 0).LogSoftmax(1);
            return [NllLoss(n, logProb, In(n, x, 1), Optional(x, 2)), logProb];
        };
        ReduceOp(t, "ReduceSum", 13, (v, dims, keep) => v.Sum(dims, keep));
        ReduceOp(t, "ReduceMean", 18, (v, dims, keep) => v.Mean(dims, keep));
        ReduceOp(t, "ReduceMax", 18, (v, dims, keep) => Reduce(v, dims, keep, (a, d, k) => a.Max(d, k)));
        ReduceOp(t, "ReduceMin", 18, (v, dims, keep) => Reduce(v, dims, keep, (a, d, k) => a.Min(d, k)));
        ReduceOp(t, "ReduceProd", 18, (v, dims, keep) => Reduce(v, dims, keep, (a, d, k) => a.Prod(d, k)));
        ReduceOp(t, "ReduceL1", 18, (v, dims, keep) => v.Abs().Sum(dims, keep));
        ReduceOp(t, "ReduceL2", 18, (v, dims, keep) => v.Square().Sum(dims, keep).Sqrt());
        ReduceOp(t, "ReduceSumSquare", 18, (v, dims, keep) => v.Square().Sum(dims, keep));
        // log Σ exp over several dims, one dim at a time: log Σ_j exp(log Σ_i exp(x_ij)) = log Σ_ij exp(x_ij).
        ReduceOp(t, "ReduceLogSumExp", 18, (v, dims, keep) => Reduce(v, dims, keep, (a, d, k) => a.LogSumExp(d, k)));
        ReduceOp(t, "ReduceLogSum", 18, (v, dims, keep) => v.Sum(dims, keep).Log());
        t["ArgMax"] = (n, x, _) => ArgExtremum(n, In(n, x, 0), min: false);
        t["ArgMin"] = (n, x, _) => ArgExtremum(n, In(n, x, 0), min: true);
    }

    // y = alpha·A'·B' + beta·C, A' and B' optionally transposed; the usual transB=1 form is the engine's Linear.
    private static Tensor?[] Gemm(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor a = In(n, x, 0), b = In(n, x, 1);
        Tensor? c = Optional(x, 2);
        double alpha = n.Float("alpha", 1), beta = n.Float("beta", 1);
        bool transA = n.Int("transA", 0) != 0, transB = n.Int("transB", 0) != 0;
        if (a.Rank != 2 || b.Rank != 2) throw new ArgumentException($"A {a.Shape} and B {b.Shape} must be matrices");
        if (!transA && transB && alpha == 1 && beta == 1 && (c is null || c.Rank == 1 && c.Shape[0] == b.Shape[0]))
            return One(F.Linear(a, b, c));
        Tensor y = (transA ? a.T() : a).MatMul(transB ? b.T() : b);
        if (alpha != 1) y = y * alpha;
        if (c is not null && beta != 0) y = y + (beta == 1 ? c : c * beta);
        return One(y);
    }

    // Opset 13 made softmax one axis (default −1); before, the input was a matrix [d0·…·d(axis−1), rest] (default axis 1).
    private static Tensor SoftmaxLike(OnnxNode n, Tensor v, Func<Tensor, int, Tensor> f)
    {
        if (n.Opset >= 13) return f(v, Axis(n, n.Int("axis", -1), v.Rank));
        int axis = Axis(n, n.Int("axis", 1), Math.Max(v.Rank, 1));
        int rows = 1;
        for (int i = 0; i < axis; i++) rows *= v.Shape[i];
        if (v.Numel == 0) return f(v, axis);
        return f(v.Reshape(rows, v.Numel / rows), 1).Reshape(v.Shape.ToArray());
    }

    /// <summary>Per spatial dim: padding before and after, from pads or auto_pad.</summary>
    private static (int[] Begin, int[] End) Pads(OnnxNode n, Tensor x, int[] kernel, int[] strides, int[] dilations)
    {
        int s = kernel.Length;
        var begin = new int[s];
        var end = new int[s];
        string autoPad = n.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET":
                long[] pads = n.Ints("pads") ?? new long[2 * s];
                if (pads.Length != 2 * s) throw new ArgumentException($"pads has {pads.Length} entries for {s} spatial dims");
                for (int i = 0; i < s; i++) (begin[i], end[i]) = (Checked(pads[i], "pad"), Checked(pads[i + s], "pad"));
                break;
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                for (int i = 0; i < s; i++)
                {
                    int size = x.Shape[2 + i], output = (size + strides[i] - 1) / strides[i];
                    int total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
                    // The odd pixel goes at the end for SAME_UPPER, at the beginning for SAME_LOWER.
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                }
                break;
            default:
                throw n.Unsupported($"auto_pad '{autoPad}'");
        }
        return (begin, end);
    }

    private static int[] Spatial(OnnxNode n, string name, int s, int fallback)
    {
        long[] values = n.Ints(name) ?? [.. Enumerable.Repeat((long)fallback, s)];
        if (values.Length != s) throw new ArgumentException($"{name} has {values.Length} entries for {s} spatial dims");
        return [.. values.Select(v => v >= 1 && v <= int.MaxValue ? (int)v : throw new ArgumentException($"{name} entry {v} must be positive"))];
    }

    private static int SpatialDims(OnnxNode n, Tensor x)
    {
        if (x.Rank is not (3 or 4)) throw n.Unsupported($"input {x.Shape}: only 1-D and 2-D spatial inputs ([N, C, L] or [N, C, H, W]) are supported");
        return x.Rank - 2;
    }

    // F.pad's order: the last dim first, before then after.
    private static Tensor PadSpatial(Tensor x, int[] begin, int[] end, double value)
    {
        var pad = new int[2 * begin.Length];
        for (int i = 0; i < begin.Length; i++)
        {
            pad[2 * (begin.Length - 1 - i)] = begin[i];
            pad[2 * (begin.Length - 1 - i) + 1] = end[i];
        }
        return F.Pad(x, pad, "constant", value);
    }

    private static Tensor?[] Conv(OnnxNode n, Tensor?[] inputs, bool training)
    {
        Tensor x = In(n, inputs, 0), w = In(n, inputs, 1);
        Tensor? b = Optional(inputs, 2);
        int s = SpatialDims(n, x);
        if (w.Rank != s + 2) throw new ArgumentException($"weight {w.Shape} does not fit input {x.Shape}");
        int[] kernel = [.. w.Shape.ToArray()[2..]];
        int[] strides = Spatial(n, "strides", s, 1), dilations = Spatial(n, "dilations", s, 1);
        int groups = Checked(n.Int("group", 1), "group");
        (int[] begin, int[] end) = Pads(n, x, kernel, strides, dilations);
        int[] padding = new int[s];
        if (!begin.AsSpan().SequenceEqual(end)) x = PadSpatial(x, begin, end, 0); // asymmetric: pad first, then convolve unpadded
        else padding = begin;
        return One(s == 1
            ? F.Conv1d(x, w, b, strides[0], padding[0], dilations[0], groups)
            : F.Conv2d(x, w, b, (strides[0], strides[1]), (padding[0], padding[1]), (dilations[0], dilations[1]), groups));
    }

    private static Tensor?[] Pool(OnnxNode n, Tensor x, bool max)
    {
        if (n.Outputs.Length > 1 && n.Outputs[1] >= 0) throw n.Unsupported("the Indices output of MaxPool");
        int s = SpatialDims(n, x);
        int[] kernel = Spatial(n, "kernel_shape", s, 0);
        int[] strides = Spatial(n, "strides", s, 1), dilations = max ? Spatial(n, "dilations", s, 1) : Spatial(n, "dilations", s, 1);
        if (!max && dilations.Any(d => d != 1)) throw n.Unsupported("dilated average pooling");
        bool ceil = n.Int("ceil_mode", 0) != 0, includePad = n.Int("count_include_pad", 0) != 0;
        (int[] begin, int[] end) = Pads(n, x, kernel, strides, dilations);
        bool engineCanPad = begin.AsSpan().SequenceEqual(end);
        for (int i = 0; i < s; i++) engineCanPad &= begin[i] <= ((kernel[i] - 1) * dilations[i] + 1) / 2;
        bool padded = begin.Any(p => p != 0) || end.Any(p => p != 0);
        if (max)
        {
            // Padding beyond the engine's (PyTorch's) half-window limit, or unequal sides: pad with −∞, then pool unpadded.
            int[] p = engineCanPad ? begin : new int[s];
            if (!engineCanPad) x = PadSpatial(x, begin, end, double.NegativeInfinity);
            return One(s == 1
                ? F.MaxPool1d(x, kernel[0], strides[0], p[0], dilations[0], ceil)
                : F.MaxPool2d(x, (kernel[0], kernel[1]), (strides[0], strides[1]), (p[0], p[1]), (dilations[0], dilations[1]), ceil));
        }
        if (engineCanPad || !padded)
            return One(AvgPool(x, kernel, strides, begin, ceil, includePad));
        // Unequal or wide padding: average the zero-padded input; without counting padding, divide by the
        // average of a padded mask of ones (the fraction of each window that is input).
        Tensor y = AvgPool(PadSpatial(x, begin, end, 0), kernel, strides, new int[s], ceil, true);
        if (includePad) return One(y);
        Tensor ones = Tensor.Ones(new Shape([1, 1, .. x.Shape.ToArray()[2..]]), x.DType);
        return One(y / AvgPool(PadSpatial(ones, begin, end, 0), kernel, strides, new int[s], ceil, true));
    }

    private static Tensor AvgPool(Tensor x, int[] kernel, int[] strides, int[] padding, bool ceil, bool includePad) => kernel.Length == 1
        ? F.AvgPool1d(x, kernel[0], strides[0], padding[0], ceil, includePad)
        : F.AvgPool2d(x, (kernel[0], kernel[1]), (strides[0], strides[1]), (padding[0], padding[1]), ceil, includePad);

    private static Tensor?[] BatchNormalization(OnnxNode n, Tensor?[] x, bool training)
    {
        if (n.Int("training_mode", 0) != 0 || n.Outputs.Skip(1).Any(o => o >= 0))
            throw n.Unsupported("training mode (batch statistics and running-statistics outputs); imported batch norm normalises with the running statistics");
        if (n.Opset < 7 && n.Int("spatial", 1) == 0) throw n.Unsupported("spatial=0");
        return One(F.BatchNorm(In(n, x, 0), In(n, x, 3), In(n, x, 4), In(n, x, 1), In(n, x, 2), training: false, eps: n.Float("epsilon", 1e-5f)));
    }

    private static Tensor?[] LayerNormalization(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor v = In(n, x, 0), scale = In(n, x, 1);
        Tensor? bias = Optional(x, 2);
        int axis = Axis(n, n.Int("axis", -1), v.Rank);
        double eps = n.Float("epsilon", 1e-5f);
        int[] normalized = v.Shape.ToArray()[axis..];
        bool affine = scale.Shape.ToArray().AsSpan().SequenceEqual(normalized) && (bias is null || bias.Shape.ToArray().AsSpan().SequenceEqual(normalized));
        Tensor y = affine ? F.LayerNorm(v, normalized, scale, bias, eps) : F.LayerNorm(v, normalized, eps: eps) * scale;
        if (!affine && bias is not null) y = y + bias;
        if (n.Outputs.Skip(1).All(o => o < 0)) return One(y);
        int[] dims = [.. Enumerable.Range(axis, v.Rank - axis)];
        Tensor mean = v.Mean(dims, keepDim: true);
        Tensor invStd = (v.Var(dims, correction: 0, keepDim: true) + eps).Rsqrt();
        return [y, mean, invStd];
    }

    // Per sample and channel over the spatial dims: (x − mean) / √(var + ε) · scale[c] + B[c].
    private static Tensor?[] InstanceNormalization(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor v = In(n, x, 0), scale = In(n, x, 1), shift = In(n, x, 2);
        if (v.Rank < 3) throw new ArgumentException($"input {v.Shape} must be [N, C, spatial…]");
        int[] dims = [.. Enumerable.Range(2, v.Rank - 2)];
        int[] channel = [v.Shape[1], .. Enumerable.Repeat(1, v.Rank - 2)];
        Tensor mean = v.Mean(dims, keepDim: true), variance = v.Var(dims, correction: 0, keepDim: true);
        Tensor y = (v - mean) * (variance + (double)n.Float("epsilon", 1e-5f)).Rsqrt();
        return One(y * scale.Reshape(channel) + shift.Reshape(channel));
    }

    // −input[i, target[i], …]·weight[target[i]], targets equal to ignore_index weighing 0; "mean" divides by the summed weights.
    private static Tensor NllLoss(OnnxNode n, Tensor input, Tensor target, Tensor? weight)
    {
        if (input.Rank < 2 || target.DType != DType.Int64) throw new ArgumentException($"input {input.Shape} must be [N, C, …] and target integer, got {target.DType.Name()}");
        Tensor? keep = n.Has("ignore_index") ? target.Ne((double)n.Int("ignore_index", 0)) : null;
        Tensor safe = keep is null ? target : Tensor.Where(keep, target, 0L); // an ignored target may be out of range
        Tensor picked = input.Gather(1, safe.Unsqueeze(1)).Squeeze(1);      // [N, …]
        Tensor w = weight is null ? Tensor.OnesLike(picked) : weight.IndexSelect(0, safe.Reshape(-1)).Reshape(target.Shape.ToArray());
        if (keep is not null) w = w * keep.To(w.DType);
        Tensor loss = -(picked * w);
        return n.String("reduction", "mean") switch
        {
            "none" => loss,
            "sum" => loss.Sum(),
            "mean" => loss.Sum() / w.Sum(),
            string r => throw n.Unsupported($"reduction '{r}' (none, sum and mean are)"),
        };
    }

    private static Tensor?[] Dropout(OnnxNode n, Tensor?[] x, bool training)
    {
        Tensor v = In(n, x, 0);
        double ratio = n.Opset < 12 ? n.Float("ratio", 0.5f) : Optional(x, 1) is { } r ? Scalar(n, r, "ratio") : 0.5;
        bool drop = training || Optional(x, 2) is { } mode && Scalar(n, mode, "training_mode") != 0;
        Tensor y = drop && ratio > 0 ? F.Dropout(v, ratio, training: true) : v;
        if (n.Outputs.Length < 2 || n.Outputs[1] < 0) return One(y);
        return [y, drop && ratio > 0 ? y.Ne(0.0) : Tensor.Full(v.Shape, true)];
    }

    private static void ReduceOp(Dictionary<string, OnnxOp> t, string op, int axesInputFrom, Func<Tensor, int[], bool, Tensor> f) => t[op] = (n, x, _) =>
    {
        Tensor v = In(n, x, 0);
        bool keep = n.Int("keepdims", 1) != 0;
        long[]? axes = n.Opset < axesInputFrom ? n.Ints("axes") : Optional(x, 1) is { } a ? Longs(n, a, "axes") : null;
        if (axes is null || axes.Length == 0)
        {
            if (n.Int("noop_with_empty_axes", 0) != 0) return One(v);
            axes = [.. Enumerable.Range(0, v.Rank).Select(i => (long)i)];
        }
        if (v.Rank == 0) return One(v);
        return One(f(v, Axes(n, axes, v.Rank), keep));
    };

    // Several dims one at a time, the highest first, so the remaining dims keep their numbers.
    private static Tensor Reduce(Tensor v, int[] dims, bool keep, Func<Tensor, int, bool, Tensor> f)
    {
        foreach (int d in dims.OrderDescending()) v = f(v, d, keep);
        return v;
    }

    private static Tensor?[] ArgExtremum(OnnxNode n, Tensor v, bool min)
    {
        int axis = Axis(n, n.Int("axis", 0), v.Rank);
        bool keep = n.Int("keepdims", 1) != 0;
        if (n.Int("select_last_index", 0) == 0) return One(min ? v.ArgMin(axis, keep) : v.ArgMax(axis, keep));
        // The last of equal extremes: the first in the flipped dim, counted back from the end.
        Tensor flipped = min ? v.Flip(axis).ArgMin(axis, keep) : v.Flip(axis).ArgMax(axis, keep);
        return One((long)(v.Shape[axis] - 1) - flipped);
    }
}
