using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>Shared forward of softmax and log-softmax along one dim.</summary>
internal static class SoftmaxForward
{
    public static Tensor Compute(Tensor x, int dim, bool log, out int normalizedDim)
    {
        string op = log ? "LogSoftmax" : "Softmax";
        x.CheckFloat(op);
        normalizedDim = x.Shape.NormalizeDim(dim, op);
        ReduceLayout.AroundDim(x.Shape, normalizedDim, out int outer, out int n, out int inner);
        Tensor c = x.Detach().Contiguous();
        var y = new Tensor(x.Shape, x.DType);
        // The last dim of a contiguous tensor has inner = 1 and takes the SIMD row path.
        DTypeSwitch.Float(x.DType, new SoftmaxRows(c, outer, n, inner, y, log));
        return y;
    }

    private readonly struct SoftmaxRows(Tensor x, int outer, int n, int inner, Tensor y, bool log) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => SoftmaxKernel.Softmax(x.ReadOnlyElements<T>(), outer, n, inner, y.Elements<T>(), log);
    }
}

/// <summary>y = exp(x − max) / Σ exp(x − max) along one dim.</summary>
internal sealed class SoftmaxNode : Node
{
    private readonly SavedTensor _y;
    private readonly int _dim;

    private SoftmaxNode(Tensor x, Tensor y, int dim) : base(x)
    {
        _y = Save(y);
        _dim = dim;
    }

    public static Tensor Forward(Tensor x, int dim)
    {
        Tensor y = SoftmaxForward.Compute(x, dim, log: false, out int d);
        if (GradMode.Records(x)) y.SetGradFn(new SoftmaxNode(x, y, d));
        return y;
    }

    // dy_i/dx_j = y_i (δ_ij − y_j), so dx = y · (dy − Σ_j dy_j y_j).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor y = _y.Value;
        return [y * (dy - (dy * y).Sum(_dim, keepDim: true))];
    }
}

/// <summary>y = x − max − log Σ exp(x − max) along one dim.</summary>
internal sealed class LogSoftmaxNode : Node
{
    private readonly SavedTensor _y;
    private readonly int _dim;

    private LogSoftmaxNode(Tensor x, Tensor y, int dim) : base(x)
    {
        _y = Save(y);
        _dim = dim;
    }

    public static Tensor Forward(Tensor x, int dim)
    {
        Tensor y = SoftmaxForward.Compute(x, dim, log: true, out int d);
        if (GradMode.Records(x)) y.SetGradFn(new LogSoftmaxNode(x, y, d));
        return y;
    }

    // dy_i/dx_j = δ_ij − softmax_j, so dx = dy − exp(y) · Σ_j dy_j.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor y = _y.Value;
        return [dy - y.Exp() * dy.Sum(_dim, keepDim: true)];
    }
}
