using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;
using F = Backprop.Tests.Ops.EverydayFixtures;

namespace Backprop.Tests.Ops.Einsum;

/// <summary>
/// Einsum against torch.einsum on SineFill operands (matrix and batched products, trace, diagonals, implicit
/// output order, ellipsis broadcasting and summing, size-1 broadcasting, spaces), gradients of every operand, errors.
/// </summary>
public class EinsumTests
{
    private static Tensor S(double seed, params int[] shape) => SineFill.Tensor(seed, shape);

    public static TheoryData<string> Cases => new()
    {
        "MatMul", "Implicit", "Batched", "Trace", "Diagonal", "Dot", "Outer", "EllipsisTranspose", "SumAll",
        "RepeatedThree", "CapitalsFirst", "EllipsisBroadcast", "SizeOneBroadcast", "EllipsisSummed", "ThreeOperands", "Spaces",
    };

    /// <summary>The operands the fixture script used for each case.</summary>
    private static Tensor[] Operands(string name) => name switch
    {
        "MatMul" or "Implicit" or "CapitalsFirst" or "Spaces" => [S(1, 2, 3), S(2, 3, 4)],
        "Batched" => [S(3, 2, 3, 4), S(5, 2, 4, 5)],
        "Trace" or "Diagonal" => [S(4, 3, 3)],
        "Dot" => [S(6, 3), S(6, 3)],
        "Outer" => [S(6, 3), S(7, 2)],
        "EllipsisTranspose" or "SumAll" or "EllipsisSummed" => [S(3, 2, 3, 4)],
        "RepeatedThree" => [S(8, 3, 2, 3)],
        "EllipsisBroadcast" => [S(9, 2, 1, 2, 3), S(10, 4, 3, 2)],
        "SizeOneBroadcast" => [S(2, 3, 4), S(11, 1, 4)],
        "ThreeOperands" => [S(1, 2, 3), S(2, 3, 4), S(12, 4, 2)],
        _ => throw new ArgumentException(name),
    };

    private static TValue Get<TValue>(string field) => (TValue)typeof(F).GetField(field)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        Tensor y = Tensor.Einsum(Get<string>($"Einsum{name}Equation"), Operands(name));
        Assert.Equal(new Shape(Get<int[]>($"Einsum{name}Shape")), y.Shape);
        EverydayAssert.Close(Get<double[]>($"Einsum{name}"), y, 1e-13, 1e-15);
        // float32 operands give the same to float precision
        Tensor[] f32 = Array.ConvertAll(Operands(name), t => t.To(DType.Float32));
        EverydayAssert.Close(Get<double[]>($"Einsum{name}"), Functional.Einsum(Get<string>($"Einsum{name}Equation"), f32), 1e-5, 1e-6);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradients_OfEveryOperand(string name)
    {
        string eq = Get<string>($"Einsum{name}Equation");
        Tensor[] ops = Operands(name);
        for (int i = 0; i < ops.Length; i++) ops[i] = ops[i].RequireGrad();
        GradCheck.Verify(t => Tensor.Einsum(eq, t), ops);
    }

    [Fact]
    public void Gradients_NonContiguousOperands_AndSecondOrder()
    {
        Tensor a = T.Param(1, 3, 2), b = T.Param(2, 4, 3);
        GradCheck.Verify(t => Tensor.Einsum("ij,jk->ik", t[0].T(), t[1].T()), [a, b]);
        GradCheck.Verify(t => Tensor.Einsum("ii->i", t[0].Expand(3, 3)), [T.Param(3, 1, 3)]);   // broadcast operand
        GradCheck.VerifySecondOrder(t => Tensor.Einsum("ij,jk->ik", t[0], t[1]), [T.Param(4, 2, 3), T.Param(5, 3, 2)]);
        GradCheck.VerifySecondOrder(t => Tensor.Einsum("ii", t[0]) * Tensor.Einsum("ij,ij->", t[0], t[0]), [T.Param(6, 3, 3)]);
    }

    [Fact]
    public void Int64Operands_ContractExactly()
    {
        Tensor a = Tensor.Arange(6, DType.Int64).Reshape(2, 3), b = Tensor.Arange(6, DType.Int64).Reshape(3, 2);
        Assert.Equal(new long[] { 10, 13, 28, 40 }, Tensor.Einsum("ij,jk->ik", a, b).ToArray<long>());   // torch.einsum on int64
        Assert.Equal(new long[] { 4 }, Tensor.Einsum("ii", Tensor.Eye(4, dtype: DType.Int64)).Reshape(1).ToArray<long>());
    }

    [Fact]
    public void ScalarOperand_AndIdentity()
    {
        Assert.Equal(6.0, Tensor.Einsum(",i->i", Tensor.Scalar(2, DType.Float64), T.F64([1, 2, 3], 3)).ToDoubleArray()[2]);
        Tensor x = S(1, 2, 3);
        Tensor same = Tensor.Einsum("ij->ij", x);
        Assert.Equal(x.ToDoubleArray(), same.ToDoubleArray());
        Assert.NotSame(x, same);
    }

    [Fact]
    public void Errors_NameTheEquationAndShapes()
    {
        Tensor a = Tensor.Ones([2, 3]);
        AssertError("subscript j has size 4", () => Tensor.Einsum("ij,jk->ik", a, Tensor.Ones([4, 2])), "[2, 3]", "[4, 2]");
        AssertError("do not match the 3 dims of operand 0", () => Tensor.Einsum("ij", Tensor.Ones([2, 3, 4])), "[2, 3, 4]");
        AssertError("output subscript k does not appear", () => Tensor.Einsum("ij->ik", a), "[2, 3]");
        AssertError("output subscript i appears more than once", () => Tensor.Einsum("ij->ii", a));
        AssertError("invalid subscript '#'", () => Tensor.Einsum("i#->i", a));
        AssertError("2 operand terms but 1 operand", () => Tensor.Einsum("ij,jk->ik", a));
        AssertError("1 operand terms but 2 operands", () => Tensor.Einsum("ij->ij", a, a));
        AssertError("repeated in operand 0 (shape [2, 3]) with different sizes, 2 != 3", () => Tensor.Einsum("ii->i", a));
        AssertError("not part of an ellipsis", () => Tensor.Einsum("i..j->ij", a));
        AssertError("more than one ellipsis", () => Tensor.Einsum("...i...->i", a));
        AssertError("operands must share a dtype", () => Tensor.Einsum("ij,jk", a, Tensor.Ones([3, 2], DType.Float64)), "float32", "float64");
        AssertError("more than the 2 dims", () => Tensor.Einsum("...ijk", a), "[2, 3]");
        Assert.Throws<ArgumentException>(() => Tensor.Einsum("ij"));
    }

    private static void AssertError(string fragment, Action act, params string[] more)
    {
        var e = Assert.Throws<ArgumentException>(act);
        Assert.Contains("Einsum \"", e.Message);
        Assert.Contains(fragment, e.Message);
        foreach (string m in more) Assert.Contains(m, e.Message);
    }
}
