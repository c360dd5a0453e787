using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>y = log Σ exp(x) along one dim, computed with the max shifted out.</summary>
internal sealed class LogSumExpNode : Node
{
    private readonly SavedTensor _x, _y;
    private readonly int _dim;
    private readonly bool _keepDim;

    private LogSumExpNode(Tensor x, Tensor y, int dim, bool keepDim) : base(x)
    {
        _x = Save(x);
        _y = Save(y);
        _dim = dim;
        _keepDim = keepDim;
    }

    public static Tensor Forward(Tensor x, int dim, bool keepDim)
    {
        x.CheckFloat("LogSumExp");
        int d = x.Shape.NormalizeDim(dim, "LogSumExp");
        ReduceLayout.AroundDim(x.Shape, d, out int outer, out int n, out int inner);
        bool[] reduced = ReduceLayout.SingleDim(x.Shape, d);
        Tensor c = x.Detach().Contiguous();
        var y = new Tensor(ReduceDims.KeptShape(x.Shape, reduced), x.DType);
        DTypeSwitch.Float(x.DType, new LogSumExpKernel(c, outer, n, inner, y));
        y = ReduceLayout.Finish(y, x.Shape, reduced, keepDim);
        if (GradMode.Records(x)) y.SetGradFn(new LogSumExpNode(x, y, d, keepDim));
        return y;
    }

    private readonly struct LogSumExpKernel(Tensor x, int outer, int n, int inner, Tensor y) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => SoftmaxKernel.LogSumExp(x.ReadOnlyElements<T>(), outer, n, inner, y.Elements<T>());
    }

    // d/dx_i log Σ_j e^{x_j} = e^{x_i} / Σ_j e^{x_j} = exp(x_i − y): the softmax, from the saved output.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        bool[] reduced = ReduceLayout.SingleDim(x.Shape, _dim);
        Tensor y = ReduceLayout.Unsqueeze(_y.Value, x.Shape, reduced, _keepDim);
        Tensor g = ReduceLayout.Unsqueeze(dy, x.Shape, reduced, _keepDim);
        return [g * (x - y).Exp()];
    }
}
