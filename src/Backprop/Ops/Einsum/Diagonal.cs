using Backprop.Autograd;
using Backprop.Ops.View;
using Backprop.Tensors;

namespace Backprop.Ops.Einsum;

/// <summary>
/// The generalized diagonal as a view: output dim j walks the dims of group j of the input with one shared index
/// (stride = the sum of their strides), as einsum's repeated subscripts ("ii->i", "iji->ij"). The groups list
/// every input dim once; dims in a group have equal sizes (the caller checks).
/// </summary>
internal sealed class DiagonalNode(Tensor x, int[][] groups) : Node(x)
{
    private readonly Shape _inputShape = x.Shape;

    public static Tensor Forward(Tensor x, int[][] groups)
    {
        var shape = new int[groups.Length];
        int[] strides = GroupStrides(x.Strides, groups);
        for (int j = 0; j < groups.Length; j++) shape[j] = x.Shape[groups[j][0]];
        Tensor y = x.Strided(new Shape(shape), strides, x.Offset);
        if (GradMode.Records(x)) y.SetGradFn(new DiagonalNode(x, groups));
        return y;
    }

    /// <summary>Stride of each output dim: the sum of its group's strides.</summary>
    public static int[] GroupStrides(ReadOnlySpan<int> strides, int[][] groups)
    {
        var result = new int[groups.Length];
        for (int j = 0; j < groups.Length; j++)
            foreach (int d in groups[j]) result[j] += strides[d];
        return result;
    }

    // Each output element is one input element: dx is zero except on the diagonal, which receives dy.
    protected internal override Tensor?[] Backward(Tensor dy) => [DiagonalEmbedNode.Forward(dy, _inputShape, groups)];
}

/// <summary>The adjoint of <see cref="DiagonalNode"/>: a zero tensor of the input shape whose diagonal holds g.</summary>
internal sealed class DiagonalEmbedNode(Tensor g, int[][] groups) : Node(g)
{
    public static Tensor Forward(Tensor g, Shape shape, int[][] groups)
    {
        var y = new Tensor(shape, g.DType);
        Tensor packed;
        using (GradMode.Disable()) packed = g.Contiguous();
        StridedCopy.Scatter(packed, y, 0, DiagonalNode.GroupStrides(y.Strides, groups), g.Shape.Dims);
        if (GradMode.Records(g)) y.SetGradFn(new DiagonalEmbedNode(g, groups));
        return y;
    }

    // Reading the diagonal back out is the adjoint of writing it.
    protected internal override Tensor?[] Backward(Tensor dy) => [DiagonalNode.Forward(dy, groups)];
}
