using Backprop.Autograd;
using Backprop.NN;
using Backprop.NN.Layers;
using Backprop.Ops.Loss;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.NN.Layers;

/// <summary>GroupNorm, RmsNorm, Flatten, Unflatten and Identity modules, and the loss criteria.</summary>
public class NormFlattenLossLayerTests
{
    [Fact]
    public void GroupNorm_Module_DefaultsParametersAndErrors()
    {
        var gn = new GroupNorm(2, 4, dtype: DType.Float64);
        Assert.Equal(new[] { "weight", "bias" }, gn.NamedParameters().Select(p => p.Key).ToArray());
        T.Close([1, 1, 1, 1], gn.Weight!.Data, 0);
        T.Close([0, 0, 0, 0], gn.Bias!.Data, 0);
        Tensor x = T.Param(1, 3, 4, 5);
        T.Close(Functional.GroupNorm(x, 2).ToDoubleArray(), gn.Forward(x), 1e-15);
        Assert.Empty(new GroupNorm(2, 4, affine: false).Parameters());
        Assert.Contains("divisible", Assert.Throws<ArgumentException>(() => new GroupNorm(3, 4)).Message);
        var channels = Assert.Throws<ArgumentException>(() => gn.Forward(Tensor.Zeros([3, 6, 5], DType.Float64)));
        Assert.Contains("[N, 4, *]", channels.Message);
        Assert.Contains("[3, 6, 5]", channels.Message);
        // the same in training and eval: no batch statistics
        Tensor train = gn.Forward(x);
        gn.Eval();
        T.Close(train.ToDoubleArray(), gn.Forward(x), 0);
    }

    [Fact]
    public void RmsNorm_Module_DefaultsAndGradCheck()
    {
        var rms = new RmsNorm(6, dtype: DType.Float64);
        Assert.Null(rms.Eps);
        Assert.Equal(new[] { "weight" }, rms.NamedParameters().Select(p => p.Key).ToArray());
        SineFill.Parameters(rms);
        GradCheck.Verify(v => rms.Forward(v[0]), [T.Param(1, 2, 3, 6)]);
        Assert.Empty(new RmsNorm([2, 3], elementwiseAffine: false).Parameters());
        Assert.Equal("RmsNorm([2, 3])", new RmsNorm([2, 3]).ToString().Trim());
        Assert.Contains("RmsNorm", Assert.Throws<ArgumentException>(() => new RmsNorm([])).Message);
    }

    [Fact]
    public void Flatten_AndUnflatten_AreInverses()
    {
        Tensor x = T.Param(1, 2, 3, 4, 5);
        Tensor f = new Flatten(1, 2).Forward(x);
        Assert.Equal(new Shape(2, 12, 5), f.Shape);
        Assert.Equal(new Shape(2, 60), new Flatten().Forward(x).Shape);
        Assert.Equal(new Shape(120), new Flatten(0).Forward(x).Shape);
        Tensor u = new Unflatten(1, [3, 4]).Forward(f);
        Assert.Equal(x.Shape, u.Shape);
        T.Close(x.ToDoubleArray(), u, 0);
        Assert.Equal(new Shape(2, 12, 5, 1), new Unflatten(-1, [5, -1]).Forward(f).Shape);
        Assert.Equal(new Shape(2, 2, 2, 3, 5), new Unflatten(1, [2, -1, 3]).Forward(f).Shape);
        GradCheck.Verify(v => new Unflatten(1, [4, 3]).Forward(new Flatten(1, 2).Forward(v[0])), [x]);
        var e = Assert.Throws<ArgumentException>(() => new Unflatten(1, [5, 3]).Forward(f));
        Assert.Contains("[5, 3]", e.Message);
        Assert.Contains("12", e.Message);
        Assert.Contains("[2, 12, 5]", e.Message);
        Assert.Contains("one size", Assert.Throws<ArgumentException>(() => new Unflatten(0, [-1, -1])).Message);
        Assert.Contains("out of range", Assert.Throws<ArgumentException>(() => new Unflatten(3, [1]).Forward(f)).Message);
        Assert.Same(x, new Identity().Forward(x));
    }

    [Fact]
    public void Criteria_CallTheFunctionalForms_AndConvertToAFunc()
    {
        Tensor x = T.Uniform(1, 0.1, 0.9, 3, 4), t = T.Uniform(2, 0.1, 0.9, 3, 4);
        Assert.Equal(Functional.L1Loss(x, t).Item(), new L1Loss().Forward(x, t).Item());
        Assert.Equal(Functional.MseLoss(x, t, Reduction.Sum).Item(), new MseLoss(Reduction.Sum).Forward(x, t).Item());
        Assert.Equal(Functional.SmoothL1Loss(x, t, beta: 0.2).Item(), new SmoothL1Loss(beta: 0.2).Forward(x, t).Item());
        Assert.Equal(Functional.HuberLoss(x, t, delta: 0.2).Item(), new HuberLoss(delta: 0.2).Forward(x, t).Item());
        Assert.Equal(Functional.KLDiv(x.Log(), t, Reduction.BatchMean).Item(), new KLDivLoss(Reduction.BatchMean).Forward(x.Log(), t).Item());
        Assert.Equal(Functional.KLDiv(x, t.Log(), Reduction.Sum, true).Item(), new KLDivLoss(Reduction.Sum, logTarget: true).Forward(x, t.Log()).Item());
        Tensor w = Tensor.Full([4], 2.0, DType.Float64);
        Assert.Equal(Functional.BinaryCrossEntropy(x, t, w).Item(), new BceLoss(w).Forward(x, t).Item());
        Assert.Equal(Functional.BinaryCrossEntropyWithLogits(x, t).Item(), new BceWithLogitsLoss().Forward(x, t).Item());
        Tensor classes = Tensor.FromArray(new long[] { 0, 3, 1 });
        Assert.Equal(Functional.CrossEntropy(x, classes, labelSmoothing: 0.1).Item(), new CrossEntropyLoss(labelSmoothing: 0.1).Forward(x, classes).Item());
        Assert.Equal(Functional.NllLoss(x, classes, Reduction.Sum).Item(), new NllLoss(reduction: Reduction.Sum).Forward(x, classes).Item());

        Func<Tensor, Tensor, Tensor> f = new HuberLoss();
        Assert.Equal(Functional.HuberLoss(x, t).Item(), f(x, t).Item());
        Assert.Equal("KLDivLoss(reduction=BatchMean)", new KLDivLoss(Reduction.BatchMean).ToString());
        Assert.Equal(Reduction.Mean, new KLDivLoss().Reduction); // PyTorch's default, with its warning
    }
}
