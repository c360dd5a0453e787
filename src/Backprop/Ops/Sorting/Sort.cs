using Backprop.Autograd;
using Backprop.Kernels.Sorting;
using Backprop.Ops.Indexing;
using Backprop.Ops.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Sorting;

/// <summary>
/// Sorted values along one dim and their int64 positions (torch.sort). Always stable: equal values keep their
/// order, NaN sorts above +∞ (last ascending, first descending), −0 and +0 are equal.
/// </summary>
internal sealed class SortNode : Node
{
    private readonly SavedTensor _indices;
    private readonly Shape _inputShape;
    private readonly int _dim;

    private SortNode(Tensor x, Tensor indices, int dim) : base(x)
    {
        _inputShape = x.Shape;
        _indices = Save(indices);
        _dim = dim;
    }

    public static (Tensor Values, Tensor Indices) Forward(Tensor x, int dim, bool descending)
    {
        const string op = "Sort"; // bool too (false < true), as PyTorch
        int d = x.Shape.NormalizeDim(dim, op);
        ReduceLayout.AroundDim(x.Shape, d, out int outer, out int n, out int inner);
        Tensor c = x.Detach().Contiguous();
        var values = Tensor.Uninitialized(x.Shape, x.DType);   // the kernel writes every element
        var indices = Tensor.Uninitialized(x.Shape, DType.Int64);
        DTypeSwitch.Element(x.DType, new SelectKernel(c, outer, n, inner, n, descending, values, indices));
        if (GradMode.Records(x)) values.SetGradFn(new SortNode(x, indices, d));
        return (values, indices);
    }

    // values[.., j, ..] = x[.., indices[.., j, ..], ..]: a gather, whose gradient scatters dy back to the
    // positions the values came from (a differentiable scatter-add into zeros).
    protected internal override Tensor?[] Backward(Tensor dy)
        => [ScatterAddNode.Forward(Tensor.Zeros(_inputShape, dy.DType), _dim, _indices.Value, dy)];
}

/// <summary>Runs <see cref="SortKernel"/> for the tensor's element type.</summary>
internal readonly struct SelectKernel(Tensor x, int outer, int n, int inner, int k, bool descending, Tensor values, Tensor indices) : IElementAction
{
    public void Run<T>() where T : unmanaged
    {
        if (k == n) SortKernel.Sort(x.ReadOnlyElements<T>(), outer, n, inner, descending, values.Elements<T>(), indices.Elements<long>());
        else SortKernel.TopK(x.ReadOnlyElements<T>(), outer, n, inner, k, descending, values.Elements<T>(), indices.Elements<long>());
    }
}
