using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Autograd;

/// <summary>Node classes are named FooNode; users still see PyTorch's "FooBackward" in grad_fn and in errors.</summary>
public class NodeNameTests
{
    public static TheoryData<string, Func<Tensor, Tensor>> Ops => new()
    {
        { "MulBackward", x => x * x },
        { "AddBackward", x => x + x },
        { "ReluBackward", x => x.Relu() },
        { "ExpBackward", x => x.Exp() },
        { "SumBackward", x => x.Sum() },
        { "SoftmaxBackward", x => x.Softmax(0) },
        { "MaxBackward", x => x.Max() },
        { "ClampBackward", x => x.Clamp(-1, 1) },
        { "CatBackward", x => Tensor.Cat([x, x]) },
        { "MseLossBackward", x => Functional.MseLoss(x, T.F64([0.0, 1.0, 2.0])) },
        { "CrossEntropyBackward", x => Functional.CrossEntropy(x, Tensor.Scalar(1, DType.Int64)) },
        { "BceWithLogitsBackward", x => Functional.BinaryCrossEntropyWithLogits(x, T.F64([0.0, 1.0, 1.0])) },
    };

    [Theory]
    [MemberData(nameof(Ops))]
    public void GradFn_HasThePyTorchStyleName(string expected, Func<Tensor, Tensor> op)
    {
        Tensor y = op(T.F64([0.5, -1.0, 2.0]).RequireGrad());
        Assert.Equal(expected, y.GradFn!.Name);
        Assert.Contains($"grad_fn={expected}", y.ToString());
    }

    [Fact]
    public void SavedTensorError_NamesTheNodeTheUserSees()
    {
        Tensor w = T.F64([1.0, 2.0]).RequireGrad();
        Tensor a = T.F64([3.0, 4.0]);
        Tensor y = (w * a).Sum(); // Mul saved a for dy/dw
        a.AddInPlace(T.F64([1.0, 1.0]));
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.StartsWith("MulBackward: ", e.Message);
    }
}
