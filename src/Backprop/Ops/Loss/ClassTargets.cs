using System.Numerics;
using System.Text;
using Backprop.Kernels.Loss;
using Backprop.Kernels.Reduce;
using Backprop.Tensors;

namespace Backprop.Ops.Loss;

/// <summary>Checks and layout shared by the class-index losses (cross-entropy, NLL).</summary>
internal static class ClassTargets
{
    /// <summary>
    /// Validates input [C] with a 0-d target, or input [N, C, d1, ...] with target [N, d1, ...];
    /// the input is then read as [n, c, s]. Checks dtypes, shapes, the weight and every target value.
    /// </summary>
    public static void Validate(Tensor input, Tensor target, Tensor? weight, long ignoreIndex, string op, out int n, out int c, out int s)
    {
        if (!input.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: input must be float32 or float64, got {input.DType.Name()} (shape {input.Shape})");
        if (target.DType != DType.Int64)
            throw new ArgumentException(
                $"{op}: target must hold class indices as int64, got {target.DType.Name()} (input is {input.DType.Name()}, shape {input.Shape}); convert it with target.To(DType.Int64)");
        if (input.Rank == 0)
            throw new ArgumentException($"{op}: input must have a class dimension ([C], [N, C] or [N, C, d1, ...]), got a 0-d tensor");
        Shape expected;
        if (input.Rank == 1)
        {
            expected = Shape.Scalar;
            n = 1; c = input.Shape[0]; s = 1;
        }
        else
        {
            var dims = new int[input.Rank - 1];
            dims[0] = input.Shape[0];
            s = 1;
            for (int d = 2; d < input.Rank; d++) { dims[d - 1] = input.Shape[d]; s *= input.Shape[d]; }
            expected = new Shape(dims);
            n = input.Shape[0]; c = input.Shape[1];
        }
        if (target.Shape != expected)
            throw new ArgumentException($"{op}: input of shape {input.Shape} needs a target of shape {expected}, got target shape {target.Shape}");
        if (weight is not null)
        {
            if (weight.Rank != 1 || weight.Shape[0] != c)
                throw new ArgumentException($"{op}: weight must have shape [{c}] (one entry per class of input shape {input.Shape}), got {weight.Shape}");
            if (weight.DType != input.DType)
                throw new ArgumentException($"{op}: weight dtype {weight.DType.Name()} differs from input dtype {input.DType.Name()}");
        }
        ReadOnlySpan<long> t = target.Contiguous().ReadOnlyElements<long>();
        for (int i = 0; i < t.Length; i++)
        {
            long v = t[i];
            if (v != ignoreIndex && (v < 0 || v >= c))
                throw new ArgumentException(
                    $"{op}: target value {v} at position {Position(target.Shape, i)} is out of range for {c} classes " +
                    $"(valid values are 0..{c - 1}, or ignoreIndex {ignoreIndex})");
        }
    }

    private static string Position(Shape shape, int flat)
    {
        var index = new int[shape.Rank];
        for (int d = shape.Rank - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return new StringBuilder("[").AppendJoin(", ", index).Append(']').ToString();
    }

    /// <summary>Applies the reduction to per-position losses; mean divides by the total weight of non-ignored targets.</summary>
    public static Tensor Reduce(Tensor losses, Reduction reduction, double totalWeight)
    {
        if (reduction == Reduction.None) return losses;
        double sum = DTypeSwitch.Float<SumAll, double>(losses.DType, new SumAll(losses));
        // 0/0 = NaN when every target is ignored, as PyTorch.
        return Tensor.Scalar(reduction == Reduction.Mean ? sum / totalWeight : sum, losses.DType);
    }

    private readonly struct SumAll(Tensor x) : IFloatFunc<double>
    {
        public double Run<T>() where T : unmanaged, IFloatingPointIeee754<T> => double.CreateTruncating(SumKernel.SumContiguous(x.ReadOnlyElements<T>()));
    }

    /// <summary>The shape of the gradient's per-position factors: the input shape with the class dim set to 1.</summary>
    public static Shape PerPositionShape(Shape input)
    {
        int[] dims = input.ToArray();
        dims[input.Rank == 1 ? 0 : 1] = 1;
        return new Shape(dims);
    }

    /// <summary>The upstream gradient broadcastable against the input: per-position for None, a scalar otherwise.</summary>
    public static Tensor Upstream(Tensor dy, Shape input, Reduction reduction)
        => reduction == Reduction.None ? dy.Reshape(PerPositionShape(input).ToArray()) : dy;

    /// <summary>The a/b gradient coefficients of <see cref="ClassLossKernel.GradientCoefficients{T}"/> as tensors (a is null when not wanted).</summary>
    public static (Tensor? A, Tensor B) Coefficients(Shape shape, DType dtype, Tensor target, Tensor? weight, long ignoreIndex, double smoothing,
                                                      Reduction reduction, double totalWeight, bool wantA)
    {
        int n = shape.Rank == 1 ? 1 : shape[0], c = shape.Rank == 1 ? shape[0] : shape[1], s = 1;
        for (int d = 2; d < shape.Rank; d++) s *= shape[d];
        double scale = reduction == Reduction.Mean ? 1.0 / totalWeight : 1.0;
        Tensor? a = wantA ? new Tensor(PerPositionShape(shape), dtype) : null;
        var b = new Tensor(shape, dtype);
        DTypeSwitch.Float(dtype, new CoefficientsKernel(target.Contiguous(), weight?.Detach().Contiguous(), n, c, s, ignoreIndex, smoothing, scale, a, b));
        return (a, b);
    }

    private readonly struct CoefficientsKernel(Tensor target, Tensor? weight, int n, int c, int s, long ignoreIndex, double smoothing, double scale,
                                               Tensor? a, Tensor b) : IFloatAction
    {
        public void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
            => ClassLossKernel.GradientCoefficients(target.ReadOnlyElements<long>(), weight is null ? default : weight.ReadOnlyElements<T>(),
                n, c, s, ignoreIndex, smoothing, T.CreateTruncating(scale), a is null ? default : a.Elements<T>(), b.Elements<T>());
    }
}
