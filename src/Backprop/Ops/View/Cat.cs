using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.View;

/// <summary>Concatenation along an existing dim into a new contiguous tensor.</summary>
internal sealed class CatNode : Node
{
    private readonly int _dim;
    private readonly int[] _starts, _lengths;

    private CatNode(Tensor[] inputs, int dim, int[] starts, int[] lengths) : base(inputs)
    {
        _dim = dim;
        _starts = starts;
        _lengths = lengths;
    }

    public static Tensor Forward(IReadOnlyList<Tensor> tensors, int dim)
    {
        if (tensors is null || tensors.Count == 0)
            throw new ArgumentException("Cat: expected a non-empty list of tensors");
        // As PyTorch, 1-D empty tensors ([0]) are skipped so they can seed a concatenation of any rank.
        int reference = -1;
        for (int i = 0; i < tensors.Count; i++)
        {
            if (tensors[i] is null) throw new ArgumentNullException(nameof(tensors), $"Cat: tensor {i} is null");
            if (reference < 0 && !IsLegacyEmpty(tensors[i])) reference = i;
        }
        if (reference < 0) reference = 0;
        Tensor first = tensors[reference];
        if (first.Rank == 0)
            throw new ArgumentException($"Cat: zero-dimensional tensor (at position {reference}) cannot be concatenated; use Stack or Unsqueeze first");
        int d = first.Shape.NormalizeDim(dim, "Cat");

        int total = 0;
        var starts = new int[tensors.Count];
        var lengths = new int[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            Tensor t = tensors[i];
            if (t.DType != first.DType)
                throw new ArgumentException($"Cat: dtype mismatch, tensor {reference} is {first.DType.Name()} (shape {first.Shape}) but tensor {i} is {t.DType.Name()} (shape {t.Shape}); convert with To(DType)");
            starts[i] = total;
            if (i != reference && IsLegacyEmpty(t) && first.Rank != 1) continue;
            if (t.Rank != first.Rank)
                throw new ArgumentException($"Cat: tensors must have the same number of dimensions, but tensor {reference} has shape {first.Shape} and tensor {i} has shape {t.Shape}");
            for (int k = 0; k < t.Rank; k++)
                if (k != d && t.Shape[k] != first.Shape[k])
                    throw new ArgumentException($"Cat: sizes must match except in dimension {dim}, but tensor {reference} has shape {first.Shape} and tensor {i} has shape {t.Shape} (dimension {k}: {first.Shape[k]} vs {t.Shape[k]})");
            lengths[i] = t.Shape[d];
            total += t.Shape[d];
        }

        int[] outDims = first.Shape.ToArray();
        outDims[d] = total;
        var y = new Tensor(new Shape(outDims), first.DType);
        int[] strides = y.StridesArray;
        for (int i = 0; i < tensors.Count; i++)
        {
            if (lengths[i] == 0) continue;
            Tensor t = tensors[i];
            Tensor packed;
            using (GradMode.Disable()) packed = t.Contiguous();
            int offset = starts[i] * strides[d];
            StridedCopy.Scatter(packed, y, offset, strides, t.Shape.Dims);
        }

        if (GradMode.Records(tensors))
        {
            var inputs = new Tensor[tensors.Count];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = tensors[i];
            y.SetGradFn(new CatNode(inputs, d, starts, lengths));
        }
        return y;
    }

    private static bool IsLegacyEmpty(Tensor t) => t.Rank == 1 && t.Shape[0] == 0;

    // Each input's gradient is its own block of dy along the concatenation dim.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        var dx = new Tensor?[Edges.Length];
        for (int i = 0; i < dx.Length; i++)
        {
            if (!NeedsInputGrad(i)) continue;
            Shape inputShape = Edges[i].InputShape!;
            // A skipped legacy-empty input gets an empty gradient of its own shape.
            dx[i] = inputShape.Rank == dy.Rank
                ? SliceNode.Forward(dy, _dim, _starts[i], _lengths[i], 1)
                : new Tensor(inputShape, dy.DType);
        }
        return dx;
    }
}
