using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.Indexing;

/// <summary>Embedding lookup: y[..., :] = weight[indices[...], :]; rows at paddingIdx get no gradient.</summary>
internal sealed class EmbeddingNode : Node
{
    private readonly Shape _weightShape;
    private readonly SavedTensor _flat;
    private readonly long? _paddingIdx;

    private EmbeddingNode(Tensor weight, Tensor flat, long? paddingIdx) : base(weight)
    {
        _weightShape = weight.Shape;
        _flat = Save(flat);
        _paddingIdx = paddingIdx;
    }

    public static Tensor Forward(Tensor indices, Tensor weight, long? paddingIdx)
    {
        const string op = "Embedding";
        if (weight.Rank != 2)
            throw new ArgumentException($"{op}: weight must be 2-D [numEmbeddings, embeddingDim], got shape {weight.Shape}");
        IndexCheck.Int64(indices, op);
        int count = weight.Shape[0];
        long? pad = paddingIdx;
        if (pad is long p)
        {
            if (p < -count || p >= count)
                throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"{op}: paddingIdx {p} is out of range for {count} embeddings (weight shape {weight.Shape})");
            pad = p < 0 ? p + count : p;
        }

        int[] outDims = new int[indices.Rank + 1];
        indices.Shape.Dims.CopyTo(outDims);
        outDims[^1] = weight.Shape[1];
        Tensor flat, y;
        using (GradMode.Disable())
        {
            flat = indices.Reshape(-1).Contiguous(); // [...] -> [N]
            y = IndexSelectNode.Forward(weight, 0, flat, op).Reshape(outDims); // [N, D] -> [..., D]
        }
        if (GradMode.Records(weight)) y.SetGradFn(new EmbeddingNode(weight, flat, pad));
        return y;
    }

    // dweight[i, :] = Σ_{n: indices[n] = i, i ≠ paddingIdx} dy[n, :]: index-add the (masked) rows of dy.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor flat = _flat.Value;
        Tensor g = dy.Reshape(flat.Numel, _weightShape[1]); // [..., D] -> [N, D]
        if (_paddingIdx is long pad)
        {
            ReadOnlySpan<long> idx = flat.ReadOnlyElements<long>();
            var keep = new long[idx.Length]; // [N, 1]: 0 on rows that look up the padding entry
            for (int n = 0; n < idx.Length; n++) keep[n] = idx[n] == pad ? 0 : 1;
            g = g * Tensor.WrapArray(keep, new Shape(idx.Length, 1)).To(dy.DType);
        }
        return [IndexAddNode.Forward(new Tensor(_weightShape, dy.DType), 0, flat, g)];
    }
}
