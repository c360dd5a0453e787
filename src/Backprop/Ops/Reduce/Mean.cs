using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Backprop.Autograd;
using Backprop.Tensors;

namespace Backprop.Ops.Reduce;

/// <summary>Mean over all elements or over given dims, optionally keeping them as size 1.</summary>
internal sealed class MeanNode(Tensor x, bool[] reduced, bool keepDim, int count) : Node(x)
{
    private readonly Shape _inputShape = x.Shape;

    public static Tensor Forward(Tensor x, int[] dims, bool keepDim)
    {
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"Mean: input dtype must be floating point (float32 or float64), got {x.DType.Name()} (shape {x.Shape}), as in PyTorch; convert it with To(DType.Float32)" +
                (x.DType == DType.Bool ? " (the mean of a mask is the fraction of trues)" : ""));
        bool[] reduced = ReduceDims.Mask(x.Shape, dims, "Mean");
        int count = ReduceDims.ReducedCount(x.Shape, reduced);
        Tensor y;
        using (GradMode.Disable()) y = x.Sum(dims, keepDim);
        // Sum wrote fresh contiguous storage: scale it in place. An empty reduction gives 0/0 = NaN, as PyTorch.
        DTypeSwitch.Float(y.DType, new DivideInPlace(y, count));
        if (GradMode.Records(x)) y.SetGradFn(new MeanNode(x, reduced, keepDim, count));
        return y;
    }

    private readonly struct DivideInPlace(Tensor y, int count) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Divide(y.Elements<T>(), T.CreateTruncating(count), y.Elements<T>());
    }

    // d(mean)/dx = 1/n for every averaged element: spread dy evenly back over the reduced dims.
    protected internal override Tensor?[] Backward(Tensor dy)
    {
        Tensor g = ReduceLayout.Unsqueeze(dy, _inputShape, reduced, keepDim);
        return [(g / count).Expand(_inputShape.ToArray())];
    }
}
