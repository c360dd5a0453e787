using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>
/// Mean squared error (x − t)², reduced; input and target must have the same shape (PyTorch warns
/// and broadcasts, which turns [N, 1] against [N] into [N, N]).
/// </summary>
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
        PointwiseLoss.CheckReduction(reduction, op);
        if (input.DType != target.DType)
            throw new ArgumentException($"{op}: input dtype {input.DType.Name()} (shape {input.Shape}) differs from target dtype {target.DType.Name()} (shape {target.Shape})");
        input.CheckFloat(op);
        if (input.Shape != target.Shape)
            throw new ArgumentException($"{op}: input shape {input.Shape} differs from target shape {target.Shape}; "
                + "the loss does not broadcast (an [N, 1] input against an [N] target would compare every pair). Reshape one side, or BroadcastTo explicitly");
        Tensor d;
        using (GradMode.Disable()) d = input - target; // fresh contiguous storage of the input's shape
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

    // d/dx (x − t)² = 2(x − t), d/dt = −2(x − t); the mean divides by the element count.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor x = _x.Value, t = _t.Value;
        double factor = _reduction == Reduction.Mean ? 2.0 / _count : 2.0;
        Tensor g = (x - t) * (dy * factor);
        return
        [
            NeedsInputGrad(0) ? g : null,
            NeedsInputGrad(1) ? -g : null,
        ];
    }
}
