using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>
/// Running sum along one dim, y[.., r, ..] = Σ_{s ≤ r} x[.., s, ..] (torch.cumsum); reversed, Σ_{s ≥ r}
/// (the gradient of the running sum). Same shape and dtype as the input.
/// </summary>
internal sealed class CumSumNode(Tensor x, int dim, bool reverse) : Node(x)
{
    public override string Name => "CumsumBackward";

    public static Tensor Forward(Tensor x, int dim, bool reverse = false)
    {
        const string op = "CumSum";
        if (x.DType == DType.Bool) x = x.To(DType.Int64); // a running count of trues, in int64 as PyTorch
        NumericDType.Require(x, op);
        int d = x.Shape.NormalizeDim(dim, op);
        ReduceLayout.AroundDim(x.Shape, d, out int outer, out int n, out int inner);
        Tensor c = ElementwiseMap.Packed(x);
        var y = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
        DTypeSwitch.Number(x.DType, new Kernel(c, y, outer, n, inner, reverse));
        if (GradMode.Records(x)) y.SetGradFn(new CumSumNode(x, d, reverse));
        return y;
    }

    // dy_r/dx_s = 1 for s ≤ r, so dx_s = Σ_{r ≥ s} dy_r: the reversed running sum of dy (and the other way round).
    protected internal override Tensor?[] Backward(Tensor dy) => [Forward(dy, dim, !reverse)];

    private readonly struct Kernel(Tensor x, Tensor y, int outer, int n, int inner, bool reverse) : INumberAction
    {
        public void Run<T>() where T : unmanaged, INumber<T>
            => CumSumKernel.Run(x.ReadOnlyElements<T>(), outer, n, inner, y.Elements<T>(), reverse);
    }
}
