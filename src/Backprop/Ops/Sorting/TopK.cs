using Backprop.Autograd;
using Backprop.Ops.Indexing;
using Backprop.Ops.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Sorting;

/// <summary>The k largest (or smallest) values along one dim in order, with their int64 positions (torch.topk).</summary>
internal sealed class TopKNode : Node
{
    private readonly SavedTensor _indices;
    private readonly Shape _inputShape;
    private readonly int _dim;

    private TopKNode(Tensor x, Tensor indices, int dim) : base(x)
    {
        _inputShape = x.Shape;
        _indices = Save(indices);
        _dim = dim;
    }

    public override string Name => "TopkBackward";

    public static (Tensor Values, Tensor Indices) Forward(Tensor x, int k, int dim, bool largest)
    {
        const string op = "TopK";
        NumericDType.Require(x, op);
        int d = x.Shape.NormalizeDim(dim, op);
        ReduceLayout.AroundDim(x.Shape, d, out int outer, out int n, out int inner);
        if (k < 0 || k > n)
            throw new ArgumentOutOfRangeException(nameof(k), $"{op}: k = {k} is out of range for dimension {dim} of size {n} (shape {x.Shape}); k must lie in [0, {n}]");
        Shape shape = x.Shape;
        if (x.Rank > 0)
        {
            int[] dims = x.Shape.ToArray();
            dims[d] = k;
            shape = new Shape(dims);
        }
        Tensor c = x.Detach().Contiguous();
        var values = Tensor.Uninitialized(shape, x.DType);     // the kernel writes every element
        var indices = Tensor.Uninitialized(shape, DType.Int64);
        // A 0-d tensor is its own top-1 and, as in PyTorch, its own top-0.
        DTypeSwitch.Element(x.DType, new SelectKernel(c, outer, n, inner, x.Rank == 0 ? 1 : k, largest, values, indices));
        if (GradMode.Records(x)) values.SetGradFn(new TopKNode(x, indices, d));
        return (values, indices);
    }

    // As Sort's: scatter dy back to the selected positions; the others get 0.
    protected internal override Tensor?[] Backward(Tensor dy)
        => [ScatterAddNode.Forward(Tensor.Zeros(_inputShape, dy.DType), _dim, _indices.Value, dy)];
}
