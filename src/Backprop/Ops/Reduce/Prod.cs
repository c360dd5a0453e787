using System.Numerics;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Ops.View;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>Product over all elements (0-d result) or along one dim (torch.prod); exact gradient with zeros in the input.</summary>
internal sealed class ProdNode : Node
{
    private readonly SavedTensor _x;
    private readonly bool[] _reduced;
    private readonly bool _keepDim, _all;
    private readonly int _dim;

    private ProdNode(Tensor x, bool[] reduced, int dim, bool keepDim, bool all) : base(x)
    {
        _x = Save(x);
        _reduced = reduced;
        _dim = dim;
        _keepDim = keepDim;
        _all = all;
    }

    /// <summary>Π over all elements when <paramref name="dim"/> is null, else along it.</summary>
    public static Tensor Forward(Tensor x, int? dim, bool keepDim)
    {
        const string op = "Prod";
        if (x.DType == DType.Bool) x = x.To(DType.Int64); // int64, as PyTorch
        NumericDType.Require(x, op);
        int d = dim is { } k ? x.Shape.NormalizeDim(k, op) : 0;
        bool[] reduced = dim is null ? ReduceDims.Mask(x.Shape, [], op) : ReduceLayout.SingleDim(x.Shape, d);
        Tensor c = ReduceLayout.Prepare(x, reduced, out int outer, out int n, out int inner);
        var y = Tensor.Uninitialized(ReduceDims.KeptShape(x.Shape, reduced), x.DType); // every element is written
        DTypeSwitch.Number(x.DType, new Kernel(c, y, outer, n, inner));
        y = ReduceLayout.Finish(y, x.Shape, reduced, dim is not null && keepDim);
        if (GradMode.Records(x)) y.SetGradFn(new ProdNode(x, reduced, d, keepDim, dim is null));
        return y;
    }

    // dy/dx_r = Π_{s ≠ r} x_s: the product of the elements before r times that of the elements after it.
    // Never y/x_r, which is 0/0 at a zero (PyTorch switches to the same two-sided products when it finds zeros).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        bool keepDim = !_all && _keepDim;
        Tensor g = ReduceLayout.Unsqueeze(dy, x.Shape, _reduced, keepDim);   // kept shape, broadcasts against x
        if (!GradMode.Records(dy, x))
        {
            Tensor c = ReduceLayout.Prepare(x, _reduced, out int outer, out int n, out int inner);
            var dx = Tensor.Uninitialized(x.Shape, dy.DType);
            DTypeSwitch.Float(dy.DType, new BackwardKernel(c, g.Contiguous(), dx, outer, n, inner));
            return [dx];
        }
        if (x.Rank == 0) return [g];
        Tensor line = _all ? x.Reshape(-1) : x;                              // the reduced elements along one dim
        int dim = _all ? 0 : _dim;
        Tensor others = ExclusiveProduct(line, dim) * FlipNode.Forward(ExclusiveProduct(FlipNode.Forward(line, [dim]), dim), [dim]);
        return [g * others.Reshape(x.Shape.ToArray())];
    }

    /// <summary>Π_{s &lt; r} x_s along <paramref name="dim"/> (1 at r = 0), with differentiable ops.</summary>
    private static Tensor ExclusiveProduct(Tensor x, int dim)
    {
        int n = x.Shape[dim];
        if (n == 0) return x;
        int[] one = x.Shape.ToArray();
        one[dim] = 1;
        return CumProdNode.Forward(Tensor.Cat([Tensor.Ones(one, x.DType), x.Narrow(dim, 0, n - 1)], dim), dim);
    }

    private readonly struct Kernel(Tensor x, Tensor y, int outer, int n, int inner) : INumberAction
    {
        public void Run<T>() where T : unmanaged, INumber<T>
            => ProdKernels.Prod(x.ReadOnlyElements<T>(), outer, n, inner, y.Elements<T>());
    }

    private readonly struct BackwardKernel(Tensor x, Tensor g, Tensor dx, int outer, int n, int inner) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ProdKernels.ProdBackward(x.ReadOnlyElements<T>(), g.ReadOnlyElements<T>(), outer, n, inner, dx.Elements<T>());
    }
}
