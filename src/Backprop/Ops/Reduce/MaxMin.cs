using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Autograd;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>Max or min over all elements (0-d result); the gradient is shared equally among tied elements.</summary>
internal sealed class ExtremumAllNode : Node
{
    private readonly SavedTensor _x, _y;
    private readonly bool _min;

    private ExtremumAllNode(Tensor x, Tensor y, bool min) : base(x)
    {
        _x = Save(x);
        _y = Save(y);
        _min = min;
    }

    public override string Name => _min ? "MinBackward" : "MaxBackward";

    public static Tensor Forward(Tensor x, bool min)
    {
        string op = min ? "Min" : "Max";
        if (x.Numel == 0)
            throw new ArgumentException($"{op}: cannot reduce an empty tensor of shape {x.Shape} over all elements; pass a dim instead");
        Tensor c = x.Detach().Contiguous();
        var y = new Tensor(Shape.Scalar, x.DType);
        DTypeSwitch.Number(x.DType, new ExtremeKernel(c, y, min));
        if (GradMode.Records(x)) y.SetGradFn(new ExtremumAllNode(x, y, min));
        return y;
    }

    private readonly struct ExtremeKernel(Tensor x, Tensor y, bool min) : INumberAction
    {
        public void Run<T>() where T : unmanaged, INumber<T>
            => y.Elements<T>()[0] = min ? TensorPrimitives.Min(x.ReadOnlyElements<T>()) : TensorPrimitives.Max(x.ReadOnlyElements<T>());
    }

    private readonly struct TieMaskKernel(Tensor x, Tensor y, Tensor mask) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ArgReduceKernel.TieMask(x.ReadOnlyElements<T>(), y.ReadOnlyElements<T>()[0], mask.Elements<T>());
    }

    // d max/dx_i = 1/k for each of the k elements equal to the max, 0 elsewhere (PyTorch's evenly
    // shared subgradient). The mask is a constant, so dx = mask · dy stays differentiable in dy.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value.Detach().Contiguous();
        var mask = new Tensor(x.Shape, x.DType);
        DTypeSwitch.Float(x.DType, new TieMaskKernel(x, _y.Value, mask));
        return [mask * dy];
    }
}

/// <summary>Max or min along one dim with the index of the first extreme element; the gradient goes to that index.</summary>
internal sealed class ExtremumDimNode : Node
{
    private readonly SavedTensor _indices;
    private readonly Shape _inputShape;
    private readonly int _dim;
    private readonly bool _keepDim, _min;

    private ExtremumDimNode(Tensor x, Tensor indices, int dim, bool keepDim, bool min) : base(x)
    {
        _inputShape = x.Shape;
        _indices = Save(indices);
        _dim = dim;
        _keepDim = keepDim;
        _min = min;
    }

    public override string Name => _min ? "MinBackward" : "MaxBackward";

    /// <summary>Values and int64 indices; values is null when only the indices are wanted (ArgMax/ArgMin).</summary>
    public static (Tensor? Values, Tensor Indices) Forward(Tensor x, int dim, bool keepDim, bool min, bool wantValues, string op)
    {
        int d = x.Shape.NormalizeDim(dim, op);
        ReduceLayout.AroundDim(x.Shape, d, out int outer, out int n, out int inner);
        if (n == 0)
            throw new ArgumentException($"{op}: cannot reduce dimension {dim} of size 0 (shape {x.Shape}); the result would be empty of values");
        bool[] reduced = ReduceLayout.SingleDim(x.Shape, d);
        Shape kept = ReduceDims.KeptShape(x.Shape, reduced);
        Tensor c = x.Detach().Contiguous();
        var values = new Tensor(kept, x.DType);
        var indices = new Tensor(kept, DType.Int64);
        DTypeSwitch.Number(x.DType, new ArgReduceKernelCall(c, outer, n, inner, values, indices, min));
        indices = ReduceLayout.Finish(indices, x.Shape, reduced, keepDim);
        if (!wantValues) return (null, indices);
        values = ReduceLayout.Finish(values, x.Shape, reduced, keepDim);
        if (GradMode.Records(x)) values.SetGradFn(new ExtremumDimNode(x, indices, d, keepDim, min));
        return (values, indices);
    }

    // d max_r x[.., r, ..]/dx = 1 at the selected index r*, 0 elsewhere: route dy there through a
    // constant one-hot mask (so the result is differentiable in dy for double backward).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        bool[] reduced = ReduceLayout.SingleDim(_inputShape, _dim);
        Tensor indices = _indices.Value.Contiguous();
        ReduceLayout.AroundDim(_inputShape, _dim, out int outer, out int n, out int inner);
        var mask = new Tensor(_inputShape, dy.DType);
        DTypeSwitch.Float(dy.DType, new OneHotKernel(indices, outer, n, inner, mask));
        return [mask * ReduceLayout.Unsqueeze(dy, _inputShape, reduced, _keepDim)];
    }

    private readonly struct ArgReduceKernelCall(Tensor x, int outer, int n, int inner, Tensor values, Tensor indices, bool min) : INumberAction
    {
        public void Run<T>() where T : unmanaged, INumber<T>
            => ArgReduceKernel.Run(x.ReadOnlyElements<T>(), outer, n, inner, values.Elements<T>(), indices.Elements<long>(), min);
    }

    private readonly struct OneHotKernel(Tensor indices, int outer, int n, int inner, Tensor mask) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ArgReduceKernel.OneHot(indices.ReadOnlyElements<long>(), outer, n, inner, mask.Elements<T>());
    }
}
