using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = σ(x) = 1 / (1 + e⁻ˣ).</summary>
internal sealed class SigmoidNode : Node
{
    private readonly SavedTensor _y;

    private SigmoidNode(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<SigmoidKernel<float>, SigmoidKernel<double>>(x, "Sigmoid");
        if (GradMode.Records(x)) y.SetGradFn(new SigmoidNode(x, y));
        return y;
    }

    // dσ/dx = σ(x)(1 − σ(x)) = y(1 − y).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor y = _y.Value;
        return [dy * y * (1.0 - y)];
    }
}

/// <summary>y = tanh x.</summary>
internal sealed class TanhNode : Node
{
    private readonly SavedTensor _y;

    private TanhNode(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<TanhKernel<float>, TanhKernel<double>>(x, "Tanh");
        if (GradMode.Records(x)) y.SetGradFn(new TanhNode(x, y));
        return y;
    }

    // d/dx tanh x = 1 − tanh² x = 1 − y².
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor y = _y.Value;
        return [dy * (1.0 - y * y)];
    }
}
