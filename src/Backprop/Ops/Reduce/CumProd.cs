using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Ops.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>Running product along one dim, y[.., r, ..] = Π_{s ≤ r} x[.., s, ..] (torch.cumprod); exact gradient with zeros.</summary>
internal sealed class CumProdNode : Node
{
    private readonly SavedTensor _x;
    private readonly int _dim;

    private CumProdNode(Tensor x, int dim) : base(x)
    {
        _x = Save(x);
        _dim = dim;
    }

    public override string Name => "CumprodBackward";

    public static Tensor Forward(Tensor x, int dim)
    {
        const string op = "CumProd";
        if (x.DType == DType.Bool) x = x.To(DType.Int64); // int64, as PyTorch
        NumericDType.Require(x, op);
        int d = x.Shape.NormalizeDim(dim, op);
        ReduceLayout.AroundDim(x.Shape, d, out int outer, out int n, out int inner);
        Tensor c = ElementwiseMap.Packed(x);
        var y = Tensor.Uninitialized(x.Shape, x.DType); // the kernel writes every element
        DTypeSwitch.Number(x.DType, new Kernel(c, y, outer, n, inner));
        if (GradMode.Records(x)) y.SetGradFn(new CumProdNode(x, d));
        return y;
    }

    // dy_j/dx_r = Π_{s ≤ j, s ≠ r} x_s for j ≥ r, so dx_r = (Π_{s < r} x_s) · Σ_{j ≥ r} dy_j Π_{r < s ≤ j} x_s.
    // Without a graph the kernel evaluates that by a recurrence (no division: zeros are exact, as PyTorch's
    // cumprod_backward). With one (createGraph) the same sums are written with differentiable ops.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        if (x.Rank == 0) return [dy];
        if (!GradMode.Records(dy, x))
        {
            ReduceLayout.AroundDim(x.Shape, _dim, out int outer, out int n, out int inner);
            var dx = Tensor.Uninitialized(x.Shape, dy.DType); // the kernel writes every element
            DTypeSwitch.Float(dy.DType, new BackwardKernel(ElementwiseMap.Packed(x), ElementwiseMap.Packed(dy), dx, outer, n, inner));
            return [dx];
        }
        return [Composite(x, dy, _dim)];
    }

    /// <summary>The gradient with differentiable ops: O(n²) per slice, used only when the backward is recorded.</summary>
    private static Tensor Composite(Tensor x, Tensor dy, int dim)
    {
        int last = x.Rank - 1, n = x.Shape[dim];
        if (n == 0) return Tensor.ZerosLike(x);
        Tensor xl = x.Transpose(dim, last), dyl = dy.Transpose(dim, last);            // [..., n]
        int[] one = xl.Shape.ToArray();
        one[last] = 1;
        Tensor before = Forward(Tensor.Cat([Tensor.Ones(one, x.DType), xl.Narrow(last, 0, n - 1)], last), last); // Π_{s<r} x_s
        Tensor after = Tensor.Ones([n, n], x.DType).Triu(1).Gt(0.5);                 // [r, s]: s > r, a comparison so Where takes it as a mask
        Tensor chain = Forward(Tensor.Where(after, xl.Unsqueeze(-2), Tensor.Scalar(1, x.DType)), -1); // [..., r, j] = Π_{r<s≤j} x_s for j ≥ r
        Tensor sums = (chain * Tensor.Ones([n, n], x.DType).Triu() * dyl.Unsqueeze(-2)).Sum(-1);      // Σ_{j≥r} dy_j Π_{r<s≤j} x_s
        return (before * sums).Transpose(dim, last);
    }

    private readonly struct Kernel(Tensor x, Tensor y, int outer, int n, int inner) : INumberAction
    {
        public void Run<T>() where T : unmanaged, INumber<T>
            => ProdKernels.CumProd(x.ReadOnlyElements<T>(), outer, n, inner, y.Elements<T>());
    }

    private readonly struct BackwardKernel(Tensor x, Tensor dy, Tensor dx, int outer, int n, int inner) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ProdKernels.CumProdBackward(x.ReadOnlyElements<T>(), dy.ReadOnlyElements<T>(), outer, n, inner, dx.Elements<T>());
    }
}
