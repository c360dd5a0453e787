using Backprop.Tensors;

namespace Backprop.IO.Onnx.Import;

// Element picking and rearranging: GatherElements, TopK, Hardmax, Trilu, DepthToSpace and SpaceToDepth.
internal static partial class OnnxOps
{
    private static void AddIndexing(Dictionary<string, OnnxOp> t)
    {
        t["GatherElements"] = (n, x, _) =>
        {
            Tensor data = In(n, x, 0), indices = In(n, x, 1);
            int axis = Axis(n, n.Int("axis", 0), data.Rank);
            if (indices.DType != DType.Int64) throw new ArgumentException($"indices must be integers, got {indices.DType.Name()}");
            // Negative indices count from the end of the axis.
            Tensor index = Tensor.Where(indices.Lt(0.0), indices + (long)data.Shape[axis], indices);
            return One(data.Gather(axis, index));
        };
        t["TopK"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            long[] k = n.Opset < 10 ? [n.Int("k", 0)] : Longs(n, In(n, x, 1), "K");
            if (k.Length != 1) throw new ArgumentException($"K must hold one value, got {k.Length}");
            int axis = Axis(n, n.Int("axis", -1), v.Rank);
            (Tensor values, Tensor indices) = v.TopK(Checked(k[0], "K"), axis, n.Int("largest", 1) != 0, n.Int("sorted", 1) != 0);
            return [values, indices];
        };
        t["Hardmax"] = (n, x, _) => One(SoftmaxLike(n, In(n, x, 0), (v, d) =>
        {
            // One-hot of the first maximum along d.
            Tensor first = v.ArgMax(d, keepDim: true);
            int[] along = [.. Enumerable.Range(0, v.Rank).Select(i => i == d ? v.Shape[d] : 1)];
            return Tensor.Arange(v.Shape[d], DType.Int64).Reshape(along).Eq(first).To(v.DType);
        }));
        t["Trilu"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            long k = Optional(x, 1) is { } kt ? Longs(n, kt, "k")[0] : 0;
            return One(n.Int("upper", 1) != 0 ? v.Triu(k) : v.Tril(k));
        };
        t["DepthToSpace"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            int b = Checked(n.Int("blocksize", 0), "blocksize");
            if (v.Rank != 4 || b == 0 || v.Shape[1] % (b * b) != 0) throw new ArgumentException($"input {v.Shape} with blocksize {b}: channels must divide by blocksize²");
            int N = v.Shape[0], c = v.Shape[1] / (b * b), h = v.Shape[2], w = v.Shape[3];
            Tensor y = n.String("mode", "DCR") == "CRD"
                ? v.Reshape(N, c, b, b, h, w).Permute(0, 1, 4, 2, 5, 3)   // channel, then the block's rows and columns
                : v.Reshape(N, b, b, c, h, w).Permute(0, 3, 4, 1, 5, 2);  // DCR: the block's rows and columns, then channel
            return One(y.Reshape(N, c, h * b, w * b));
        };
        t["SpaceToDepth"] = (n, x, _) =>
        {
            Tensor v = In(n, x, 0);
            int b = Checked(n.Int("blocksize", 0), "blocksize");
            if (v.Rank != 4 || b == 0 || v.Shape[2] % b != 0 || v.Shape[3] % b != 0) throw new ArgumentException($"input {v.Shape} with blocksize {b}: height and width must divide by blocksize");
            int N = v.Shape[0], c = v.Shape[1], h = v.Shape[2] / b, w = v.Shape[3] / b;
            return One(v.Reshape(N, c, h, b, w, b).Permute(0, 3, 5, 1, 2, 4).Reshape(N, c * b * b, h, w));
        };
    }
}
