using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = triu(x, k) or tril(x, k) over the last two dims: the triangle kept, the rest zero (any dtype).</summary>
internal sealed class TriangleNode(Tensor x, long diagonal, bool upper) : Node(x)
{
    public override string Name => upper ? "TriuBackward" : "TrilBackward";

    public static Tensor Forward(Tensor x, long diagonal, bool upper)
    {
        string op = upper ? "Triu" : "Tril";
        if (x.Rank < 2)
            throw new ArgumentException($"{op}: expected a tensor of at least 2 dimensions [..., rows, cols], got shape {x.Shape}");
        Tensor xc;
        using (GradMode.Disable()) xc = x.Contiguous();
        int rows = x.Shape[x.Rank - 2], cols = x.Shape[x.Rank - 1];
        int matrices = rows * cols == 0 ? 0 : x.Numel / (rows * cols);
        var y = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
        DTypeSwitch.Element(x.DType, new Kernel(xc, y, matrices, rows, cols, diagonal, upper)); // bool too: causal masks
        if (GradMode.Records(x)) y.SetGradFn(new TriangleNode(x, diagonal, upper));
        return y;
    }

    // The map is a fixed mask: dx = the same triangle of dy.
    protected internal override Tensor?[] Backward(Tensor dy) => [Forward(dy, diagonal, upper)];

    private readonly struct Kernel(Tensor x, Tensor y, int matrices, int rows, int cols, long diagonal, bool upper) : IElementAction
    {
        public void Run<T>() where T : unmanaged
            => TriangleKernel.Apply(x.ReadOnlyElements<T>(), y.Elements<T>(), matrices, rows, cols, diagonal, upper);
    }
}
