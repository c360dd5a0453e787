using System.Numerics;
using System.Numerics.Tensors;
using Backprop.Kernels;

namespace Backprop.Ops;

/// <summary>Max or min over all elements (0-d result); the gradient is shared equally among tied elements.</summary>
internal sealed class ExtremumAllBackward : Node
{
    private readonly SavedTensor _x, _y;
    private readonly bool _min;

    private ExtremumAllBackward(Tensor x, Tensor y, bool min) : base(x)
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
        switch (x.DType)
        {
            case DType.Float32: y.Elements<float>()[0] = Extreme(c.ReadOnlyElements<float>(), min); break;
            case DType.Float64: y.Elements<double>()[0] = Extreme(c.ReadOnlyElements<double>(), min); break;
            default: y.Elements<long>()[0] = Extreme(c.ReadOnlyElements<long>(), min); break;
        }
        if (GradMode.Records(x)) y.SetGradFn(new ExtremumAllBackward(x, y, min));
        return y;
    }

    private static T Extreme<T>(ReadOnlySpan<T> x, bool min) where T : unmanaged, INumber<T>
        => min ? TensorPrimitives.Min(x) : TensorPrimitives.Max(x);

    // d max/dx_i = 1/k for each of the k elements equal to the max, 0 elsewhere (PyTorch's evenly
    // shared subgradient). The mask is a constant, so dx = mask · dy stays differentiable in dy.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value.Detach().Contiguous();
        var mask = new Tensor(x.Shape, x.DType);
        if (x.DType == DType.Float32)
            ArgReduceKernel.TieMask(x.ReadOnlyElements<float>(), _y.Value.ReadOnlyElements<float>()[0], mask.Elements<float>());
        else
            ArgReduceKernel.TieMask(x.ReadOnlyElements<double>(), _y.Value.ReadOnlyElements<double>()[0], mask.Elements<double>());
        return [mask * dy];
    }
}

/// <summary>Max or min along one dim with the index of the first extreme element; the gradient goes to that index.</summary>
internal sealed class ExtremumDimBackward : Node
{
    private readonly SavedTensor _indices;
    private readonly Shape _inputShape;
    private readonly int _dim;
    private readonly bool _keepDim, _min;

    private ExtremumDimBackward(Tensor x, Tensor indices, int dim, bool keepDim, bool min) : base(x)
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
        Span<long> idx = indices.Elements<long>();
        switch (x.DType)
        {
            case DType.Float32: ArgReduceKernel.Run(c.ReadOnlyElements<float>(), outer, n, inner, values.Elements<float>(), idx, min); break;
            case DType.Float64: ArgReduceKernel.Run(c.ReadOnlyElements<double>(), outer, n, inner, values.Elements<double>(), idx, min); break;
            default: ArgReduceKernel.Run(c.ReadOnlyElements<long>(), outer, n, inner, values.Elements<long>(), idx, min); break;
        }
        indices = ReduceLayout.Finish(indices, x.Shape, reduced, keepDim);
        if (!wantValues) return (null, indices);
        values = ReduceLayout.Finish(values, x.Shape, reduced, keepDim);
        if (GradMode.Records(x)) values.SetGradFn(new ExtremumDimBackward(x, indices, d, keepDim, min));
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
        if (dy.DType == DType.Float32) ArgReduceKernel.OneHot(indices.ReadOnlyElements<long>(), outer, n, inner, mask.Elements<float>());
        else ArgReduceKernel.OneHot(indices.ReadOnlyElements<long>(), outer, n, inner, mask.Elements<double>());
        return [mask * ReduceLayout.Unsqueeze(dy, _inputShape, reduced, _keepDim)];
    }
}
