using System.Runtime.InteropServices;
using Backprop.Autograd;
using Backprop.Kernels.Indexing;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Indexing;

/// <summary>y = the elements of x where a bool mask is true (both broadcast), as a 1-D tensor in row-major order (torch.masked_select).</summary>
internal sealed class MaskedSelectNode : Node
{
    private readonly Shape _inputShape;
    private readonly SavedTensor _mask; // packed to the broadcast shape (the caller's own mask when it already was)

    private MaskedSelectNode(Tensor x, Tensor mask) : base(x)
    {
        _inputShape = x.Shape;
        _mask = Save(mask);
    }

    public static Tensor Forward(Tensor x, Tensor mask)
    {
        const string op = "MaskedSelect";
        WhereNode.CheckCondition(mask, op, "mask");
        if (!Shape.TryBroadcast(x.Shape, mask.Shape, out Shape shape))
            throw new ArgumentException($"{op}: mask shape {mask.Shape} cannot broadcast with input shape {x.Shape}");
        Tensor m = Broadcast(mask.Detach(), shape);
        Tensor y = Compute(Broadcast(x.Detach(), shape), Logical.Bytes(m));
        if (GradMode.Records(x)) y.SetGradFn(new MaskedSelectNode(x, m));
        return y;
    }

    /// <summary>The tensor expanded to <paramref name="shape"/> and packed (contiguous).</summary>
    private static Tensor Broadcast(Tensor t, Shape shape)
    {
        if (t.Shape == shape) return t.Contiguous();
        return t.Expand(shape.ToArray()).Contiguous();
    }

    /// <summary>The elements of the packed <paramref name="x"/> where <paramref name="mask"/> is 1.</summary>
    internal static Tensor Compute(Tensor x, ReadOnlySpan<byte> mask)
    {
        var y = Tensor.Uninitialized(new Shape(MaskKernels.CountSet(mask)), x.DType);
        DTypeSwitch.Element(x.DType, new SelectKernel(x, mask, y));
        return y;
    }

    private readonly ref struct SelectKernel(Tensor x, ReadOnlySpan<byte> mask, Tensor y) : IElementAction
    {
        private readonly ReadOnlySpan<byte> _mask = mask;
        public void Run<T>() where T : unmanaged => MaskKernels.Select(x.ReadOnlyElements<T>(), _mask, y.Elements<T>());
    }

    // dx = dy put back at the selected positions, 0 elsewhere; broadcast dims are summed back.
    protected internal override Tensor?[] Backward(Tensor dy) => [MaskedScatterNode.Forward(dy, _mask.Value).SumToShape(_inputShape)];
}

/// <summary>y = zeros of the mask's shape with the elements of the 1-D src placed, in order, where the mask is true: the inverse of <see cref="MaskedSelectNode"/>.</summary>
internal sealed class MaskedScatterNode : Node
{
    private readonly SavedTensor _mask;

    private MaskedScatterNode(Tensor src, Tensor mask) : base(src) => _mask = Save(mask);

    /// <param name="src">[number of trues in mask].</param>
    /// <param name="mask">A contiguous bool tensor.</param>
    public static Tensor Forward(Tensor src, Tensor mask)
    {
        var y = Tensor.Uninitialized(mask.Shape, src.DType); // Scatter writes every element
        Tensor c = src.IsContiguous ? src : src.Detach().Contiguous();
        DTypeSwitch.Element(src.DType, new ScatterKernel(c, MemoryMarshal.Cast<bool, byte>(mask.ReadOnlyElements<bool>()), y));
        if (GradMode.Records(src)) y.SetGradFn(new MaskedScatterNode(src, mask));
        return y;
    }

    private readonly ref struct ScatterKernel(Tensor src, ReadOnlySpan<byte> mask, Tensor y) : IElementAction
    {
        private readonly ReadOnlySpan<byte> _mask = mask;
        public void Run<T>() where T : unmanaged => MaskKernels.Scatter(src.ReadOnlyElements<T>(), _mask, y.Elements<T>());
    }

    // dsrc = dy at the positions src was placed: a masked select.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor mask = _mask.Value;
        if (GradMode.Records(dy)) return [MaskedSelectNode.Forward(dy, mask)]; // the recorded form, for higher derivatives
        Tensor packed = dy.IsContiguous ? dy : dy.Detach().Contiguous();
        return [MaskedSelectNode.Compute(packed, MemoryMarshal.Cast<bool, byte>(mask.ReadOnlyElements<bool>()))];
    }
}
