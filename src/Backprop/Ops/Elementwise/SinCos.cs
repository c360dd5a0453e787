using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = sin x (radians).</summary>
internal sealed class SinNode : Node
{
    private readonly SavedTensor _x;

    private SinNode(Tensor x) : base(x) => _x = Save(x);

    public static Tensor Forward(Tensor x)
    {
        x = FloatInput.Of(x);
        Tensor y = ElementwiseDispatch.UnaryFloat<SinKernel<float>, SinKernel<double>>(x, "Sin");
        if (GradMode.Records(x)) y.SetGradFn(new SinNode(x));
        return y;
    }

    // d/dx sin x = cos x; written with tensor ops, so the backward is differentiable again.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy * _x.Value.Cos()];
}

/// <summary>y = cos x (radians).</summary>
internal sealed class CosNode : Node
{
    private readonly SavedTensor _x;

    private CosNode(Tensor x) : base(x) => _x = Save(x);

    public static Tensor Forward(Tensor x)
    {
        x = FloatInput.Of(x);
        Tensor y = ElementwiseDispatch.UnaryFloat<CosKernel<float>, CosKernel<double>>(x, "Cos");
        if (GradMode.Records(x)) y.SetGradFn(new CosNode(x));
        return y;
    }

    // d/dx cos x = −sin x.
    protected internal override Tensor?[] Backward(Tensor dy) => [-(dy * _x.Value.Sin())];
}
