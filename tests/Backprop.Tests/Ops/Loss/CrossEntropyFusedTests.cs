using Backprop.NN;
using Backprop.Ops.Loss;
using Backprop.Tensors;

namespace Backprop.Tests.Ops.Loss;

/// <summary>
/// Cross-entropy's fused backward (used when the backward is not recorded) against the
/// tensor-op form (used with createGraph): the same bits for every reduction and option, also on the
/// path for no class weights and no smoothing, which reads the targets instead of dense coefficients.
/// </summary>
public class CrossEntropyFusedTests
{
    public static TheoryData<int[], Reduction, double, bool, long> Cases => new()
    {
        { [128, 10], Reduction.Mean, 0, false, -100 },
        { [7, 3], Reduction.Sum, 0.1, true, -100 },
        { [5, 4], Reduction.None, 0, false, 2 },
        { [3, 4, 2, 3], Reduction.Mean, 0.2, true, 1 },
        { [3, 4, 5], Reduction.None, 0.05, false, -100 },
        { [6], Reduction.Mean, 0, false, -100 },
        { [0, 4], Reduction.Sum, 0, false, -100 },
        { [3, 4, 5], Reduction.Mean, 0, false, 1 },   // no weights and no smoothing: straight from the targets
        { [2, 3, 4], Reduction.None, 0, false, -100 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32_FusedMatchesRecordedForm(int[] shape, Reduction reduction, double smoothing, bool weighted, long ignore)
    {
        var g = new Generator(5);
        Tensor x = Tensor.Randn(shape, DType.Float32, g) * 3.0;
        int c = shape.Length == 1 ? shape[0] : shape[1];
        int[] tshape = shape.Length == 1 ? [] : [shape[0], .. shape[2..]];
        long[] tv = new long[new Shape(tshape).Numel];
        for (int i = 0; i < tv.Length; i++) tv[i] = (i * 7 + 3) % c;
        Tensor target = Tensor.FromArray(tv, new Shape(tshape));
        Tensor? weight = weighted ? Tensor.Uniform([c], 0.5, 2.0, DType.Float32, g) : null;

        Tensor a = x.Detach().Clone().RequireGrad(), b = x.Detach().Clone().RequireGrad();
        Tensor la = Functional.CrossEntropy(a, target, reduction, smoothing, ignore, weight);
        Tensor lb = Functional.CrossEntropy(b, target, reduction, smoothing, ignore, weight);
        Tensor seed = reduction == Reduction.None ? Tensor.Randn(la.Shape.ToArray(), DType.Float32, g) : Tensor.Scalar(1.5, DType.Float32);
        la.Backward(seed);                    // fused kernel
        lb.Backward(seed, createGraph: true); // tensor ops, recorded
        Assert.Equal(b.Grad!.ToArray<float>(), a.Grad!.ToArray<float>());
    }
}
