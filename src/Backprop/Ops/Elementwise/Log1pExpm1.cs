using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = ln(1 + x), accurate near 0 (torch.log1p).</summary>
internal sealed class Log1pNode : Node
{
    private readonly SavedTensor _x;

    private Log1pNode(Tensor x) : base(x) => _x = Save(x);

    public static Tensor Forward(Tensor x)
    {
        x = FloatInput.Of(x);
        Tensor y = ElementwiseMap.Unary(x, default(Log1pOp<float>), default(Log1pOp<double>), "Log1p");
        if (GradMode.Records(x)) y.SetGradFn(new Log1pNode(x));
        return y;
    }

    // d/dx ln(1 + x) = 1/(1 + x); written with tensor ops, so the backward is differentiable again.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy / (_x.Value + 1.0)];
}

/// <summary>y = e^x − 1, accurate near 0 (torch.expm1).</summary>
internal sealed class Expm1Node : Node
{
    private readonly SavedTensor _y;

    private Expm1Node(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        x = FloatInput.Of(x);
        Tensor y = ElementwiseMap.Unary(x, default(Expm1Op<float>), default(Expm1Op<double>), "Expm1");
        if (GradMode.Records(x)) y.SetGradFn(new Expm1Node(x, y));
        return y;
    }

    // d/dx (e^x − 1) = e^x = y + 1 (the saved output, as PyTorch).
    protected internal override Tensor?[] Backward(Tensor dy) => [dy * (_y.Value + 1.0)];
}
