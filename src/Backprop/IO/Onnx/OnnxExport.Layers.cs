using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Conv;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;
using static Backprop.IO.Onnx.OnnxGraphBuilder;

namespace Backprop.IO.Onnx;

// The feed-forward and convolutional layers: Linear, convolutions, pooling, reshapes, GELU.
public static partial class OnnxExport
{
    // y = x·Wᵀ + b: Gemm for a matrix input, MatMul with the transposed weight then Add otherwise (Gemm takes only 2-D).
    private static string Linear(OnnxGraphBuilder g, string path, OnnxValue x, Parameter weight, Parameter? bias, string hint)
    {
        if (x.Example.Rank == 2)
        {
            string w = g.Initializer(path + "weight", weight.Data);
            return bias is null
                ? g.Node("Gemm", hint, [x.Name, w], Int("transB", 1))
                : g.Node("Gemm", hint, [x.Name, w, g.Initializer(path + "bias", bias.Data)], Int("transB", 1));
        }
        string wt = g.Initializer(path + "weight_t", weight.Data.Transpose(0, 1).Contiguous());
        string mm = g.Node("MatMul", bias is null ? hint : hint + "_matmul", [x.Name, wt]);
        return bias is null ? mm : g.Node("Add", hint, [mm, g.Initializer(path + "bias", bias.Data)]);
    }

    private static string Conv(OnnxGraphBuilder g, string path, Conv2d c, Parameter weight, Parameter? bias, string input, string hint)
    {
        if (c.PaddingMode != PaddingMode.Zeros)
            throw Unsupported(path, c, $"padding mode {c.PaddingMode} is not exported (only zero padding)");
        IntPair k = c.KernelSize, s = c.Stride, d = c.Dilation;
        long top, left, bottom, right;
        if (c.Padding.IsSame)
        {
            // PyTorch's "same": total dilation·(k − 1) per dim, the odd one extra on the bottom/right.
            long th = (long)d.H * (k.H - 1), tw = (long)d.W * (k.W - 1);
            (top, bottom, left, right) = (th / 2, th - th / 2, tw / 2, tw - tw / 2);
        }
        else (top, bottom, left, right) = (c.Padding.Size.H, c.Padding.Size.H, c.Padding.Size.W, c.Padding.Size.W);
        string w = g.Initializer(path + "weight", weight.Data);
        string[] inputs = bias is null ? [input, w] : [input, w, g.Initializer(path + "bias", bias.Data)];
        return g.Node("Conv", hint, inputs, Ints("kernel_shape", k.H, k.W), Ints("strides", s.H, s.W), Ints("pads", top, left, bottom, right),
                      Ints("dilations", d.H, d.W), Int("group", c.Groups));
    }

    private static string Conv1d(OnnxGraphBuilder g, string path, Conv1d c, string input, string hint)
    {
        if (c.PaddingMode != PaddingMode.Zeros)
            throw Unsupported(path, c, $"padding mode {c.PaddingMode} is not exported (only zero padding)");
        var (left, right) = c.Padding.IsSame ? SamePadding.Split(c.KernelSize, c.Dilation) : (c.Padding.Size.W, c.Padding.Size.W);
        string w = g.Initializer(path + "weight", c.Weight.Data);
        string[] inputs = c.Bias is null ? [input, w] : [input, w, g.Initializer(path + "bias", c.Bias.Data)];
        return g.Node("Conv", hint, inputs, Ints("kernel_shape", c.KernelSize), Ints("strides", c.Stride), Ints("pads", left, right),
                      Ints("dilations", c.Dilation), Int("group", c.Groups));
    }

    // The weight [Cin, Cout/groups, kH, kW] is ONNX's layout too; output_padding adds rows/columns at the bottom/right, as PyTorch's.
    private static string ConvTranspose(OnnxGraphBuilder g, string path, ConvTranspose2d c, string input, string hint)
    {
        string w = g.Initializer(path + "weight", c.Weight.Data);
        string[] inputs = c.Bias is null ? [input, w] : [input, w, g.Initializer(path + "bias", c.Bias.Data)];
        return g.Node("ConvTranspose", hint, inputs, Ints("kernel_shape", c.KernelSize.H, c.KernelSize.W), Ints("strides", c.Stride.H, c.Stride.W),
                      Ints("pads", c.Padding.H, c.Padding.W, c.Padding.H, c.Padding.W), Ints("output_padding", c.OutputPadding.H, c.OutputPadding.W),
                      Ints("dilations", c.Dilation.H, c.Dilation.W), Int("group", c.Groups));
    }

    private static string Flatten(OnnxGraphBuilder g, string path, Flatten f, OnnxValue x, Tensor y, string hint)
    {
        int rank = x.Example.Rank;
        int start = f.StartDim < 0 ? f.StartDim + rank : f.StartDim, end = f.EndDim < 0 ? f.EndDim + rank : f.EndDim;
        // ONNX Flatten always gives a matrix [d0·…·d(axis−1), rest]: PyTorch's only for start 1 to the last dim.
        if (start == 1 && end == rank - 1) return g.Node("Flatten", hint, [x.Name], Int("axis", 1));
        if (start == 0) throw Unsupported(path, f, $"flattening dims 0..{end} of a rank-{rank} input merges the batch dim with others, which a graph with a batch dim cannot describe");
        // Reshape: dims before start copied (0), the merged run -1, the dims after end as they are.
        var dims = new long[y.Rank];
        for (int i = 0; i < start; i++) dims[i] = 0;
        dims[start] = -1;
        for (int i = start + 1; i < y.Rank; i++) dims[i] = y.Shape[i];
        return g.Node("Reshape", hint, [x.Name, g.Int64Initializer(path.Replace('.', '_') + "shape", dims)]);
    }

    private static string Unflatten(OnnxGraphBuilder g, string path, Unflatten u, OnnxValue x, Tensor y, string hint)
    {
        int d = u.Dim < 0 ? u.Dim + x.Example.Rank : u.Dim;
        if (d == 0) throw Unsupported(path, u, "splitting dim 0 splits the batch dim, which a graph with a batch dim cannot describe");
        // Reshape: dims before d copied (0), then the output's own dims (static from the example).
        var dims = new long[y.Rank];
        for (int i = d; i < y.Rank; i++) dims[i] = y.Shape[i];
        return g.Node("Reshape", hint, [x.Name, g.Int64Initializer(path.Replace('.', '_') + "shape", dims)]);
    }

    // Adaptive pooling to 1×1 is global pooling; where each input side is a multiple of the output's, PyTorch's
    // windows are uniform (kernel = stride = in/out) and plain pooling computes them exactly.
    private static string AdaptivePool(OnnxGraphBuilder g, string path, Module m, string kind, OnnxValue x, Tensor y, string hint)
    {
        if (x.Example.Rank != 4) throw Unsupported(path, m, $"input {x.Example.Shape} is not batched [N, C, H, W]");
        int ih = x.Example.Shape[2], iw = x.Example.Shape[3], oh = y.Shape[2], ow = y.Shape[3];
        if (oh == 1 && ow == 1) return g.Node($"Global{kind}Pool", hint, [x.Name]);
        if (ih % oh != 0 || iw % ow != 0)
            throw Unsupported(path, m, $"output {oh}×{ow} from input {ih}×{iw} has windows of different sizes, which no ONNX pooling op computes (exported: 1×1, or sides that divide the input's)");
        return g.Node(kind == "Max" ? "MaxPool" : "AveragePool", hint, [x.Name], Ints("kernel_shape", ih / oh, iw / ow), Ints("strides", ih / oh, iw / ow));
    }

    // Opset 17 has no Gelu (it came in opset 20): exact ½·x·(1 + erf(x/√2)), or ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    private static string Gelu(OnnxGraphBuilder g, GeluApproximation approximate, string x, string hint)
    {
        string inner;
        if (approximate == GeluApproximation.None)
        {
            inner = g.Node("Erf", hint + "_erf", [g.Node("Mul", hint + "_scaled", [x, g.Scalar(hint + "_inv_sqrt2", 1 / Math.Sqrt(2))])]);
        }
        else
        {
            string cube = g.Node("Mul", hint + "_cube", [x, g.Node("Mul", hint + "_square", [x, x])]);
            string poly = g.Node("Add", hint + "_poly", [x, g.Node("Mul", hint + "_cubic", [cube, g.Scalar(hint + "_c", 0.044715)])]);
            inner = g.Node("Tanh", hint + "_tanh", [g.Node("Mul", hint + "_arg", [poly, g.Scalar(hint + "_sqrt_2_over_pi", Math.Sqrt(2 / Math.PI))])]);
        }
        string onePlus = g.Node("Add", hint + "_one_plus", [inner, g.Scalar(hint + "_one", 1)]);
        string half = g.Node("Mul", hint + "_half_x", [x, g.Scalar(hint + "_half", 0.5)]);
        return g.Node("Mul", hint, [half, onePlus]);
    }
}
