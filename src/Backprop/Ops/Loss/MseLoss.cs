using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>Mean squared error (x − t)², reduced; input and target broadcast as in PyTorch.</summary>
internal sealed class MseLossNode : Node
{
    private readonly SavedTensor _x, _t;
    private readonly Reduction _reduction;
    private readonly int _count;

    private MseLossNode(Tensor input, Tensor target, Reduction reduction, int count) : base(input, target)
    {
        _x = Save(input);
        _t = Save(target);
        _reduction = reduction;
        _count = count;
    }

    public static Tensor Forward(Tensor input, Tensor target, Reduction reduction)
    {
        const string op = "MseLoss";
        if (input.DType != target.DType)
            throw new ArgumentException($"{op}: input dtype {input.DType.Name()} (shape {input.Shape}) differs from target dtype {target.DType.Name()} (shape {target.Shape})");
        input.CheckFloat(op);
        if (input.Shape != target.Shape && !Shape.TryBroadcast(input.Shape, target.Shape, out _))
            throw new ArgumentException($"{op}: input shape {input.Shape} and target shape {target.Shape} cannot be broadcast together");
        Tensor d;
        using (GradMode.Disable()) d = input - target; // fresh contiguous storage of the broadcast shape
        int count = d.Numel;
        Tensor y;
        if (reduction == Reduction.None)
        {
            DTypeSwitch.Float(d.DType, new SquareInPlace(d));
            y = d;
        }
        else
        {
            double sum = DTypeSwitch.Float<SumOfSquares, double>(d.DType, new SumOfSquares(d));
            // An empty mean is 0/0 = NaN, as PyTorch.
            y = Tensor.Scalar(reduction == Reduction.Mean ? sum / count : sum, d.DType);
        }
        if (GradMode.Records(input, target)) y.SetGradFn(new MseLossNode(input, target, reduction, count));
        return y;
    }

    private readonly struct SquareInPlace(Tensor d) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => TensorPrimitives.Multiply(d.Elements<T>(), d.Elements<T>(), d.Elements<T>());
    }

    // float32 blocks are totalled in double so long inputs do not lose precision.
    private readonly struct SumOfSquares(Tensor x) : IFloatFunc<double>
    {
        public double Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            ReadOnlySpan<T> d = x.ReadOnlyElements<T>();
            double total = 0;
            for (int i = 0; i < d.Length; i += 4096)
                total += double.CreateTruncating(TensorPrimitives.SumOfSquares(d.Slice(i, Math.Min(4096, d.Length - i))));
            return total;
        }
    }

    // d/dx (x − t)² = 2(x − t), d/dt = −2(x − t); the mean divides by the element count; broadcast dims are summed back.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value, t = _t.Value;
        double factor = _reduction == Reduction.Mean ? 2.0 / _count : 2.0;
        Tensor g = (x - t) * (dy * factor);
        return
        [
            NeedsInputGrad(0) ? g.SumToShape(x.Shape) : null,
            NeedsInputGrad(1) ? (-g).SumToShape(t.Shape) : null,
        ];
    }
}
