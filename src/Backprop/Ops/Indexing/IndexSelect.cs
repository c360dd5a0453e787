using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Indexing;
using Backprop.Tensors;

namespace Backprop.Ops.Indexing;

/// <summary>y = x with dim <c>dim</c> restricted to the rows listed in a 1-D index (repeats allowed).</summary>
internal sealed class IndexSelectNode : Node
{
    private readonly Shape _inputShape;
    private readonly int _dim;
    private readonly SavedTensor _index;

    private IndexSelectNode(Tensor x, int dim, Tensor index) : base(x)
    {
        _inputShape = x.Shape;
        _dim = dim;
        _index = Save(index);
    }

    public static Tensor Forward(Tensor x, int dim, Tensor index, string op = "IndexSelect")
    {
        IndexCheck.Int64(index, op);
        if (index.Rank > 1)
            throw new ArgumentException($"{op}: index must be 0-D or 1-D, got shape {index.Shape}");
        if (x.Rank == 0)
            throw new ArgumentException($"{op}: input must have at least one dimension, got a 0-dimensional tensor; Unsqueeze it first");
        int d = x.Shape.NormalizeDim(dim, op);
        ReadOnlySpan<long> idx = IndexCheck.InRange(index, x.Shape[d], dim, x.Shape, op);

        int[] dims = x.Shape.ToArray();
        dims[d] = idx.Length;
        var y = new Tensor(new Shape(dims), x.DType);
        (int outer, int size, int inner) = Blocks(x.Shape, d);
        Tensor packed;
        using (GradMode.Disable()) packed = x.Contiguous();
        DTypeSwitch.Element(x.DType, new IndexSelectKernel(packed, outer, size, inner, idx, y));
        if (GradMode.Records(x)) y.SetGradFn(new IndexSelectNode(x, d, index));
        return y;
    }

    private readonly ref struct IndexSelectKernel(Tensor x, int outer, int size, int inner, ReadOnlySpan<long> idx, Tensor y) : IElementAction
    {
        private readonly ReadOnlySpan<long> _idx = idx;

        public void Run<T>() where T : unmanaged
            => IndexKernels.IndexSelect(x.ReadOnlyElements<T>(), outer, size, inner, _idx, y.Elements<T>());
    }

    /// <summary>Views a shape as [outer, size, inner] around dim d.</summary>
    public static (int Outer, int Size, int Inner) Blocks(Shape shape, int d)
    {
        int outer = 1, inner = 1;
        for (int k = 0; k < d; k++) outer *= shape[k];
        for (int k = d + 1; k < shape.Rank; k++) inner *= shape[k];
        return (outer, shape[d], inner);
    }

    // dx[.., i, ..] = Σ_{j: index[j] = i} dy[.., j, ..]: index-add dy into zeros.
    protected internal override Tensor?[] Backward(Tensor dy)
        => [IndexAddNode.Forward(new Tensor(_inputShape, dy.DType), _dim, _index.Value, dy)];
}

/// <summary>Out-of-place index-add: y = copy of self, then y[.., index[j], ..] += source[.., j, ..].</summary>
internal sealed class IndexAddNode : Node
{
    private readonly int _dim;
    private readonly SavedTensor? _index;

    private IndexAddNode(Tensor self, Tensor source, int dim, Tensor index) : base(self, source)
    {
        _dim = dim;
        if (NeedsInputGrad(1)) _index = Save(index);
    }

    public static Tensor Forward(Tensor self, int dim, Tensor index, Tensor source)
    {
        const string op = "IndexAdd";
        IndexCheck.Int64(index, op);
        Tensor.CheckSameDType(self, source, op);
        if (index.Rank > 1)
            throw new ArgumentException($"{op}: index must be 0-D or 1-D, got shape {index.Shape}");
        if (self.Rank == 0)
            throw new ArgumentException($"{op}: self must have at least one dimension, got a 0-dimensional tensor; Unsqueeze it first");
        int d = self.Shape.NormalizeDim(dim, op);
        bool ok = source.Rank == self.Rank;
        for (int k = 0; ok && k < self.Rank; k++)
            ok = source.Shape[k] == (k == d ? index.Numel : self.Shape[k]);
        if (!ok)
            throw new ArgumentException($"{op}: source shape {source.Shape} must equal self shape {self.Shape} except in dimension {dim}, where it must be the index length {index.Numel}");
        ReadOnlySpan<long> idx = IndexCheck.InRange(index, self.Shape[d], dim, self.Shape, op);

        Tensor y, packed;
        using (GradMode.Disable())
        {
            y = self.Clone();
            packed = source.Contiguous();
        }
        (int outer, int size, int inner) = IndexSelectNode.Blocks(self.Shape, d);
        DTypeSwitch.Number(self.DType, new IndexAddKernel(y, outer, size, inner, idx, packed));
        if (GradMode.Records(self, source)) y.SetGradFn(new IndexAddNode(self, source, d, index));
        return y;
    }

    private readonly ref struct IndexAddKernel(Tensor y, int outer, int size, int inner, ReadOnlySpan<long> idx, Tensor source) : INumberAction
    {
        private readonly ReadOnlySpan<long> _idx = idx;

        public void Run<T>() where T : unmanaged, INumber<T>
            => IndexKernels.IndexAdd(y.Elements<T>(), outer, size, inner, _idx, source.ReadOnlyElements<T>());
    }

    // dy/dself = identity; dy/dsource[.., j, ..] = dy[.., index[j], ..].
    protected internal override Tensor?[] Backward(Tensor dy) =>
    [
        NeedsInputGrad(0) ? dy : null,
        _index is null ? null : IndexSelectNode.Forward(dy, _dim, _index.Value),
    ];
}
