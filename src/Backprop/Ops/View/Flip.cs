using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.View;

/// <summary>Reverses the order of elements along the given dims (torch.flip); always a copy, as in PyTorch.</summary>
internal sealed class FlipNode(Tensor x, int[] dims) : Node(x)
{
    public static Tensor Forward(Tensor x, ReadOnlySpan<int> dims)
    {
        const string op = "Flip"; // every dtype, bool too: elements only move
        var flip = new bool[x.Rank];
        var normalized = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            int d = x.Shape.NormalizeDim(dims[i], op);
            if (x.Rank > 0 && flip[d])
                throw new ArgumentException($"{op}: dim {dims[i]} appears multiple times in the list of dims [{string.Join(", ", dims.ToArray())}] (shape {x.Shape})");
            if (x.Rank > 0) flip[d] = true;
            normalized[i] = d;
        }
        // Read the input backwards along the flipped dims: start at their last element, negate their strides.
        int[] strides = (int[])x.StridesArray.Clone();
        int offset = x.Offset;
        if (x.Numel > 0)
            for (int d = 0; d < x.Rank; d++)
                if (flip[d])
                {
                    offset += (x.Shape[d] - 1) * strides[d];
                    strides[d] = -strides[d];
                }
        var y = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
        DTypeSwitch.Element(x.DType, new Kernel(x, offset, strides, y));
        if (GradMode.Records(x)) y.SetGradFn(new FlipNode(x, normalized));
        return y;
    }

    // A permutation of the elements: flipping dy the same way puts each gradient back where its element came from.
    protected internal override Tensor?[] Backward(Tensor dy) => [Forward(dy, dims)];

    private readonly struct Kernel(Tensor x, int offset, int[] strides, Tensor y) : IElementAction
    {
        public void Run<T>() where T : unmanaged
            => FlipRollKernels.Flip(x.Data<T>(), offset, strides, x.Shape.Dims, y.Elements<T>());
    }
}
