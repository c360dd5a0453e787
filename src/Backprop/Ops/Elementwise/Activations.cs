using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Autograd;
using Backprop.Kernels.Elementwise;
using Backprop.Tensors;

namespace Backprop.Ops.Elementwise;

/// <summary>y = max(x, 0).</summary>
internal sealed class ReluNode : Node
{
    private readonly SavedTensor _y;

    private ReluNode(Tensor x, Tensor y) : base(x) => _y = Save(y);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseDispatch.UnaryFloat<ReluKernel<float>, ReluKernel<double>>(ElementwiseMap.Packed(x), "Relu");
        if (GradMode.Records(x)) y.SetGradFn(new ReluNode(x, y));
        return y;
    }

    // dy/dx = 1 where y > 0, else 0 (0 at x = 0, as PyTorch); the mask is a constant.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor y = _y.Value;
        if (GradMode.Records(dy))
            return [KeepWhereNode.Forward(dy, y.Gt(0))];
        return [ElementwiseMap.Binary(y, dy, default(ReluBackwardOp<float>), default(ReluBackwardOp<double>), "ReluBackward")];
    }

    private readonly struct ReluKernel<T> : IUnaryOp<T> where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public static void Apply(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Max(x, T.Zero, y);
    }
}

/// <summary>y = x &gt; 0 ? x : slope·x.</summary>
internal sealed class LeakyReluNode : Node
{
    private readonly SavedTensor _x;
    private readonly double _slope;

    private LeakyReluNode(Tensor x, double slope) : base(x)
    {
        _x = Save(x);
        _slope = slope;
    }

    public static Tensor Forward(Tensor x, double slope)
    {
        Tensor y = ElementwiseMap.Unary(x, new LeakyReluOp<float>((float)slope), new LeakyReluOp<double>(slope), "LeakyRelu");
        if (GradMode.Records(x)) y.SetGradFn(new LeakyReluNode(x, slope));
        return y;
    }

    // dy/dx = 1 for x > 0, slope for x ≤ 0 (a constant per element).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        var f = new LeakyReluBackwardOp<float>((float)_slope);
        var d = new LeakyReluBackwardOp<double>(_slope);
        Tensor x = _x.Value;
        if (GradMode.Records(dy))
            return [dy * ElementwiseMap.WithScalar(x, 1, f, d, "LeakyReluBackward")];
        return [ElementwiseMap.Binary(x, dy, f, d, "LeakyReluBackward")];
    }
}

/// <summary>y = GELU(x), exact (erf) or tanh-approximated.</summary>
internal sealed class GeluNode : Node
{
    internal const double Rsqrt2 = 0.70710678118654752440, InvSqrt2Pi = 0.39894228040143267794;
    private readonly SavedTensor _x;
    private readonly GeluApproximation _approximate;

    private GeluNode(Tensor x, GeluApproximation approximate) : base(x)
    {
        _x = Save(x);
        _approximate = approximate;
    }

    public static Tensor Forward(Tensor x, GeluApproximation approximate)
    {
        Tensor y = approximate switch
        {
            GeluApproximation.None => ElementwiseMap.Unary(x, default(GeluOp), default(GeluOp), "Gelu"),
            GeluApproximation.Tanh => ElementwiseMap.Unary(x, default(GeluTanhOp<float>), default(GeluTanhOp<double>), "Gelu"),
            _ => throw new ArgumentException($"Gelu: unknown approximation {approximate}; use GeluApproximation.None or GeluApproximation.Tanh"),
        };
        if (GradMode.Records(x)) y.SetGradFn(new GeluNode(x, approximate));
        return y;
    }

    // None: d/dx x·Φ(x) = Φ(x) + x·φ(x), Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^(−x²/2)/√(2π).
    // Tanh: with u = √(2/π)(x + 0.044715x³), d/dx ½x(1 + tanh u) = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        if (!GradMode.Records(dy, x))
        {
            return _approximate == GeluApproximation.None
                ? [ElementwiseMap.Binary(x, dy, default(GeluBackwardOp), default(GeluBackwardOp), "GeluBackward")]
                : [ElementwiseMap.Binary(x, dy, default(GeluTanhBackwardOp<float>), default(GeluTanhBackwardOp<double>), "GeluBackward")];
        }
        if (_approximate == GeluApproximation.None)
        {
            Tensor cdf = (x * -Rsqrt2).Erfc() * 0.5;
            Tensor pdf = (x * x * -0.5).Exp() * InvSqrt2Pi;
            return [dy * (cdf + x * pdf)];
        }
        Tensor x2 = x * x;
        Tensor t = ((x + x2 * x * GeluTanh.Kappa) * GeluTanh.Beta).Tanh();
        Tensor inner = (x2 * (3 * GeluTanh.Kappa) + 1.0) * GeluTanh.Beta;
        return [dy * ((t + 1.0) * 0.5 + x * 0.5 * (1.0 - t * t) * inner)];
    }
}

/// <summary>y = ln(1 + e^(βx))/β, or x where βx &gt; threshold.</summary>
internal sealed class SoftplusNode : Node
{
    private readonly SavedTensor _x;
    private readonly double _beta, _threshold;

    private SoftplusNode(Tensor x, double beta, double threshold) : base(x)
    {
        _x = Save(x);
        _beta = beta;
        _threshold = threshold;
    }

    public static Tensor Forward(Tensor x, double beta, double threshold)
    {
        Tensor y = ElementwiseMap.Unary(x, new SoftplusOp<float>((float)beta, (float)threshold), new SoftplusOp<double>(beta, threshold), "Softplus");
        if (GradMode.Records(x)) y.SetGradFn(new SoftplusNode(x, beta, threshold));
        return y;
    }

    // dy/dx = σ(βx) where βx ≤ threshold, 1 in the linear region.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        if (!GradMode.Records(dy, x))
            return [ElementwiseMap.Binary(x, dy, new SoftplusBackwardOp<float>((float)_beta, (float)_threshold),
                new SoftplusBackwardOp<double>(_beta, _threshold), "SoftplusBackward")];
        Tensor linear = (x.Detach() * _beta).Gt(_threshold).To(x.DType); // constant 1/0 mask
        return [dy * ((x * _beta).Sigmoid() * (1.0 - linear) + linear)];
    }
}

/// <summary>y = x·σ(x) (SiLU, swish).</summary>
internal sealed class SiluNode : Node
{
    private readonly SavedTensor _x;

    private SiluNode(Tensor x) : base(x) => _x = Save(x);

    public static Tensor Forward(Tensor x)
    {
        Tensor y = ElementwiseMap.Unary(x, default(SiluOp<float>), default(SiluOp<double>), "Silu");
        if (GradMode.Records(x)) y.SetGradFn(new SiluNode(x));
        return y;
    }

    // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))).
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value;
        if (!GradMode.Records(dy, x))
            return [ElementwiseMap.Binary(x, dy, default(SiluBackwardOp<float>), default(SiluBackwardOp<double>), "SiluBackward")];
        Tensor s = x.Sigmoid();
        return [dy * (s * (1.0 + x * (1.0 - s)))];
    }
}
