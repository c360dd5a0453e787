using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;
using F = Backprop.Tests.Ops.EverydayFixtures;

namespace Backprop.Tests.Ops.Reduce;

/// <summary>
/// Norm against torch.linalg.vector_norm for p = 2, 1, ±∞, 0, 3, 0.5, −1, 1.5: values and PyTorch's gradients
/// (a zero row, so the zero-norm subgradients; ties in |x|, so the shared ∞-norm gradient), gradient checks, errors.
/// </summary>
public class VectorNormTests
{
    public static TheoryData<string, double> Orders => new()
    {
        { "P2", 2 }, { "P1", 1 }, { "PInf", double.PositiveInfinity }, { "PNegInf", double.NegativeInfinity },
        { "P0", 0 }, { "P3", 3 }, { "PHalf", 0.5 }, { "PNeg1", -1 }, { "P1_5", 1.5 },
    };

    private static double[] Fixture(string name) => (double[])typeof(F).GetField(name)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(Orders))]
    public void ValuesAndGradients_MatchPyTorch(string name, double p)
    {
        Tensor x = T.F64(F.NormInput, 4, 4);
        (Tensor y, Tensor g) = EverydayAssert.Gradient(t => t.Norm(p, 1), x);
        EverydayAssert.Close(Fixture($"Norm{name}Dim1"), y, 1e-13, 1e-14);
        EverydayAssert.Close(Fixture($"Norm{name}Dim1Grad"), g, 1e-12, 1e-13);
        // float32 agrees to float precision
        EverydayAssert.Close(Fixture($"Norm{name}Dim1"), x.To(DType.Float32).Norm(p, 1), 1e-6, 1e-7);
    }

    [Fact]
    public void OverSeveralDims_AllElements_Frobenius()
    {
        Tensor x = SineFill.Tensor(4, 2, 3, 4);
        EverydayAssert.Close(F.NormP2Dims01, x.Norm(2, [0, 1]), 1e-14, 0);
        EverydayAssert.Close(F.NormP2Dims01, x.Permute(2, 0, 1).Norm(2, [1, 2]), 1e-14, 0);  // dims not adjacent in memory
        EverydayAssert.Close(F.NormP3All, x.Norm(3), 1e-14, 0);
        Tensor fro = x.FrobeniusNorm([-2, -1], keepDim: true);
        Assert.Equal(new Shape(2, 1, 1), fro.Shape);
        EverydayAssert.Close(F.NormFroLast2Keep, fro, 1e-14, 0);
        EverydayAssert.Close(F.NormPInfDims02, x.Norm(double.PositiveInfinity, [0, 2]), 0, 0);
        EverydayAssert.Close(F.NormP2Dims01, Functional.VectorNorm(x, 2, [0, 1]), 1e-14, 0);
        Assert.Equal(5.0, T.F64([3, 4], 2).Norm().Item(), 15);
        Assert.Equal(5.0, T.F64([3, 4], 2).FrobeniusNorm().Item(), 15);
    }

    [Fact]
    public void NaNPropagates_ExceptInTheZeroNorm()
    {
        Tensor x = T.F64([1, double.NaN, 0], 3);
        foreach (double p in new[] { 2, 1, double.PositiveInfinity, double.NegativeInfinity, 3 })
            Assert.True(double.IsNaN(x.Norm(p).Item()), $"p = {p}");
        Assert.Equal(2.0, x.Norm(0).Item());
        Assert.Equal(0.0, Tensor.Zeros([0]).Norm().Item());
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    [InlineData(1.5)]
    [InlineData(0.5)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void GradCheck_AwayFromKinks(double p)
    {
        // Uniform values in [0.3, 1.3] with random signs never sit on a kink (0, or a tie in |x|).
        Tensor x = Tensor.Uniform([3, 4], 0.3, 1.3, DType.Float64, new Generator(2)) * Tensor.Randn([3, 4], DType.Float64, new Generator(3)).Sign();
        x = x.RequireGrad();
        GradCheck.Verify(t => t[0].Norm(p, 1), [x]);
        GradCheck.Verify(t => t[0].Norm(p, [0, 1], keepDim: true), [x]);
        GradCheck.Verify(t => t[0].T().Norm(p, 0), [x]);                                   // non-contiguous
        GradCheck.Verify(t => t[0].Narrow(0, 0, 1).Expand(2, 4).Norm(p, 0), [x]);           // broadcast input
        if (!double.IsInfinity(p)) GradCheck.VerifySecondOrder(t => t[0].Norm(p, -1), [x]);
    }

    [Fact]
    public void Normalize_IsXOverTheClampedNorm()
    {
        Tensor x = T.F64([3, 4, 0, 0], 2, 2);
        EverydayAssert.Close([0.6, 0.8, 0, 0], Functional.Normalize(x), 1e-15, 0);
        GradCheck.Verify(t => Functional.Normalize(t[0], 2, -1), [T.Param(1, 3, 4)]);
    }

    [Fact]
    public void Errors_NameTheOpShapeAndDType()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Ones([2, 3], DType.Int64).Norm());
        Assert.Contains("Norm", e.Message);
        Assert.Contains("int64", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        var inf = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 0]).Norm(double.PositiveInfinity, 1));
        Assert.Contains("empty", inf.Message);
        Assert.Contains("FrobeniusNorm", Assert.Throws<ArgumentException>(() => Tensor.Ones([2, 2, 2]).FrobeniusNorm([0, 1, 2])).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => Tensor.Ones([2, 2]).Norm(2, [1, -1])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Tensor.Ones([2]).Norm(double.NaN)).Message);
    }
}
