using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = eˣ.</summary>
internal sealed class ExpNode : Node
{
    private readonly SavedTensor _y;

    private ExpNode(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<ExpKernel<float>, ExpKernel<double>>(x, "Exp");
        if (GradMode.Records(x)) y.SetGradFn(new ExpNode(x, y));
        return y;
    }

    // d/dx eˣ = eˣ = y: reuse the saved output.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy * _y.Value];
}

/// <summary>y = ln x.</summary>
internal sealed class LogNode : Node
{
    private readonly SavedTensor _x;

    private LogNode(Tensor x) : base(x) => _x = Save(x);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<LogKernel<float>, LogKernel<double>>(x, "Log");
        if (GradMode.Records(x)) y.SetGradFn(new LogNode(x));
        return y;
    }

    // d/dx ln x = 1/x.
    protected internal override Tensor?[] Backward(Tensor dy) => [dy / _x.Value];
}
