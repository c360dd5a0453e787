using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Ops.Norm;

/// <summary>GroupNorm and RmsNorm: gradient checks (fused and recorded backwards), equivalences and errors. PyTorch values: NN/Layers/LayersReferenceTests.</summary>
public class GroupRmsNormTests
{
    [Fact]
    public void GroupNorm_GradCheck_InputWeightBias()
    {
        GradCheck.Verify(v => Functional.GroupNorm(v[0], 3, v[1], v[2]), [T.Param(1, 2, 6, 3, 2), T.Param(2, 6), T.Param(3, 6)]);
        GradCheck.Verify(v => Functional.GroupNorm(v[0], 2), [T.Param(4, 3, 4)]);
        GradCheck.Verify(v => Functional.GroupNorm(v[0], 1, v[1], null, 0.1), [T.Param(5, 2, 3, 5), T.Param(6, 3)]);
        GradCheck.Verify(v => Functional.GroupNorm(v[0], 4, null, v[1]), [T.Param(7, 1, 4, 2, 3), T.Param(8, 4)]);
        GradCheck.Verify(v => Functional.GroupNorm(v[0].Transpose(2, 3), 2, v[1], v[2]), [T.Param(9, 2, 4, 3, 5), T.Param(10, 4), T.Param(11, 4)]);
    }

    [Fact]
    public void GroupNorm_SecondOrder()
    {
        GradCheck.VerifySecondOrder(v => Functional.GroupNorm(v[0], 2, v[1], v[2]), [T.Param(1, 2, 4, 3), T.Param(2, 4), T.Param(3, 4)]);
        GradCheck.VerifySecondOrder(v => Functional.GroupNorm(v[0], 3), [T.Param(4, 2, 3, 2, 2)]);
    }

    [Fact]
    public void GroupNorm_EqualsLayerNormAndInstanceNormAtTheExtremes()
    {
        Tensor x = T.Param(1, 3, 4, 5, 2);
        // One group: each sample normalised over everything, as LayerNorm over [C, H, W].
        T.Close(Functional.LayerNorm(x, [4, 5, 2]).ToDoubleArray(), Functional.GroupNorm(x, 1), 1e-12);
        // One channel per group: instance normalisation, each (sample, channel) plane alone.
        T.Close(Functional.LayerNorm(x.Reshape(3, 4, 10), [10]).Reshape(3, 4, 5, 2).ToDoubleArray(), Functional.GroupNorm(x, 4), 1e-12);
    }

    [Fact]
    public void RmsNorm_GradCheck_AndSecondOrder()
    {
        GradCheck.Verify(v => Functional.RmsNorm(v[0], [5], v[1]), [T.Param(1, 3, 5), T.Param(2, 5)]);
        GradCheck.Verify(v => Functional.RmsNorm(v[0], [2, 3], v[1], 1e-3), [T.Param(3, 4, 2, 3), T.Param(4, 2, 3)]);
        GradCheck.Verify(v => Functional.RmsNorm(v[0], [4]), [T.Param(5, 2, 3, 4)]);
        GradCheck.Verify(v => Functional.RmsNorm(v[0].T(), [3], v[1]), [T.Param(6, 3, 4), T.Param(7, 3)]);
        GradCheck.VerifySecondOrder(v => Functional.RmsNorm(v[0], [4], v[1]), [T.Param(8, 3, 4), T.Param(9, 4)]);
    }

    [Fact]
    public void RmsNorm_DefaultEps_IsTheDtypesMachineEpsilon()
    {
        double[] v = [3e-4, -4e-4];
        foreach ((DType dtype, double eps) in new[] { (DType.Float64, Math.Pow(2, -52)), (DType.Float32, Math.Pow(2, -23)) })
        {
            Tensor x = T.F64(v, 1, 2).To(dtype);
            double rms = Math.Sqrt((9e-8 + 16e-8) / 2 + eps);
            T.Close([3e-4 / rms, -4e-4 / rms], Functional.RmsNorm(x, [2]), dtype == DType.Float64 ? 1e-12 : 1e-6);
        }
        Assert.Equal(1.1920928955078125e-07, Math.Pow(2, -23)); // torch.finfo(torch.float32).eps
    }

    [Fact]
    public void Errors_NameOpAndShapes()
    {
        var rank = Assert.Throws<ArgumentException>(() => Functional.GroupNorm(Tensor.Zeros([6]), 2));
        Assert.Contains("GroupNorm", rank.Message);
        Assert.Contains("[6]", rank.Message);
        var groups = Assert.Throws<ArgumentException>(() => Functional.GroupNorm(Tensor.Zeros([2, 6, 3]), 4));
        Assert.Contains("(4)", groups.Message);
        Assert.Contains("[2, 6, 3]", groups.Message);
        var weight = Assert.Throws<ArgumentException>(() => Functional.GroupNorm(Tensor.Zeros([2, 6, 3]), 3, Tensor.Ones([3])));
        Assert.Contains("weight of shape [3]", weight.Message);
        Assert.Contains("[2, 6, 3]", weight.Message);
        var trailing = Assert.Throws<ArgumentException>(() => Functional.RmsNorm(Tensor.Zeros([2, 5]), [4]));
        Assert.Contains("RmsNorm", trailing.Message);
        Assert.Contains("[2, 5]", trailing.Message);
        var rmsWeight = Assert.Throws<ArgumentException>(() => Functional.RmsNorm(Tensor.Zeros([2, 5]), [5], Tensor.Ones([4])));
        Assert.Contains("[4]", rmsWeight.Message);
        var dtype = Assert.Throws<ArgumentException>(() => Functional.RmsNorm(Tensor.Zeros([2, 5], DType.Int64), [5]));
        Assert.Contains("int64", dtype.Message);
    }
}
