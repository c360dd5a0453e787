using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = |x|.</summary>
internal sealed class AbsNode : Node
{
    private readonly SavedTensor _x;

    private AbsNode(Tensor x) : base(x) => _x = Save(x);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.Unary<AbsKernel<float>, AbsKernel<double>, AbsKernel<long>>(ElementwiseMap.Packed(x));
        if (GradMode.Records(x)) y.SetGradFn(new AbsNode(x));
        return y;
    }

    // d/dx |x| = sign(x), 0 at x = 0; the sign is a constant (its own derivative is 0).
    protected internal override Tensor?[] Backward(Tensor dy) => [dy * SignNode.Constant(_x.Value)];
}

/// <summary>y = sign(x) ∈ {−1, 0, 1}.</summary>
internal sealed class SignNode(Tensor x) : Node(x)
{
    public static Tensor Forward(Tensor x)
    {
        Tensor y = Constant(x);
        if (GradMode.Records(x)) y.SetGradFn(new SignNode(x));
        return y;
    }

    /// <summary>sign(x) as a tensor outside the graph.</summary>
    public static Tensor Constant(Tensor x)
        => ElementwiseDispatch.Unary<SignKernel<float>, SignKernel<double>, SignKernel<long>>(ElementwiseMap.Packed(x));

    // Piecewise constant: the derivative is 0 (PyTorch returns zeros, not an error).
    protected internal override Tensor?[] Backward(Tensor dy) => [Tensor.ZerosLike(dy)];
}

/// <summary>y = round(x) (half to even) or floor(x): piecewise constant, zero gradient.</summary>
internal sealed class RoundingNode(Tensor x, string name) : Node(x)
{
    public override string Name => name;

    public static Tensor Round(Tensor x)
        => Record(x, ElementwiseDispatch.UnaryFloat<RoundKernel<float>, RoundKernel<double>>(ElementwiseMap.Packed(x), "Round"), "RoundBackward");

    public static Tensor Floor(Tensor x)
        => Record(x, ElementwiseDispatch.UnaryFloat<FloorKernel<float>, FloorKernel<double>>(ElementwiseMap.Packed(x), "Floor"), "FloorBackward");

    private static Tensor Record(Tensor x, Tensor y, string name)
    {
        if (GradMode.Records(x)) y.SetGradFn(new RoundingNode(x, name));
        return y;
    }

    // Piecewise constant: the derivative is 0 wherever it exists, and PyTorch uses 0 everywhere.
    protected internal override Tensor?[] Backward(Tensor dy) => [Tensor.ZerosLike(dy)];
}
