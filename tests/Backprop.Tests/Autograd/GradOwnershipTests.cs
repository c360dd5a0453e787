using Backprop.Autograd;
using Backprop.NN;
using Backprop.Tensors;
using Backprop.Tests.Support;

namespace Backprop.Tests.Autograd;

/// <summary>
/// The engine stores a fresh gradient produced by a library backward as .Grad without copying;
/// every gradient anyone else could still hold is copied first, so later in-place accumulation
/// never shows through another reference.
/// </summary>
public class GradOwnershipTests
{
    [Fact]
    public void FreshGradient_IsStoredAndAccumulatedCorrectly()
    {
        Tensor x = T.Param(1, 4, 3);
        Tensor w = T.Param(2, 5, 3);
        Functional.Linear(x, w, null).Sum().Backward();
        double[] once = w.Grad!.ToDoubleArray();
        Functional.Linear(x, w, null).Sum().Backward(); // accumulates in place into the stored tensor
        T.Close(Array.ConvertAll(once, v => 2 * v), w.Grad!, 1e-12);
    }

    [Fact]
    public void GradientSharedByTwoInputs_IsCopiedForEach()
    {
        Tensor a = T.Param(1, 3), b = T.Param(2, 3);
        (a + b).Sum().Backward(); // AddBackward hands the same dy to both inputs
        Assert.NotSame(a.Grad!.Storage, b.Grad!.Storage);
        (a + b).Sum().Backward();
        T.Close([2, 2, 2], a.Grad!);
        T.Close([2, 2, 2], b.Grad!);
    }

    [Fact]
    public void UserGradient_PassedToBackward_IsNotAliased()
    {
        Tensor x = T.Param(1, 3);
        Tensor seed = T.F64([1.0, 2.0, 3.0]);
        (x * 1.0).Backward(seed);
        Assert.NotSame(seed.Storage, x.Grad!.Storage);
        (x * 1.0).Backward(seed);
        T.Close([1, 2, 3], seed); // the caller's tensor is untouched by accumulation
    }

    [Fact]
    public void LeafHook_KeepingTheGradient_SeesItUnchanged()
    {
        Tensor w = T.Param(2, 5, 3);
        Tensor x = T.Param(1, 4, 3);
        Tensor? kept = null;
        using (w.RegisterHook(g => { kept = g; return null; }))
            Functional.Linear(x, w, null).Sum().Backward();
        double[] first = kept!.ToDoubleArray();
        Functional.Linear(x, w, null).Sum().Backward();
        T.Close(first, kept!, 0);
    }

    private sealed class KeepsItsGradient : CustomFunction
    {
        public Tensor? Returned;
        protected override Tensor Forward(FunctionContext ctx, Tensor[] x) => x[0] * 2.0;
        protected override Tensor?[] Backward(FunctionContext ctx, Tensor dy) => [Returned = dy * 2.0];
    }

    [Fact]
    public void CustomFunction_KeepingItsReturnedGradient_SeesItUnchanged()
    {
        Tensor x = T.Param(1, 3);
        var f = new KeepsItsGradient();
        f.Apply(x).Sum().Backward();
        Tensor kept = f.Returned!;
        Assert.NotSame(kept.Storage, x.Grad!.Storage);
        f.Apply(x).Sum().Backward();
        T.Close([2, 2, 2], kept, 0);
        T.Close([4, 4, 4], x.Grad!, 0);
    }
}
