using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = erf(x) or erfc(x) = 1 − erf(x).</summary>
internal sealed class ErfNode : Node
{
    private const double TwoOverSqrtPi = 1.12837916709551257390;
    private readonly SavedTensor _x;
    private readonly bool _complement;

    private ErfNode(Tensor x, bool complement) : base(x)
    {
        _x = Save(x);
        _complement = complement;
    }

    public override string Name => _complement ? "ErfcBackward" : "ErfBackward";

    public static Tensor Erf(Tensor x)
    {
        Tensor y = ElementwiseMap.Unary(x, default(ErfOp), default(ErfOp), "Erf");
        if (GradMode.Records(x)) y.SetGradFn(new ErfNode(x, complement: false));
        return y;
    }

    public static Tensor Erfc(Tensor x)
    {
        Tensor y = ElementwiseMap.Unary(x, default(ErfcOp), default(ErfcOp), "Erfc");
        if (GradMode.Records(x)) y.SetGradFn(new ErfNode(x, complement: true));
        return y;
    }

    // d/dx erf(x) = (2/√π)·e^(−x²); erfc has the opposite sign.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        return [dy * ((x * x).Neg().Exp() * (_complement ? -TwoOverSqrtPi : TwoOverSqrtPi))];
    }
}
