using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Norm;
using Backprop.Tensors;
using static Backprop.IO.Onnx.OnnxGraphBuilder;

namespace Backprop.IO.Onnx;

// The normalisation layers: BatchNormalization and LayerNormalization ops, GroupNorm and RMSNorm composed (opset 17 has neither).
public static partial class OnnxExport
{
    private static string BatchNorm(OnnxGraphBuilder g, string path, BatchNorm b, string input, string hint)
    {
        if (b.RunningMean is null || b.RunningVar is null)
            throw Unsupported(path, b, "no running statistics (trackRunningStats: false normalises with batch statistics in evaluation too), which ONNX inference has no op for");
        int c = b.NumFeatures;
        string scale = b.Weight is null ? g.Initializer(path + "weight", Tensor.Ones([c], g.DType)) : g.Initializer(path + "weight", b.Weight.Data);
        string shift = b.Bias is null ? g.Initializer(path + "bias", Tensor.Zeros([c], g.DType)) : g.Initializer(path + "bias", b.Bias.Data);
        return g.Node("BatchNormalization", hint, [input, scale, shift, g.Initializer(path + "running_mean", b.RunningMean), g.Initializer(path + "running_var", b.RunningVar)],
                      Float("epsilon", b.Eps));
    }

    private static string LayerNorm(OnnxGraphBuilder g, string path, LayerNorm ln, OnnxValue x, string hint)
    {
        ReadOnlySpan<int> shape = ln.NormalizedShape;
        string scale = ln.Weight is null ? g.Initializer(path + "weight", Tensor.Ones(shape.ToArray(), g.DType)) : g.Initializer(path + "weight", ln.Weight.Data);
        string[] inputs = ln.Bias is null ? [x.Name, scale] : [x.Name, scale, g.Initializer(path + "bias", ln.Bias.Data)];
        return g.Node("LayerNormalization", hint, inputs, Int("axis", -shape.Length), Float("epsilon", ln.Eps));
    }

    // GroupNorm of [N, C, *]: the groups as rows of [N, G, C/G·∏*], mean and biased variance per row (two passes, as the engine),
    // (x − mean)/√(var + eps) back in x's shape, then the per-channel affine broadcast over the trailing dims.
    private static string GroupNorm(OnnxGraphBuilder g, string path, GroupNorm gn, OnnxValue x, string hint)
    {
        int rank = x.Example.Rank;
        if (rank < 3) throw Unsupported(path, gn, $"input {x.Example.Shape} is not [N, C, *] with at least one trailing dim");
        string rows = g.Node("Reshape", hint + "_groups", [x.Name, g.Int64Initializer(hint + "_groups_shape", [0, gn.NumGroups, -1])]);
        string normalized = Standardize(g, rows, [2], gn.Eps, hint);
        string y = g.Node("Reshape", gn.Weight is null ? hint : hint + "_normalized", [normalized, g.Node("Shape", hint + "_shape", [x.Name])]);
        if (gn.Weight is null) return y;
        int[] perChannel = new int[rank - 1];
        perChannel.AsSpan().Fill(1);
        perChannel[0] = gn.NumChannels;
        y = g.Node("Mul", hint + "_scaled", [y, g.Initializer(path + "weight", gn.Weight.Data.Reshape(perChannel))]);
        return g.Node("Add", hint, [y, g.Initializer(path + "bias", gn.Bias!.Data.Reshape(perChannel))]);
    }

    /// <summary>(x − mean)/√(var + eps) over <paramref name="axes"/> (biased variance, both means two-pass).</summary>
    private static string Standardize(OnnxGraphBuilder g, string x, long[] axes, double eps, string hint)
    {
        string centred = g.Node("Sub", hint + "_centred", [x, g.Node("ReduceMean", hint + "_mean", [x], Ints("axes", axes), Int("keepdims", 1))]);
        string variance = g.Node("ReduceMean", hint + "_var", [g.Node("Mul", hint + "_sq", [centred, centred])], Ints("axes", axes), Int("keepdims", 1));
        string std = g.Node("Sqrt", hint + "_std", [g.Node("Add", hint + "_var_eps", [variance, g.Scalar(hint + "_eps", eps)])]);
        return g.Node("Div", hint + "_standardized", [centred, std]);
    }

    // RMSNorm: x / √(mean(x²) + eps) over the trailing dims, then the weight; eps defaults to the dtype's machine epsilon, as the engine.
    private static string RmsNorm(OnnxGraphBuilder g, string path, RmsNorm rn, OnnxValue x, string hint)
    {
        int k = rn.NormalizedShape.Count;
        var axes = new long[k];
        for (int i = 0; i < k; i++) axes[i] = i - k;
        double eps = rn.Eps ?? RmsNormNode.DefaultEps(x.Example.DType);
        string meanSquare = g.Node("ReduceMean", hint + "_mean_sq", [g.Node("Mul", hint + "_sq", [x.Name, x.Name])], Ints("axes", axes), Int("keepdims", 1));
        string rms = g.Node("Sqrt", hint + "_rms", [g.Node("Add", hint + "_mean_sq_eps", [meanSquare, g.Scalar(hint + "_eps", eps)])]);
        string y = g.Node("Div", rn.Weight is null ? hint : hint + "_normalized", [x.Name, rms]);
        return rn.Weight is null ? y : g.Node("Mul", hint, [y, g.Initializer(path + "weight", rn.Weight.Data)]);
    }
}
